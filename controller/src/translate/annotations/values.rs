//! ingress-nginx value syntaxes: seconds, sizes, lists, booleans.

/// `3600` or `3600s` (nginx accepts both for its timeouts).
pub fn seconds(value: &str) -> Option<u64> {
    value.strip_suffix('s').unwrap_or(value).parse().ok()
}

/// nginx sizes: `1048576`, `512k`, `8m`, `1g` (either case).
pub fn size(value: &str) -> Option<u64> {
    let v = value.trim().to_ascii_lowercase();
    let (digits, unit) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => v.split_at(i),
        None => (v.as_str(), ""),
    };
    let n: u64 = digits.parse().ok()?;
    let scale: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// A comma- (or space-) separated list without empty entries.
pub fn list(value: &str) -> Vec<String> {
    value
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// nginx booleans: `true`/`false` (also `on`/`off` where nginx takes them).
pub fn boolean(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" => Some(true),
        "false" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_value_syntaxes() {
        assert_eq!(seconds("60"), Some(60));
        assert_eq!(seconds("60s"), Some(60));
        assert_eq!(seconds("1m"), None);
        assert_eq!(size("8m"), Some(8 << 20));
        assert_eq!(size("512K"), Some(512 << 10));
        assert_eq!(size("0"), Some(0));
        assert_eq!(size("1t"), None);
        assert_eq!(list("a, b c,,d"), ["a", "b", "c", "d"]);
        assert_eq!(boolean("on"), Some(true));
        assert_eq!(boolean("nope"), None);
    }
}
