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

/// The pairs of a query string as a browser's form writes it: `+` is a space, `%XX` a
/// byte (a value that is not UTF-8 is read lossily).
pub fn query_pairs(search: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A query string (without `?`) of the pairs whose value is not empty.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{}={}", query_value(k), query_value(v)))
        .collect::<Vec<_>>()
        .join("&")
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
    fn query_strings_are_read_as_forms_write_them() {
        let pairs = super::query_pairs(
            "?q=ws-042+corp&selector=team+in+%28soc%2Cir%29&x=%2B1&bad=%G1&end=%4",
        );
        let want = [
            ("q", "ws-042 corp"),
            ("selector", "team in (soc,ir)"),
            ("x", "+1"),
            ("bad", "%G1"),
            ("end", "%4"),
        ];
        let got: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            super::query_string(got.iter().copied().chain([("empty", " ")])),
            "q=ws-042%20corp&selector=team%20in%20%28soc%2Cir%29&x=%2B1&bad=%25G1&end=%254"
        );
        assert_eq!(super::query_pairs(""), vec![]);
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
