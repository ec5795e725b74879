//! The index itself: relists, reports, scale.

use super::*;

#[test]
fn reset_replaces_a_kind_after_a_relist() {
    let mut idx = index(chat_backend("ns"));
    idx.apply(route("ns", "a", 1, CHAT));
    idx.apply(route(
        "ns",
        "b",
        2,
        "{hostnames: [b.example.com], rules: [{backend: {service: {name: chat, port: 80}}}]}",
    ));
    idx.reset(
        Kind::Route,
        None,
        vec![route(
            "ns",
            "b",
            2,
            "{hostnames: [b.example.com], rules: [{backend: {service: {name: chat, port: 80}}}]}",
        )],
    );
    let t = idx.build();
    let served: Vec<&str> = t.routes.iter().map(|r| r.id.name.as_str()).collect();
    assert_eq!(served, ["b"]);
    assert_eq!(t.reports.len(), 1, "deleted routes get no report");
}

#[test]
fn report_conditions_carry_generation() {
    let mut objects = chat_backend("ns");
    objects.push(route("ns", "r", 1, CHAT));
    let t = index(objects).build();
    let conditions = report(&t, SourceKind::Route, "ns", "r").conditions();
    let summary: Vec<(&str, &str, &str)> = conditions
        .iter()
        .map(|(t, v)| (*t, v.status_text(), v.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("Accepted", "True", "Accepted"),
            ("ResolvedRefs", "True", "ResolvedRefs"),
            ("Programmed", "True", "Programmed"),
        ]
    );
    assert_eq!(report(&t, SourceKind::Route, "ns", "r").generation, Some(2));
}

#[test]
fn ten_thousand_routes_rebuild() {
    let mut idx = Index::new("wsgate");
    for n in 0..10_000u32 {
        let ns = format!("ns{}", n % 100);
        if n < 100 {
            for o in chat_backend(&ns) {
                idx.apply(o);
            }
        }
        let spec = format!(
            "{{hostnames: [h{n}.example.com], rules: [{{backend: {{service: {{name: chat, port: 80}}}}}}]}}"
        );
        idx.apply(route(&ns, &format!("r{n}"), n % 3600, &spec));
    }
    let t = idx.build();
    assert_eq!(t.routes.len(), 10_000);
    assert!(t.reports.values().all(Report::all_true));
}
