//! Header names as CGI, WSGI and Rack servers read them: case does not matter and `_` is
//! the same as `-`, so `X_Wsgate_Claim_Sub` reaches such a backend as `X-Wsgate-Claim-Sub`.
//! Headers only wsgate may set are removed in every spelling. A leaf module.

use http::{HeaderMap, HeaderName};

/// A header name as a CGI-style server sees it: lower case, `_` read as `-`.
pub fn canonical(name: &HeaderName) -> String {
    name.as_str().replace('_', "-")
}

/// Removes every header whose canonical name `matches`.
pub fn remove_spellings(headers: &mut HeaderMap, matches: impl Fn(&str) -> bool) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|n| matches(&canonical(n)))
        .cloned()
        .collect();
    for n in names {
        headers.remove(n);
    }
}
