//! What users read is what the code does: the README's ingress-nginx table is the catalog,
//! and the example Ingress translates with every annotation honoured.

use super::*;
use crate::translate::annotations::nginx::{CATALOG, Verdict};

const README: &str = include_str!("../../../../README.md");
const EXAMPLE: &str = include_str!("../../../../manifests/examples/ingress-nginx-annotations.yaml");

/// The README table rendered from [`CATALOG`].
fn table() -> String {
    let mut out = String::from("| annotation | verdict | what wsgate does |\n|---|---|---|\n");
    for (name, verdict, what) in CATALOG {
        let verdict = match verdict {
            Verdict::Honoured => "honoured",
            Verdict::Irrelevant => "irrelevant",
            Verdict::Refused => "**refused**",
        };
        out.push_str(&format!("| `{name}` | {verdict} | {what} |\n"));
    }
    out
}

#[test]
fn the_readme_migration_table_is_the_catalog() {
    let table = table();
    assert!(
        README.contains(&table),
        "README.md's ingress-nginx table is out of date; it must read:\n{table}"
    );
}

#[test]
fn the_example_ingress_is_served_with_every_annotation() {
    let ingress: k8s_openapi::api::networking::v1::Ingress = obj(EXAMPLE);
    let routes = ingress::translate_ingress(&ingress).expect("the example is not refused");
    assert!(routes.warnings.is_empty(), "{:?}", routes.warnings);
    for r in routes.routes {
        let spec = r.decoded.spec.expect("the example decodes");
        let ranges = spec.source_ranges.expect("source ranges");
        assert_eq!(ranges.allow, ["10.0.0.0/8", "192.168.0.0/16"]);
        let tls = spec.tls.expect("tls");
        assert_eq!(
            (tls.redirect_http, tls.redirect_upgrades),
            (Some(true), Some(true))
        );
    }
}
