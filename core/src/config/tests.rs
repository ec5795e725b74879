use super::*;

const GOOD: &str = "
apiVersion: wsgate.dev/v1alpha1
kind: ProxyConfig
metadata: {name: local}
spec:
  listen: {http: 127.0.0.1:18080, admin: 127.0.0.1:19090}
  shutdownTimeout: 5s
---
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: chat, namespace: apps}
spec:
  hostnames: [chat.example.com]
  rules:
    - path: {type: Exact, value: /ws}
      backend: {addresses: [\"127.0.0.1:3000\"]}
  timeouts: {idle: 0s, connect: 2s}
  keepalive: {pingInterval: 0s}
  limits: {maxMessageBytes: 1024}
  drain: {closeCode: 4000, period: 1m}
";

#[test]
fn loads_settings_and_routes_with_every_field() {
    let loaded = load_str(GOOD).expect("valid file");
    assert_eq!(loaded.settings.http_listen.to_string(), "127.0.0.1:18080");
    assert_eq!(loaded.settings.admin_listen.to_string(), "127.0.0.1:19090");
    assert_eq!(loaded.settings.shutdown_timeout, Duration::from_secs(5));
    let route = &loaded.table.routes[0];
    assert_eq!(route.id.to_string(), "apps/chat");
    let p = &route.policy;
    assert_eq!(p.idle_timeout, None, "0s disables the idle timeout");
    assert_eq!(p.keepalive, None, "0s disables keepalive");
    assert_eq!(p.connect_timeout, Duration::from_secs(2));
    assert_eq!(p.max_message_bytes, 1024);
    assert_eq!(p.drain.close_code, 4000);
    assert_eq!(p.drain.period, Duration::from_secs(60));
}

#[test]
fn errors_name_the_document_and_field() {
    let route = |body: &str| {
        format!(
            "apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {{name: chat}}\nspec:\n{body}"
        )
    };
    let rules = "  rules:\n    - backend: {addresses: [\"127.0.0.1:1\"]}\n";
    let cases = [
        (route(&format!("{rules}  timeouts: {{idle: 10x}}\n")), "chat: spec.timeouts.idle: invalid duration"),
        (route(&format!("{rules}  colour: blue\n")), "chat: spec.colour: unknown field `colour`"),
        (route("  rules:\n    - path: {type: Regex, value: /}\n      backend: {addresses: []}\n"), "chat: spec.rules[0].path.type: unknown variant `Regex`"),
        (route(&format!("{rules}  limits: {{maxMessageBytes: -1}}\n")), "chat: spec.limits.maxMessageBytes:"),
        ("apiVersion: v1\nkind: WebSocketRoute\nmetadata: {name: x}\nspec: {rules: []}\n".to_string(), "x: apiVersion: \"v1\" is not supported"),
        ("apiVersion: wsgate.dev/v1alpha1\nkind: Route\nmetadata: {name: x}\nspec: {}\n".to_string(), "x: kind: \"Route\" is not supported"),
        (format!("{}---\n{}", route(rules), route(rules)), "chat: metadata.name: route default/chat is defined twice"),
        ("apiVersion: wsgate.dev/v1alpha1\nkind: WebSocketRoute\nmetadata: {name: Bad_Name}\nspec:\n  rules: []\n".to_string(), "metadata.name"),
        ("rules: [\n".to_string(), "document 1: invalid YAML"),
    ];
    for (text, want) in cases {
        let err = load_str(&text).expect_err(want).to_string();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
}

#[test]
fn an_empty_file_is_a_valid_empty_table() {
    let loaded = load_str("# nothing yet\n").expect("empty is fine");
    assert!(loaded.table.routes.is_empty());
    let mut want = ProxySettings::default();
    // The cookie secret is random unless the process is given one.
    want.listener.cookie_secret = loaded.settings.listener.cookie_secret.clone();
    assert_eq!(loaded.settings, want);
}

#[test]
fn m8_proxy_mode_binds_the_admin_listener_to_loopback_by_default() {
    let only_routes = GOOD.split("---").nth(1).expect("route document");
    let loaded = load_str(only_routes).expect("valid file");
    assert!(loaded.settings.admin_listen.ip().is_loopback());
    assert!(loaded.settings.http_listen.ip().is_loopback());
}

#[test]
fn shared_state_comes_from_the_proxy_config_with_files_next_to_the_routes_file() {
    let doc = |redis: &str| {
        format!(
            "apiVersion: wsgate.dev/v1alpha1\nkind: ProxyConfig\nmetadata: {{name: local}}\nspec:\n  sharedState:\n    redis: {{{redis}}}\n"
        )
    };
    let (loaded, _) = load_in(
        &doc("url: \"redis://wsgate@redis:6380/1\", passwordFile: redis.pw"),
        Path::new("/etc/wsgate"),
    );
    let redis = loaded
        .expect("valid")
        .settings
        .shared_state
        .redis
        .expect("redis");
    assert_eq!(redis.display_url(), "redis://wsgate@redis:6380/1");
    assert_eq!(
        redis.password_file.as_deref(),
        Some(Path::new("/etc/wsgate/redis.pw"))
    );

    let err = load_str(&doc("url: \"redis://wsgate:hunter2@redis\""))
        .expect_err("inline password")
        .to_string();
    assert!(err.contains("local: spec.sharedState.redis.url"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let err = load_str(&doc("url: \"redis://redis\", password: x"))
        .expect_err("no inline password field")
        .to_string();
    assert!(err.contains("unknown field `password`"), "{err}");
}

#[test]
fn the_readme_shared_state_example_loads() {
    const README: &str = include_str!("../../../README.md");
    let section = README
        .split("## Running more than one replica")
        .nth(1)
        .expect("README section");
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("first YAML block");
    let loaded = load_str(yaml).expect("the README example is valid");
    let redis = loaded.settings.shared_state.redis.expect("redis");
    assert!(redis.tls && redis.ca_file.is_some() && redis.password_file.is_some());
}
