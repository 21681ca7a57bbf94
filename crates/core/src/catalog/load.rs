//! Loading connector files: parse each YAML file, validate it, and gather every file's
//! problems before failing, so one start shows everything to fix.

use std::collections::BTreeMap;

use super::model::Connector;
use super::validate::{Problem, check};
use crate::error::CoreError;

/// All connectors, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    connectors: BTreeMap<String, Connector>,
}

impl Catalog {
    /// Parses connector files given as `(file name, YAML text)`. Every file is read and
    /// checked; the error lists the problems of all of them, one per line.
    pub fn from_sources<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CoreError> {
        let mut connectors = BTreeMap::new();
        let mut problems = Vec::new();
        for (file, text) in files {
            let c: Connector = match serde_norway::from_str(text) {
                Ok(c) => c,
                Err(e) => {
                    // A file that does not parse has no model to check further.
                    problems.push(Problem::unparsed(file, e.to_string()));
                    continue;
                }
            };
            let found = check(file, &c);
            if !found.is_empty() {
                problems.extend(found);
                continue;
            }
            if connectors.contains_key(&c.name) {
                problems.push(Problem::new(
                    file,
                    &c.name,
                    None,
                    "name",
                    format!("duplicate connector '{}'", c.name),
                ));
                continue;
            }
            connectors.insert(c.name.clone(), c);
        }
        if !problems.is_empty() {
            return Err(CoreError::Catalog(Problem::join(&problems)));
        }
        Ok(Catalog { connectors })
    }

    /// The catalog compiled into the binary from `connectors/`.
    pub fn builtin() -> Result<Self, CoreError> {
        Self::from_sources(BUILTIN.iter().copied())
    }

    pub fn get(&self, name: &str) -> Option<&Connector> {
        self.connectors.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.connectors.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Connector> {
        self.connectors.values()
    }
}

include!(concat!(env!("OUT_DIR"), "/builtin_connectors.rs"));
