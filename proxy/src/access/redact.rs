//! Redaction of what the access log shows: query parameter values (the route's ticket
//! parameter always, plus the configured ones) and header values (credentials always, plus
//! the configured ones).

use http::{HeaderName, Uri, header};

/// What replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

/// Query parameters redacted on every route: the default ticket parameter name.
const ALWAYS_QUERY: &[&str] = &["ticket"];

/// Headers redacted whenever they are logged.
const ALWAYS_HEADERS: &[HeaderName] = &[
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

/// `path?query` of `uri` with the values of `ticket_param`, the always-redacted and the
/// `configured` parameters replaced by [`REDACTED`]; other parameters stay as sent.
pub fn target(uri: &Uri, ticket_param: Option<&str>, configured: &[String]) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_string();
    };
    let secret = |name: &str| {
        ticket_param == Some(name)
            || ALWAYS_QUERY.contains(&name)
            || configured.iter().any(|c| c == name)
    };
    let mut out = String::with_capacity(path.len() + 1 + query.len());
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if secret(&decode_name(name)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// A query parameter name as compared: `+` and `%XX` decoded, so `tick%65t` is `ticket`.
fn decode_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', h, l]) => hex(*h).zip(hex(*l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a logged header's value is redacted.
pub fn header_is_secret(name: &HeaderName, configured: &[HeaderName]) -> bool {
    ALWAYS_HEADERS.contains(name) || configured.contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().expect("uri")
    }

    #[test]
    fn ticket_and_configured_parameters_are_redacted_others_kept() {
        let u = uri("/socket.io/?EIO=4&ticket=abc.def&token=t0k&room=1&tok=ok");
        assert_eq!(
            target(&u, None, &["token".to_string()]),
            "/socket.io/?EIO=4&ticket=[redacted]&token=[redacted]&room=1&tok=ok"
        );
    }

    #[test]
    fn a_route_specific_ticket_parameter_and_encoded_names_are_redacted() {
        let u = uri("/ws?access=s3cret&tick%65t=x&flag");
        assert_eq!(
            target(&u, Some("access"), &[]),
            "/ws?access=[redacted]&tick%65t=[redacted]&flag"
        );
        assert_eq!(target(&uri("/plain"), None, &[]), "/plain");
    }

    #[test]
    fn credentials_are_always_secret() {
        assert!(header_is_secret(&header::AUTHORIZATION, &[]));
        assert!(header_is_secret(&header::COOKIE, &[]));
        let tenant = HeaderName::from_static("x-tenant");
        assert!(!header_is_secret(&tenant, &[]));
        assert!(header_is_secret(&tenant, std::slice::from_ref(&tenant)));
    }
}
