//! How the console writes numbers: with separators between thousands, so `420413/min`
//! reads as `420,413/min`.

/// The integer `n` with a comma between each group of three digits.
pub fn count(n: impl std::fmt::Display) -> String {
    let text = n.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", text.as_str()),
    };
    let mut out = String::with_capacity(text.len() + digits.len() / 3);
    out.push_str(sign);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `s` as a URL query value: everything but unreserved characters percent-encoded.
pub fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            super::query_value("team in (soc,ir)"),
            "team%20in%20%28soc%2Cir%29"
        );
        assert_eq!(super::query_value("env=prod"), "env%3Dprod");
    }

    #[test]
    fn thousands_are_separated() {
        for (n, s) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1,000"),
            (420413, "420,413"),
            (-1234567, "-1,234,567"),
        ] {
            assert_eq!(super::count(n), s);
        }
    }
}
