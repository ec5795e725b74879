//! The sign-in redirect of external auth (`auth-signin` in ingress-nginx): a page request
//! the auth service refused with 401 goes to the sign-in page with the original URL.

use http::{HeaderValue, Request, header};

/// `signin?rd=<original URL>`, as ingress-nginx's `auth-signin` redirects; `scheme` is the
/// listener's (`http` or `https`).
pub fn location<B>(signin: &str, req: &Request<B>, scheme: &str) -> Option<HeaderValue> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let target = format!(
        "{scheme}://{host}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let joiner = if signin.contains('?') { '&' } else { '?' };
    let location = format!("{signin}{joiner}rd={}", encode_component(&target));
    HeaderValue::from_str(&location).ok()
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_original_url_encoded() {
        let req = Request::builder()
            .uri("/inbox?page=2")
            .header(header::HOST, "chat.example.com")
            .body(())
            .expect("request");
        let loc = location("https://login.example.com/start?x=1", &req, "https").expect("location");
        assert_eq!(
            loc,
            "https://login.example.com/start?x=1&rd=https%3A%2F%2Fchat.example.com%2Finbox%3Fpage%3D2"
        );
    }
}
