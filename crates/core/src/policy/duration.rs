//! Durations as people write them in policy: `4h`, `15m`, `90s`, `1h30m`, `2d`, or a
//! number of seconds.

/// Parses a duration into seconds.
pub fn parse(s: &str) -> Result<u32, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return Ok(n);
    }
    let bad = || format!("'{s}' is not a duration; write e.g. 4h, 15m, 90s or 1h30m");
    let (mut total, mut num) = (0u64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = num.parse().map_err(|_| bad())?;
        total += n * unit;
        num.clear();
    }
    if !num.is_empty() || s.is_empty() {
        return Err(bad());
    }
    u32::try_from(total).map_err(|_| bad())
}

/// Formats seconds in the largest unit that divides them (`14400` → `4h`).
pub fn format(secs: u32) -> String {
    for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm')] {
        if secs != 0 && secs.is_multiple_of(unit) {
            return format!("{}{name}", secs / unit);
        }
    }
    format!("{secs}s")
}

/// `Option<u32>` seconds, read from a duration string or a number, written as a string.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(secs) => s.serialize_str(&super::format(*secs)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Secs(u32),
            Text(String),
        }
        match Option::<Form>::deserialize(d)? {
            None => Ok(None),
            Some(Form::Secs(n)) => Ok(Some(n)),
            Some(Form::Text(t)) => super::parse(&t).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_write() {
        assert_eq!(parse("4h"), Ok(14_400));
        assert_eq!(parse("1h30m"), Ok(5_400));
        assert_eq!(parse("90"), Ok(90));
        assert!(parse("4 hours").is_err() && parse("h").is_err() && parse("4").is_ok());
        assert_eq!(format(14_400), "4h");
        assert_eq!(format(5_400), "90m");
        assert_eq!(format(45), "45s");
    }
}
