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

#[cfg(test)]
mod tests {
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
