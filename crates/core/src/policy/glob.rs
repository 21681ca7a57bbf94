//! Globs for connector and operation names: `*` matches any run of characters, every
//! other character matches itself (`hosts:*`, `*:read`, `crowd*`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Glob {
    source: String,
    /// The literal pieces between `*`s.
    parts: Vec<String>,
}

impl Glob {
    /// Parses a glob; the error names the position of the first bad character.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("is empty; use * to match anything".into());
        }
        if let Some((i, c)) = s
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || "*:_-.".contains(*c)))
        {
            return Err(format!(
                "has '{c}' at position {}; use letters, digits, ':', '_', '-', '.' and '*'",
                i + 1
            ));
        }
        Ok(Glob {
            source: s.to_string(),
            parts: s.split('*').map(String::from).collect(),
        })
    }

    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.parts.split_first() {
            Some(p) => p,
            None => return text.is_empty(),
        };
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return remaining.is_empty();
        };
        for part in middle {
            match remaining.find(part.as_str()) {
                Some(i) => remaining = &remaining[i + part.len()..],
                None => return false,
            }
        }
        remaining.len() >= last.len() && remaining.ends_with(last.as_str())
    }

    /// The literal text this glob matches, when it has no `*`.
    pub fn literal(&self) -> Option<&str> {
        (self.parts.len() == 1).then_some(self.source.as_str())
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl TryFrom<String> for Glob {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Glob::parse(&s)
    }
}

impl From<Glob> for String {
    fn from(g: Glob) -> String {
        g.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A plain recursive matcher to check the fast one against.
    fn reference(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    #[test]
    fn examples() {
        let g = |s| Glob::parse(s).unwrap();
        assert!(g("hosts:*").matches("hosts:write"));
        assert!(!g("hosts:*").matches("detections:read"));
        assert!(g("*:read").matches("detections:read"));
        assert!(g("*").matches(""));
        assert!(
            g("a*b*c").matches("abc")
                && g("a*b*c").matches("axxbyyc")
                && !g("a*b*c").matches("acb")
        );
        assert!(!g("aa*aa").matches("aaa") && g("aa*aa").matches("aaaa"));
        assert_eq!(g("crowdstrike").literal(), Some("crowdstrike"));
        assert!(
            Glob::parse("hosts:w rite")
                .unwrap_err()
                .contains("position 8")
        );
        assert!(Glob::parse("").is_err());
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(p in "[ab*:]{0,8}", t in "[ab:]{0,10}") {
            prop_assume!(!p.is_empty());
            let g = Glob::parse(&p).unwrap();
            prop_assert_eq!(g.matches(&t), reference(p.as_bytes(), t.as_bytes()), "{} ~ {}", p, t);
        }
    }
}
