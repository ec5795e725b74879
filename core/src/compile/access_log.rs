//! Compiles the access-log settings: a route's share of logged requests and the
//! process-wide redaction and extra headers of a `ProxyConfig`.

use std::sync::Arc;

use http::HeaderName;

use crate::spec::{AccessLogConfigSpec, AccessLogSpec};
use crate::table::security::AccessLogOptions;

type FieldResult<T> = Result<T, (String, String)>;

/// The percentage of a route's requests that are logged (`None`: off).
pub fn compile_route_access_log(spec: Option<&AccessLogSpec>) -> FieldResult<Option<u8>> {
    let Some(a) = spec else { return Ok(Some(100)) };
    match (a.enabled, a.sample_percent) {
        (Some(false), _) => Ok(None),
        (_, Some(p)) if p > 100 => Err((
            "spec.accessLog.samplePercent".into(),
            "must be between 0 and 100".into(),
        )),
        (_, p) => Ok(Some(p.unwrap_or(100))),
    }
}

/// The access-log settings of a `ProxyConfig`: header names must be valid.
pub fn compile_access_log(spec: Option<&AccessLogConfigSpec>) -> FieldResult<AccessLogOptions> {
    let Some(spec) = spec else {
        return Ok(AccessLogOptions::default());
    };
    let names = |list: &[String], at: &str| -> FieldResult<Arc<[HeaderName]>> {
        list.iter()
            .enumerate()
            .map(|(i, h)| {
                HeaderName::try_from(h.as_str()).map_err(|_| {
                    (
                        format!("spec.accessLog.{at}[{i}]"),
                        "not a valid header name".to_string(),
                    )
                })
            })
            .collect()
    };
    Ok(AccessLogOptions {
        redact_query: spec.redact_query_params.iter().cloned().collect(),
        headers: names(&spec.headers, "headers")?,
        redact_headers: names(&spec.redact_headers, "redactHeaders")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_share_defaults_to_all_and_names_a_bad_percentage() {
        assert_eq!(compile_route_access_log(None), Ok(Some(100)));
        let off = AccessLogSpec {
            enabled: Some(false),
            sample_percent: Some(50),
        };
        assert_eq!(compile_route_access_log(Some(&off)), Ok(None));
        let bad = AccessLogSpec {
            enabled: None,
            sample_percent: Some(101),
        };
        let err = compile_route_access_log(Some(&bad)).expect_err("101 %");
        assert_eq!(err.0, "spec.accessLog.samplePercent");
    }

    #[test]
    fn header_names_are_checked_by_field() {
        let spec = AccessLogConfigSpec {
            headers: vec!["X-Tenant".into(), "bad header".into()],
            ..Default::default()
        };
        let err = compile_access_log(Some(&spec)).expect_err("invalid name");
        assert_eq!(err.0, "spec.accessLog.headers[1]");
    }
}
