//! Secret values: zeroized on drop and redacted from `Debug`, so a stray `{:?}` in a log
//! line cannot print one.

use std::collections::BTreeMap;
use std::fmt;

use zeroize::Zeroizing;

/// A secret string.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(Zeroizing::new(s.into()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A connector instance's decrypted credentials, by field name.
#[derive(Clone, Default)]
pub struct Credentials(pub BTreeMap<String, Secret>);

impl Credentials {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(Secret::expose)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
