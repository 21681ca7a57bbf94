//! What a name and an email may be, checked once for every way in (the admin API, the
//! console, the CLI), with messages that say what to fix. Names end up in URLs, logs,
//! Slack messages and the audit trail: they keep to letters, digits and a few marks.

use crate::error::CoreError;

/// A name (of an agent, a connector instance) in the input `field`: 1 to 64 characters, letters, digits,
/// spaces, `-`, `_` and `.`, starting with a letter or digit. The OpenAPI schemas state
/// the same as [`NAME_PATTERN`].
pub fn name(field: &'static str, what: &str, raw: &str) -> Result<String, CoreError> {
    let s = raw.trim();
    let bad = |why: String| {
        Err(CoreError::InvalidField {
            field,
            message: format!("{what} {why}"),
        })
    };
    let count = s.chars().count();
    if count == 0 || count > 64 {
        return bad(format!("must be 1 to 64 characters, not {count}"));
    }
    if !s.starts_with(|c: char| c.is_alphanumeric()) {
        return bad("must start with a letter or a digit".into());
    }
    if let Some(c) = s
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')))
    {
        return bad(format!(
            "may use letters, digits, spaces, '-', '_' and '.'; {} is not allowed",
            shown(c)
        ));
    }
    Ok(s.to_string())
}

/// The pattern [`name`] accepts, as the API's schemas state it.
pub const NAME_PATTERN: &str = r"^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$";

/// An email address, lower-cased: one `@`, a local part, and a domain with a dot, no
/// spaces, at most 254 characters.
pub fn email(field: &'static str, what: &str, raw: &str) -> Result<String, CoreError> {
    let s = raw.trim().to_lowercase();
    let fix = || {
        Err(CoreError::InvalidField {
            field,
            message: format!("{what} must be an email address like name@example.com"),
        })
    };
    let Some((local, domain)) = s.split_once('@') else {
        return fix();
    };
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if s.len() > 254
        || local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || !labels_ok
        || s.contains(|c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
    {
        return fix();
    }
    Ok(s)
}

/// A character as a message shows it: printable ones quoted, others by code point.
fn shown(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_to_letters_digits_and_a_few_marks() {
        for ok in ["triage-bot", "okta prod", "Zürich_2.eu", "7th"] {
            assert_eq!(name("name", "the name", ok).unwrap(), ok);
        }
        assert_eq!(name("name", "the name", "  padded  ").unwrap(), "padded");
        for (bad, says) in [
            ("bad name!! <b>x</b>", "'!' is not allowed"),
            ("", "1 to 64 characters"),
            ("-leading", "start with a letter or a digit"),
            ("tab\there", "U+0009 is not allowed"),
            (&"x".repeat(65), "1 to 64 characters, not 65"),
        ] {
            let e = name("name", "the agent name", bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
            assert!(e.contains("the agent name"), "{e}");
        }
    }

    #[test]
    fn the_documented_pattern_accepts_what_the_check_accepts() {
        let re = regex::Regex::new(NAME_PATTERN).unwrap();
        for s in [
            "triage-bot",
            "okta prod",
            "Zürich_2.eu",
            "a",
            "bad!",
            "-x",
            "a<b>",
            &"y".repeat(64),
            &"y".repeat(65),
        ] {
            assert_eq!(re.is_match(s), name("name", "n", s).is_ok(), "{s:?}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            email("owner", "owner", " SecOps@Example.COM ").unwrap(),
            "secops@example.com"
        );
        for bad in [
            "a@b",
            "ab",
            "@example.com",
            "a@@example.com",
            "a b@example.com",
            "a@example..com",
            "<a>@example.com",
            "a@-example.com",
        ] {
            let e = email("owner", "owner", bad).unwrap_err().to_string();
            assert!(e.contains("like name@example.com"), "{bad}: {e}");
        }
    }
}
