//! A rule's method, header and query parameter conditions and its filters, validated and
//! compiled into table data. Errors name the field.

use http::{HeaderName, HeaderValue, Method};

use crate::spec::{
    FiltersSpec, HeaderModifierSpec, NameValueSpec, PathModifierSpec, PathModifierType,
    RedirectSpec, RuleSpec,
};
use crate::table::PathMatch;
use crate::table::http::{Conditions, Filters, HeaderEdits, PathRewrite, Redirect, Rewrite};

/// A rejected field: (dotted path, message).
type Failure = (String, String);

/// Compiles the conditions of rule `spec` at `field` (`spec.rules[i]`).
pub fn compile_conditions(spec: &RuleSpec, field: &str) -> Result<Conditions, Failure> {
    let method = match &spec.method {
        None => None,
        Some(m) => Some(
            Method::from_bytes(m.as_bytes())
                .ok()
                .filter(|_| !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or_else(|| {
                    (
                        format!("{field}.method"),
                        format!("{m:?} is not an HTTP method (GET, POST, ...)"),
                    )
                })?,
        ),
    };
    let mut headers: Vec<(HeaderName, String)> = Vec::with_capacity(spec.headers.len());
    for (i, h) in spec.headers.iter().enumerate() {
        let f = format!("{field}.headers[{i}]");
        let name = header_name(&h.name, &f)?;
        header_value(&h.value, &f)?;
        // Gateway API: only the first entry of an equivalent name counts.
        if !headers.iter().any(|(n, _)| *n == name) {
            headers.push((name, h.value.clone()));
        }
    }
    let mut query: Vec<(String, String)> = Vec::with_capacity(spec.query_params.len());
    for (i, q) in spec.query_params.iter().enumerate() {
        if q.name.is_empty()
            || q.name
                .bytes()
                .any(|b| matches!(b, b'&' | b'=' | b'#') || b.is_ascii_whitespace())
        {
            return Err((
                format!("{field}.queryParams[{i}].name"),
                format!("{:?} is not a query parameter name", q.name),
            ));
        }
        if !query.iter().any(|(n, _)| *n == q.name) {
            query.push((q.name.clone(), q.value.clone()));
        }
    }
    Ok(Conditions {
        method,
        headers,
        query,
    })
}

/// Compiles the filters of rule `spec` at `field`, given the rule's compiled path.
pub fn compile_filters(spec: &RuleSpec, path: &PathMatch, field: &str) -> Result<Filters, Failure> {
    let Some(f) = &spec.filters else {
        return Ok(Filters::default());
    };
    let field = format!("{field}.filters");
    if f.request_redirect.is_some() && f.url_rewrite.is_some() {
        return Err((
            field,
            "requestRedirect and urlRewrite cannot be used together".into(),
        ));
    }
    compile_all(f, path, &field)
}

fn compile_all(f: &FiltersSpec, path: &PathMatch, field: &str) -> Result<Filters, Failure> {
    let edits = |m: &Option<HeaderModifierSpec>, name: &str| match m {
        None => Ok(HeaderEdits::default()),
        Some(m) => header_edits(m, &format!("{field}.{name}")),
    };
    let rewrite = match &f.url_rewrite {
        None => Rewrite::default(),
        Some(r) => Rewrite {
            hostname: r
                .hostname
                .as_ref()
                .map(|h| hostname(h, &format!("{field}.urlRewrite.hostname")))
                .transpose()?,
            path: r
                .path
                .as_ref()
                .map(|p| path_rewrite(p, path, &format!("{field}.urlRewrite.path")))
                .transpose()?,
        },
    };
    let redirect = f
        .request_redirect
        .as_ref()
        .map(|r| redirect(r, path, &format!("{field}.requestRedirect")))
        .transpose()?;
    Ok(Filters {
        request_headers: edits(&f.request_header_modifier, "requestHeaderModifier")?,
        response_headers: edits(&f.response_header_modifier, "responseHeaderModifier")?,
        redirect,
        rewrite,
    })
}

fn redirect(r: &RedirectSpec, path: &PathMatch, field: &str) -> Result<Redirect, Failure> {
    if let Some(s) = r
        .scheme
        .as_deref()
        .filter(|s| !matches!(*s, "http" | "https"))
    {
        return Err((
            format!("{field}.scheme"),
            format!("{s:?} is not http or https"),
        ));
    }
    let status = r.status_code.unwrap_or(302);
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Err((
            format!("{field}.statusCode"),
            format!("{status} is not a redirect status (301, 302, 303, 307 or 308)"),
        ));
    }
    if r.port == Some(0) {
        return Err((format!("{field}.port"), "must not be 0".into()));
    }
    Ok(Redirect {
        scheme: r.scheme.clone(),
        hostname: r
            .hostname
            .as_ref()
            .map(|h| hostname(h, &format!("{field}.hostname")).map(|_| h.to_ascii_lowercase()))
            .transpose()?,
        path: r
            .path
            .as_ref()
            .map(|p| path_rewrite(p, path, &format!("{field}.path")))
            .transpose()?,
        port: r.port,
        status,
    })
}

fn path_rewrite(
    p: &PathModifierSpec,
    path: &PathMatch,
    field: &str,
) -> Result<PathRewrite, Failure> {
    let value = |v: &Option<String>, name: &str| {
        let f = format!("{field}.{name}");
        let v = v
            .as_ref()
            .ok_or_else(|| (f.clone(), "is required with this type".to_string()))?;
        if !(v.is_empty() || v.starts_with('/'))
            || v.bytes()
                .any(|b| b.is_ascii_control() || b == b' ' || b == b'?' || b == b'#')
        {
            return Err((
                f,
                format!("{v:?} must be a path starting with / (no spaces, '?' or '#')"),
            ));
        }
        Ok(v.clone())
    };
    match p.kind {
        PathModifierType::ReplaceFullPath => {
            let v = value(&p.replace_full_path, "replaceFullPath")?;
            Ok(PathRewrite::Full(if v.is_empty() { "/".into() } else { v }))
        }
        PathModifierType::ReplacePrefixMatch => {
            let PathMatch::Prefix(matched) = path else {
                return Err((
                    format!("{field}.type"),
                    "ReplacePrefixMatch needs a PathPrefix path match".into(),
                ));
            };
            Ok(PathRewrite::Prefix {
                matched: matched.clone(),
                replacement: value(&p.replace_prefix_match, "replacePrefixMatch")?,
            })
        }
    }
}

fn header_edits(m: &HeaderModifierSpec, field: &str) -> Result<HeaderEdits, Failure> {
    let pairs =
        |list: &[NameValueSpec], name: &str| -> Result<Vec<(HeaderName, HeaderValue)>, Failure> {
            list.iter()
                .enumerate()
                .map(|(i, nv)| {
                    let f = format!("{field}.{name}[{i}]");
                    Ok((header_name(&nv.name, &f)?, header_value(&nv.value, &f)?))
                })
                .collect()
        };
    let remove = m
        .remove
        .iter()
        .enumerate()
        .map(|(i, n)| header_name(n, &format!("{field}.remove[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(HeaderEdits {
        set: pairs(&m.set, "set")?,
        add: pairs(&m.add, "add")?,
        remove,
    })
}

fn header_name(name: &str, field: &str) -> Result<HeaderName, Failure> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        (
            format!("{field}.name"),
            format!("{name:?} is not a header name"),
        )
    })
}

fn header_value(value: &str, field: &str) -> Result<HeaderValue, Failure> {
    HeaderValue::from_str(value).map_err(|_| {
        (
            format!("{field}.value"),
            "must be visible ASCII text (no control characters)".into(),
        )
    })
}

fn hostname(h: &str, field: &str) -> Result<HeaderValue, Failure> {
    let name = h.trim().to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err((
            field.to_string(),
            format!("{h:?} is not a host name (letters, digits, '-' and '.'; no wildcards)"),
        ));
    }
    HeaderValue::from_str(&name)
        .map_err(|_| (field.to_string(), format!("{h:?} is not a host name")))
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
