use super::*;
use crate::spec::{RedirectSpec, UrlRewriteSpec};

fn rule(yaml: &str) -> RuleSpec {
    serde_yaml::from_str(yaml).expect("rule yaml")
}

#[test]
fn compiles_conditions_and_filters_of_a_rule() {
    let r = rule(
        r#"
path: {type: PathPrefix, value: /api}
method: POST
headers: [{name: X-Version, value: two}, {name: x-version, value: ignored}]
queryParams: [{name: room, value: a}]
filters:
  requestHeaderModifier: {set: [{name: x-env, value: prod}], remove: [x-debug]}
  responseHeaderModifier: {add: [{name: x-served-by, value: wsgate}]}
  urlRewrite: {hostname: backend.internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
backend: {addresses: ["127.0.0.1:1"]}
"#,
    );
    let path = PathMatch::Prefix("/api".into());
    let c = compile_conditions(&r, "spec.rules[0]").expect("conditions");
    assert_eq!(c.method, Some(Method::POST));
    assert_eq!(
        c.headers.len(),
        1,
        "only the first of an equivalent name counts"
    );
    assert_eq!(c.query, vec![("room".to_string(), "a".to_string())]);
    let f = compile_filters(&r, &path, "spec.rules[0]").expect("filters");
    assert_eq!(f.request_headers.set.len(), 1);
    assert_eq!(f.response_headers.add.len(), 1);
    assert_eq!(
        f.rewrite.path.as_ref().map(|p| p.apply("/api/x")),
        Some("/v2/x".into())
    );
}

#[test]
fn refusals_name_the_field() {
    let path = PathMatch::Exact("/x".into());
    let cases: Vec<(RuleSpec, &str)> = vec![
        (
            RuleSpec {
                method: Some("get".into()),
                ..Default::default()
            },
            "spec.rules[0].method",
        ),
        (
            RuleSpec {
                filters: Some(FiltersSpec {
                    request_redirect: Some(RedirectSpec::default()),
                    url_rewrite: Some(UrlRewriteSpec::default()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "spec.rules[0].filters",
        ),
        (
            rule(
                "filters: {urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /y}}}\nbackend: {}",
            ),
            "spec.rules[0].filters.urlRewrite.path.type",
        ),
        (
            rule("filters: {requestRedirect: {statusCode: 200}}\nbackend: {}"),
            "spec.rules[0].filters.requestRedirect.statusCode",
        ),
        (
            rule("filters: {requestRedirect: {scheme: ftp}}\nbackend: {}"),
            "spec.rules[0].filters.requestRedirect.scheme",
        ),
        (
            rule(
                "filters: {requestHeaderModifier: {set: [{name: \"bad name\", value: v}]}}\nbackend: {}",
            ),
            "spec.rules[0].filters.requestHeaderModifier.set[0].name",
        ),
        (
            rule("filters: {urlRewrite: {hostname: \"*.example.com\"}}\nbackend: {}"),
            "spec.rules[0].filters.urlRewrite.hostname",
        ),
    ];
    for (r, field) in cases {
        let got = compile_conditions(&r, "spec.rules[0]")
            .and_then(|_| compile_filters(&r, &path, "spec.rules[0]"))
            .expect_err(field);
        assert_eq!(got.0, field, "{}", got.1);
    }
}
