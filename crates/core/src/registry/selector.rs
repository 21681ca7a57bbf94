//! Labels (`env:prod`, `team=soc`) and label selectors, the one filter language of the
//! registry: the API's and console's fleet filters and policy rules all read it here.
//!
//! A selector is a comma-separated list of requirements, all of which must hold
//! (Kubernetes' grammar, with `:` accepted for equality as labels are written):
//!
//! | text | holds when |
//! |---|---|
//! | `env=prod`, `env==prod`, `env:prod` | the label `env` is `prod` |
//! | `env!=prod` | `env` is not `prod`, or the agent has no `env` label |
//! | `env in (prod,staging)` | `env` is one of the values |
//! | `env notin (dev)` | `env` is none of the values, or absent |
//! | `env` | the agent has an `env` label |
//! | `!env` | the agent has no `env` label |
//!
//! The empty selector matches every agent. Keys and values are lowercase on purpose:
//! matching is exact, and a rule written for `env=prod` must not miss an agent labelled
//! `env:Prod`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest label key or value.
pub const MAX_LABEL_LEN: usize = 63;

/// Why a label list or a selector was refused: the 0-based character position of the
/// fault and a message that says what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SelectorError {
    /// 0-based index of the character at fault (in characters, not bytes).
    pub position: usize,
    /// The whole explanation, position included (`expected ')' at position 14, found the end`).
    pub message: String,
}

impl SelectorError {
    fn at(position: usize, what: impl fmt::Display) -> Self {
        SelectorError {
            position,
            message: format!("{what} at position {position}"),
        }
    }

    fn expected(position: usize, expected: &str, found: Option<char>) -> Self {
        let found = match found {
            None => "the end".to_string(),
            Some(c) => shown(c),
        };
        SelectorError {
            position,
            message: format!("expected {expected} at position {position}, found {found}"),
        }
    }
}

/// A character as a message shows it: printable ones quoted, others by code point.
fn shown(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

/// Characters a key or value may hold; anything else ends the name when scanning.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

/// Checks a label key or value (`what`) that starts at character `start`.
fn check_name(what: &str, name: &str, start: usize) -> Result<(), SelectorError> {
    let len = name.chars().count();
    if len == 0 {
        return Err(SelectorError::at(start, format!("{what} is empty")));
    }
    if len > MAX_LABEL_LEN {
        return Err(SelectorError::at(
            start,
            format!("{what} '{name}' is {len} characters, at most {MAX_LABEL_LEN} are allowed"),
        ));
    }
    for (i, c) in name.chars().enumerate() {
        let fix = if c.is_ascii_uppercase() {
            "use lowercase"
        } else if !name_char(c) {
            "use lowercase letters, digits, '-', '_', '.' and '/'"
        } else if i == 0 && !c.is_ascii_alphanumeric() {
            "start with a letter or a digit"
        } else {
            continue;
        };
        return Err(SelectorError::at(
            start + i,
            format!("{what} '{name}' has {}; {fix}", shown(c)),
        ));
    }
    Ok(())
}

/// Reads labels as the console and API take them: `env:prod, team=soc`. Items are
/// separated by commas, each is `key:value` or `key=value`; empty items are skipped and
/// a key may appear once.
pub fn parse_labels(s: &str) -> Result<BTreeMap<String, String>, SelectorError> {
    let mut labels = BTreeMap::new();
    let mut start = 0;
    for item in s.split(',') {
        let item_len = item.chars().count();
        let lead = item.chars().take_while(|c| c.is_whitespace()).count();
        let text = item.trim();
        let at = start + lead;
        start += item_len + 1;
        if text.is_empty() {
            continue;
        }
        let Some(sep) = text.find([':', '=']) else {
            return Err(SelectorError::at(
                at,
                format!("label '{text}' should look like key:value or key=value"),
            ));
        };
        let (key, value) = (&text[..sep], &text[sep + 1..]);
        let value_at = at + key.chars().count() + 1;
        check_name("label key", key, at)?;
        check_name("label value", value, value_at)?;
        if labels.insert(key.to_string(), value.to_string()).is_some() {
            return Err(SelectorError::at(
                at,
                format!("label key '{key}' is given twice"),
            ));
        }
    }
    Ok(labels)
}

/// Checks labels given as a map (the API's `{"env": "prod"}`) by the same rules as
/// [`parse_labels`]; the error names the key or value at fault.
pub fn check_labels(labels: &BTreeMap<String, String>) -> Result<(), SelectorError> {
    for (key, value) in labels {
        check_name("label key", key, 0).map_err(|e| without_position(e, key))?;
        check_name("label value", value, 0).map_err(|e| without_position(e, value))?;
    }
    Ok(())
}

/// A map's key or value has no position in a text: the message names it instead.
fn without_position(e: SelectorError, name: &str) -> SelectorError {
    let message = match e.message.rsplit_once(" at position ") {
        Some((what, _)) => what.to_string(),
        None => e.message,
    };
    SelectorError {
        position: 0,
        message: if message.contains(name) {
            message
        } else {
            format!("{message} ('{name}')")
        },
    }
}

/// Reads one label key, as a "group by" input gives it (`env`).
pub fn parse_label_key(s: &str) -> Result<String, SelectorError> {
    let lead = s.chars().take_while(|c| c.is_whitespace()).count();
    let key = s.trim();
    check_name("label key", key, lead)?;
    Ok(key.to_string())
}

/// One condition of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Requirement {
    Equals {
        key: String,
        value: String,
    },
    NotEquals {
        key: String,
        value: String,
    },
    In {
        key: String,
        values: BTreeSet<String>,
    },
    NotIn {
        key: String,
        values: BTreeSet<String>,
    },
    Exists {
        key: String,
    },
    NotExists {
        key: String,
    },
}

impl Requirement {
    pub fn key(&self) -> &str {
        match self {
            Requirement::Equals { key, .. }
            | Requirement::NotEquals { key, .. }
            | Requirement::In { key, .. }
            | Requirement::NotIn { key, .. }
            | Requirement::Exists { key }
            | Requirement::NotExists { key } => key,
        }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let got = labels.get(self.key());
        match self {
            Requirement::Equals { value, .. } => got == Some(value),
            Requirement::NotEquals { value, .. } => got != Some(value),
            Requirement::In { values, .. } => got.is_some_and(|v| values.contains(v)),
            Requirement::NotIn { values, .. } => !got.is_some_and(|v| values.contains(v)),
            Requirement::Exists { .. } => got.is_some(),
            Requirement::NotExists { .. } => got.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |values: &BTreeSet<String>| {
            values
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Requirement::Equals { key, value } => write!(f, "{key}={value}"),
            Requirement::NotEquals { key, value } => write!(f, "{key}!={value}"),
            Requirement::In { key, values } => write!(f, "{key} in ({})", set(values)),
            Requirement::NotIn { key, values } => write!(f, "{key} notin ({})", set(values)),
            Requirement::Exists { key } => f.write_str(key),
            Requirement::NotExists { key } => write!(f, "!{key}"),
        }
    }
}

/// A parsed label selector: requirements that must all hold. Its text form
/// ([`fmt::Display`], and serde) is canonical: requirements sorted by key, then by text,
/// without duplicates, `=` for equality, set values sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// Reads a selector; the error names the position of the fault and what was expected.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let mut p = Parser {
            chars: s.chars().collect(),
            i: 0,
        };
        let mut requirements = Vec::new();
        p.skip_ws();
        if p.peek().is_none() {
            return Ok(Selector::default());
        }
        loop {
            requirements.push(p.requirement()?);
            p.skip_ws();
            match p.peek() {
                None => break,
                Some(',') => p.i += 1,
                found => {
                    return Err(SelectorError::expected(
                        p.i,
                        "',' or the end of the selector",
                        found,
                    ));
                }
            }
        }
        requirements.sort_by_cached_key(|r| (r.key().to_string(), r.to_string()));
        requirements.dedup();
        Ok(Selector { requirements })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the selector matches every agent.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, SelectorError> {
        Selector::parse(s)
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Selector::parse(&text).map_err(|e| serde::de::Error::custom(format!("selector: {e}")))
    }
}

impl utoipa::PartialSchema for Selector {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A label selector: comma-separated requirements that must all hold: \
                 `key=value` (or `key:value`, `key==value`), `key!=value`, `key in (a,b)`, \
                 `key notin (a,b)`, `key`, `!key`. Empty matches everything.",
            ))
            .examples([serde_json::json!("env=prod,team in (soc,ir)")])
            .into()
    }
}

impl utoipa::ToSchema for Selector {}

/// A cursor over the selector's characters, so positions are character positions.
struct Parser {
    chars: Vec<char>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    /// A key or value (`what`): the longest run of name characters, then checked.
    fn name(&mut self, what: &str) -> Result<String, SelectorError> {
        let start = self.i;
        while self.peek().is_some_and(name_char) {
            self.i += 1;
        }
        if self.i == start {
            return Err(SelectorError::expected(start, what, self.peek()));
        }
        let name: String = self.chars[start..self.i].iter().collect();
        check_name(what, &name, start)?;
        Ok(name)
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        self.skip_ws();
        if self.peek() == Some('!') {
            self.i += 1;
            self.skip_ws();
            let key = self.name("a label key")?;
            return Ok(Requirement::NotExists { key });
        }
        let key = self.name("a label key")?;
        self.skip_ws();
        let op_at = self.i;
        match self.peek() {
            None | Some(',') => Ok(Requirement::Exists { key }),
            Some(':') => {
                self.i += 1;
                let value = self.value()?;
                Ok(Requirement::Equals { key, value })
            }
            Some('=') => {
                self.i += 1;
                if self.peek() == Some('=') {
                    self.i += 1;
                }
                let value = self.value()?;
                Ok(Requirement::Equals { key, value })
            }
            Some('!') if self.chars.get(self.i + 1) == Some(&'=') => {
                self.i += 2;
                let value = self.value()?;
                Ok(Requirement::NotEquals { key, value })
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let word: String = self.chars[self.i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                match word.as_str() {
                    "in" | "notin" => {
                        self.i += word.len();
                        let values = self.set()?;
                        Ok(match word.as_str() {
                            "in" => Requirement::In { key, values },
                            _ => Requirement::NotIn { key, values },
                        })
                    }
                    _ => Err(SelectorError::at(
                        op_at,
                        format!(
                            "expected ':', '=', '==', '!=', 'in', 'notin', ',' or the end after the key '{key}', found '{word}'"
                        ),
                    )),
                }
            }
            found => Err(SelectorError::expected(
                op_at,
                &format!(
                    "':', '=', '==', '!=', 'in', 'notin', ',' or the end after the key '{key}'"
                ),
                found,
            )),
        }
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        self.skip_ws();
        self.name("a label value")
    }

    /// `( value, value, ... )`, at least one value.
    fn set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(SelectorError::expected(self.i, "'('", self.peek()));
        }
        self.i += 1;
        let mut values = BTreeSet::new();
        loop {
            values.insert(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.i += 1,
                Some(')') => {
                    self.i += 1;
                    return Ok(values);
                }
                found => return Err(SelectorError::expected(self.i, "',' or ')'", found)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> Selector {
        Selector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn labels_take_either_separator_and_skip_empty_items() {
        assert_eq!(
            parse_labels(" env:prod, team=soc ,, region:us-east-1,").unwrap(),
            labels(&[("env", "prod"), ("team", "soc"), ("region", "us-east-1")])
        );
        assert_eq!(
            parse_labels("app.kubernetes.io/name:triage_bot").unwrap(),
            labels(&[("app.kubernetes.io/name", "triage_bot")])
        );
        assert!(parse_labels("").unwrap().is_empty());
        assert!(parse_labels(" , ").unwrap().is_empty());
    }

    #[test]
    fn bad_labels_say_what_to_fix_and_where() {
        let long = format!("env:{}", "x".repeat(64));
        for (input, position, says) in [
            ("env", 0, "should look like key:value or key=value"),
            ("env:prod, team", 10, "should look like key:value"),
            (":prod", 0, "label key is empty"),
            ("env:", 4, "label value is empty"),
            ("env:prod,env=dev", 9, "label key 'env' is given twice"),
            ("Env:prod", 0, "has 'E'; use lowercase"),
            ("env:Prod", 4, "has 'P'; use lowercase"),
            ("env:pr od", 6, "has U+0020"),
            ("env:a:b", 5, "has ':'"),
            ("-env:prod", 0, "start with a letter or a digit"),
            ("env:<b>", 4, "has '<'"),
            ("é:x", 0, "has 'é'"),
            (long.as_str(), 4, "64 characters, at most 63"),
        ] {
            let e = parse_labels(input).unwrap_err();
            assert_eq!(e.position, position, "{input:?}: {e}");
            assert!(e.message.contains(says), "{input:?}: {e}");
            assert!(
                e.message.contains(&format!("at position {position}")),
                "{input:?}: {e}"
            );
        }
        assert!(parse_labels(&format!("env:{}", "x".repeat(63))).is_ok());
    }

    #[test]
    fn a_group_by_key_is_one_valid_key() {
        assert_eq!(parse_label_key(" env ").unwrap(), "env");
        assert_eq!(parse_label_key("app.io/team").unwrap(), "app.io/team");
        for (input, position, says) in [
            ("", 0, "label key is empty"),
            ("  ", 2, "label key is empty"),
            ("Env", 0, "use lowercase"),
            (" env:prod", 4, "has ':'"),
            ("env,team", 3, "has ','"),
        ] {
            let e = parse_label_key(input).unwrap_err();
            assert_eq!(e.position, position, "{input:?}: {e}");
            assert!(e.message.contains(says), "{input:?}: {e}");
        }
    }

    #[test]
    fn every_form_parses_to_its_requirement() {
        let eq = Requirement::Equals {
            key: "env".into(),
            value: "prod".into(),
        };
        for s in [
            "env=prod",
            "env==prod",
            "env:prod",
            "  env = prod ",
            "env : prod",
        ] {
            assert_eq!(sel(s).requirements(), std::slice::from_ref(&eq), "{s}");
        }
        assert_eq!(
            sel("env != prod").requirements(),
            [Requirement::NotEquals {
                key: "env".into(),
                value: "prod".into()
            }]
        );
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            sel("env in (staging, prod)").requirements(),
            [Requirement::In {
                key: "env".into(),
                values: set(&["prod", "staging"])
            }]
        );
        assert_eq!(
            sel("env notin(dev)").requirements(),
            [Requirement::NotIn {
                key: "env".into(),
                values: set(&["dev"])
            }]
        );
        assert_eq!(
            sel("env").requirements(),
            [Requirement::Exists { key: "env".into() }]
        );
        assert_eq!(
            sel("! env").requirements(),
            [Requirement::NotExists { key: "env".into() }]
        );
        // A key may be named like a keyword.
        assert_eq!(
            sel("in in (in)").requirements(),
            [Requirement::In {
                key: "in".into(),
                values: set(&["in"])
            }]
        );
    }

    #[test]
    fn matching_follows_kubernetes_semantics() {
        let prod = labels(&[("env", "prod"), ("team", "soc")]);
        let dev = labels(&[("env", "dev")]);
        let none = labels(&[]);
        for (s, want_prod, want_dev, want_none) in [
            ("", true, true, true),
            ("env=prod", true, false, false),
            ("env!=prod", false, true, true),
            ("env in (prod,staging)", true, false, false),
            ("env notin (prod)", false, true, true),
            ("env", true, true, false),
            ("!env", false, false, true),
            ("team", true, false, false),
            ("!team", false, true, true),
            ("env=prod,team=soc", true, false, false),
            ("env=prod,team=ir", false, false, false),
            ("env,!team", false, true, false),
            ("env=prod,env=dev", false, false, false),
        ] {
            let s_ = sel(s);
            assert_eq!(s_.matches(&prod), want_prod, "{s} on prod");
            assert_eq!(s_.matches(&dev), want_dev, "{s} on dev");
            assert_eq!(s_.matches(&none), want_none, "{s} on no labels");
        }
        // Case matters, and keys/values are lowercase by rule: `Prod` is refused, not ignored.
        assert!(Selector::parse("env=Prod").is_err());
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        for (input, canonical) in [
            ("", ""),
            ("   ", ""),
            ("env:prod", "env=prod"),
            ("team == soc , env:prod", "env=prod,team=soc"),
            ("env in ( staging ,prod, prod )", "env in (prod,staging)"),
            ("!b, a notin (y,x), a", "a,a notin (x,y),!b"),
            ("env:prod,env=prod,env==prod", "env=prod"),
            ("x!=1", "x!=1"),
        ] {
            let s = sel(input);
            assert_eq!(s.to_string(), canonical, "{input:?}");
            assert_eq!(sel(canonical), s, "{canonical:?}");
            assert_eq!(sel(&s.to_string()).to_string(), canonical);
        }
    }

    #[test]
    fn serde_carries_the_canonical_text() {
        let s = sel("team:soc, env in (prod)");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#""env in (prod),team=soc""#);
        assert_eq!(serde_json::from_str::<Selector>(&json).unwrap(), s);
        let e = serde_json::from_str::<Selector>(r#""env in (prod""#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("selector: expected ',' or ')' at position 12"),
            "{e}"
        );
        // The OpenAPI document states what serde carries: a string.
        let schema = serde_json::to_value(<Selector as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string", "{schema}");
    }

    #[test]
    fn every_malformed_selector_names_its_position_and_what_was_expected() {
        for (input, position, says) in [
            (",", 0, "expected a label key at position 0, found ','"),
            (
                "env=prod,",
                9,
                "expected a label key at position 9, found the end",
            ),
            (
                "env=prod,,a",
                9,
                "expected a label key at position 9, found ','",
            ),
            (
                "env=",
                4,
                "expected a label value at position 4, found the end",
            ),
            ("env==", 5, "expected a label value at position 5"),
            (
                "env===prod",
                5,
                "expected a label value at position 5, found '='",
            ),
            (
                "env!prod",
                3,
                "expected ':', '=', '==', '!=', 'in', 'notin', ',' or the end after the key 'env' at position 3, found '!'",
            ),
            (
                "env prod",
                4,
                "after the key 'env', found 'prod' at position 4",
            ),
            ("env in prod", 7, "expected '(' at position 7, found 'p'"),
            ("env in", 6, "expected '(' at position 6, found the end"),
            (
                "env in ()",
                8,
                "expected a label value at position 8, found ')'",
            ),
            (
                "env in (prod",
                12,
                "expected ',' or ')' at position 12, found the end",
            ),
            (
                "env in (prod staging)",
                13,
                "expected ',' or ')' at position 13, found 's'",
            ),
            (
                "env in (prod,)",
                13,
                "expected a label value at position 13, found ')'",
            ),
            (
                "env notin (a) b",
                14,
                "expected ',' or the end of the selector at position 14, found 'b'",
            ),
            (
                "env=prod)",
                8,
                "expected ',' or the end of the selector at position 8, found ')'",
            ),
            ("!", 1, "expected a label key at position 1, found the end"),
            ("!!env", 1, "expected a label key at position 1, found '!'"),
            (
                "!env=prod",
                4,
                "expected ',' or the end of the selector at position 4, found '='",
            ),
            ("=prod", 0, "expected a label key at position 0, found '='"),
            (
                "Env=prod",
                0,
                "label key 'Env' has 'E'; use lowercase at position 0",
            ),
            (
                "env=pRod",
                5,
                "label value 'pRod' has 'R'; use lowercase at position 5",
            ),
            ("env=-x", 4, "start with a letter or a digit at position 4"),
            ("énv=x", 0, "expected a label key at position 0, found 'é'"),
            ("env=x\u{7}", 5, "found U+0007"),
            (
                "env=a b",
                6,
                "expected ',' or the end of the selector at position 6, found 'b'",
            ),
            (
                "env in (a;b)",
                9,
                "expected ',' or ')' at position 9, found ';'",
            ),
        ] {
            let e = Selector::parse(input).unwrap_err();
            assert_eq!(e.position, position, "{input:?}: {e}");
            assert!(e.to_string().contains(says), "{input:?}: {e}");
        }
        let long = format!("env={}", "v".repeat(64));
        let e = Selector::parse(&long).unwrap_err();
        assert_eq!(e.position, 4);
        assert!(e.message.contains("64 characters, at most 63"), "{e}");
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        // U+00A0 is whitespace of two bytes: the fault after it is at character 9, not byte 10.
        let e = Selector::parse("\u{a0}env=prod)").unwrap_err();
        assert_eq!(e.position, 9, "{e}");
        let e = parse_labels("\u{a0}env:prod, Env:x").unwrap_err();
        assert_eq!(e.position, 11, "{e}");
    }

    proptest::proptest! {
        /// Any text either parses to a selector whose canonical text parses back to it,
        /// or is refused at a position inside (or just past) the text; nothing panics.
        #[test]
        fn any_text_round_trips_or_is_refused_in_range(s in "[a-c!=:(), in\u{e9}\u{a0}]{0,30}") {
            match Selector::parse(&s) {
                Ok(sel) => proptest::prop_assert_eq!(Selector::parse(&sel.to_string()).unwrap(), sel),
                Err(e) => proptest::prop_assert!(e.position <= s.chars().count(), "{:?}: {}", s, e),
            }
            if let Err(e) = parse_labels(&s) {
                proptest::prop_assert!(e.position <= s.chars().count(), "{:?}: {}", s, e);
            }
        }
    }
}
