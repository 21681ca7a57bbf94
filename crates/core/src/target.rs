//! Where a call may go: instance variables are checked by type, path params cannot climb
//! out of their segment, and (unless local targets are allowed) every address a target
//! name resolves to must be public, checked at the moment of connecting.
//!
//! Local targets (plain `http`, loopback, private and link-local addresses) are allowed
//! only when the server is started with `--allow-local-targets` (`--demo` and tests set
//! it): a malicious admin or a poisoned instance must not turn ARX's credentials and
//! network position against the internal network or the cloud metadata endpoint.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::catalog::{Connector, VariableKind};

/// Why a value cannot be used in a target's URL.
pub type Refused = String;

/// Checks one instance variable's value against its declared type.
pub fn check_variable(
    name: &str,
    kind: VariableKind,
    value: &str,
    allow_local: bool,
) -> Result<(), Refused> {
    let why = match kind {
        VariableKind::Scheme => match value {
            "https" => return Ok(()),
            "http" if allow_local => return Ok(()),
            "http" => "must be https (plain http only when the server allows local targets)",
            _ => "must be https",
        },
        VariableKind::Host => match check_host(value, allow_local) {
            Ok(()) => return Ok(()),
            Err(why) => why,
        },
        VariableKind::Segment => match check_segment(value) {
            Ok(()) => return Ok(()),
            Err(why) => why,
        },
    };
    Err(format!("variable '{name}' {why} (got '{}')", shown(value)))
}

/// Checks every variable the connector declares, with its default where unset.
pub fn check_variables(
    connector: &Connector,
    given: &std::collections::BTreeMap<String, String>,
    allow_local: bool,
) -> Result<(), Refused> {
    for (name, var) in &connector.variables {
        if let Some(v) = given.get(name).or(var.default.as_ref()) {
            check_variable(name, var.kind, v, allow_local)?;
        }
    }
    Ok(())
}

/// A value as echoed in an error: short, printable.
fn shown(v: &str) -> String {
    v.chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A hostname, an IPv4 address or a bracketed IPv6 address, with an optional port.
fn check_host(value: &str, allow_local: bool) -> Result<(), &'static str> {
    const SHAPE: &str = "must be a hostname with an optional port (like api.example.com or api.example.com:8089), nothing else";
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or(SHAPE)?;
        h.parse::<Ipv6Addr>().map_err(|_| SHAPE)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(SHAPE)?),
        };
        (h, port)
    } else {
        match value.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (value, None),
        }
    };
    if let Some(p) = port
        && !(p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0))
    {
        return Err(SHAPE);
    }
    let is_v6 = value.starts_with('[');
    if !is_v6 {
        let labels_ok = !host.is_empty()
            && host.len() <= 253
            && host.trim_end_matches('.').split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !labels_ok {
            return Err(SHAPE);
        }
    }
    if allow_local {
        return Ok(());
    }
    // What a URL parser makes of it (`2130706433` and `0x7f.1` are 127.0.0.1 to it).
    let parsed = reqwest::Url::parse(&format!("https://{value}/")).map_err(|_| SHAPE)?;
    let local = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => true,
    };
    if local {
        return Err(
            "is a local address (loopback, private or link-local); start the server with --allow-local-targets to allow it",
        );
    }
    Ok(())
}

/// One path segment: not empty, not `.` or `..`, none of `/ \ ? # @ % :`, no whitespace.
fn check_segment(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || value == "." || value == ".." {
        return Err("must be a single path segment (not empty, '.' or '..')");
    }
    if value
        .chars()
        .any(|c| "/\\?#@%:".contains(c) || c.is_whitespace() || c.is_control())
    {
        return Err("must be a single path segment, without / \\ ? # @ % : or spaces");
    }
    Ok(())
}

/// Why a path param's value (or an `in: each` item) would leave its path segment, if it
/// would: empty, `.` or `..`, in any encoding (percent-encoded, several times over, or as
/// overlong UTF-8), alone or as a part between slashes.
pub fn path_segment_refusal(value: &str) -> Option<&'static str> {
    let mut bytes = value.as_bytes().to_vec();
    // Decode until nothing changes (bounded: each pass shortens the value).
    for _ in 0..8 {
        let next = percent_decode(&bytes);
        if next == bytes {
            break;
        }
        bytes = next;
    }
    // Fullwidth dots are folded to '.' by some servers' Unicode normalisation.
    let text = overlong_dots(&bytes)
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned())
        .replace('\u{ff0e}', ".");
    if text.trim().is_empty() {
        return Some("must not be empty");
    }
    if text
        .split(['/', '\\'])
        .any(|part| matches!(part.trim(), "." | ".."))
    {
        return Some("must not be '.' or '..' (in any encoding): it would leave its path segment");
    }
    None
}

/// The overlong UTF-8 forms of `.` and `/` (`C0 AE`, `C0 AF`) some servers still decode.
fn overlong_dots(bytes: &[u8]) -> Option<String> {
    if !bytes.windows(2).any(|w| w[0] == 0xC0 || w[0] == 0xE0) {
        return None;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match &bytes[i..] {
            [0xC0, 0xAE, ..] => (out.push('.'), i += 2).1,
            [0xC0, 0xAF, ..] => (out.push('/'), i += 2).1,
            [0xE0, 0x80, 0xAE, ..] => (out.push('.'), i += 3).1,
            [b, ..] => (out.push(char::from(*b)), i += 1).1,
            [] => break,
        }
    }
    Some(out)
}

fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Whether an address is on the public internet: not loopback, private, link-local
/// (the cloud metadata endpoint), shared, documentation, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Refusal of a name that resolves to a non-public address; found again in the error chain
/// so the recorded error says why.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0} resolves to a local address (loopback, private or link-local)")]
pub struct LocalAddressRefused(pub String);

/// A DNS resolver for the executor's client: when local targets are not allowed, a name
/// with any non-public address is refused. The client connects to the addresses returned
/// here, so what was checked is what is connected to (no DNS rebinding in between).
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_local: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_local && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(Box::new(LocalAddressRefused(host)) as _);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver to give a `reqwest` client.
pub fn resolver(allow_local: bool) -> Arc<GuardedResolver> {
    Arc::new(GuardedResolver { allow_local })
}

/// Checks a URL about to be requested: `https` (or `http` when local targets are allowed),
/// and an IP literal host must be public (names are checked by [`GuardedResolver`]).
pub fn check_url(url: &str, allow_local: bool) -> Result<(), Refused> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("the target URL is not valid: {e}"))?;
    if allow_local {
        return Ok(());
    }
    if parsed.scheme() != "https" {
        return Err(format!(
            "refused: the target URL must use https, not {} (start the server with --allow-local-targets for local targets)",
            parsed.scheme()
        ));
    }
    let local = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => false,
        None => true,
    };
    if local {
        return Err(format!(
            "refused: {} is a local address (loopback, private or link-local)",
            parsed.host_str().unwrap_or("")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_hostnames_and_ports_only() {
        for ok in [
            "api.example.com",
            "api.example.com:8089",
            "a-b.c",
            "8.8.8.8:443",
        ] {
            assert!(check_host(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "evil.com/x",
            "evil.com?x",
            "evil.com#x",
            "user@evil.com",
            "evil.com:99999",
            "evil.com:",
            "a b.com",
            "-a.com",
            "evil.com:80/x",
            "[::1]x",
        ] {
            assert!(check_host(bad, true).is_err(), "{bad}");
        }
        for local in [
            "localhost",
            "127.0.0.1:8089",
            "2130706433",
            "0x7f.1",
            "169.254.169.254",
            "10.0.0.1",
            "192.168.1.1:443",
            "[::1]:443",
            "[fd00::1]",
            "[::ffff:127.0.0.1]",
            "100.64.0.1",
        ] {
            assert!(check_host(local, false).is_err(), "{local}");
            assert!(check_host(local, true).is_ok(), "{local}");
        }
    }

    #[test]
    fn schemes_and_segments() {
        assert!(check_variable("scheme", VariableKind::Scheme, "https", false).is_ok());
        assert!(check_variable("scheme", VariableKind::Scheme, "http", false).is_err());
        assert!(check_variable("scheme", VariableKind::Scheme, "http", true).is_ok());
        assert!(check_variable("scheme", VariableKind::Scheme, "file", true).is_err());
        for bad in ["", ".", "..", "a/b", "a?b", "a#b", "a%2fb", "a b", "x@y"] {
            let e = check_variable("tenant_id", VariableKind::Segment, bad, true).unwrap_err();
            assert!(e.contains("tenant_id"), "{e}");
        }
        assert!(check_variable("tenant_id", VariableKind::Segment, "a-b_c.d", false).is_ok());
    }

    #[test]
    fn dot_segments_in_any_encoding_are_refused() {
        for bad in [
            "",
            " ",
            ".",
            "..",
            "%2e",
            "%2E%2e",
            "%252e%252e",
            "..%2f..",
            "x/../y",
            "x\\..",
            "%c0%ae%c0%ae",
            "\u{ff0e}\u{ff0e}",
            "%2e%2e%2f",
        ] {
            assert!(path_segment_refusal(bad).is_some(), "{bad:?}");
        }
        for ok in ["SEC-1", "a.b", "...", "00u1", "x..y", "saved search"] {
            assert!(path_segment_refusal(ok).is_none(), "{ok:?}");
        }
    }

    #[test]
    fn public_addresses() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "100.100.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_need_https_and_public_literals() {
        assert!(check_url("https://api.example.com/x", false).is_ok());
        assert!(check_url("http://api.example.com/x", false).is_err());
        assert!(check_url("https://169.254.169.254/latest", false).is_err());
        assert!(check_url("https://[::1]/x", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
    }
}
