//! The README's "Every refusal" table as one test: each row's bad input goes to the real
//! wsgate binary, and the answer must be what the row promises (status or close code, the
//! headers and body it names, `Retry-After` where promised), its metric must count it, and
//! the backend must see nothing of it. The rows are read from the README itself, so a row
//! that is added, changed or wrong fails here.

#[path = "support/mod.rs"]
mod support;

#[path = "security_support/mod.rs"]
mod security_support;

mod refusals_support;

use refusals_support::env::{Env, SIGNIN};
use refusals_support::readme::{Row, rows};
use refusals_support::send::{self, Answer};
use refusals_support::{Input, before, cases};
use tokio_tungstenite::tungstenite::Message;
use wsgate_tests::backend::Seen;
use wsgate_tests::e2e;
use wsgate_tests::wait::{SETTLE_TIMEOUT, eventually};
use wsgate_tests::wsgate::Wsgate;

/// Sums the metric lines of `name` carrying every one of `labels`.
fn metric_sum(body: &str, name: &str, labels: &[(String, String)]) -> f64 {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The metric a row names: a bare reason counts in `wsgate_request_errors_total{reason}`
/// (refusals after `101`, which have no HTTP answer, in `wsgate_auth_refusals_total`); else
/// the metric named, with the labels given.
fn metric_of(row: &Row) -> Option<(String, Vec<(String, String)>)> {
    let m = row.metric.as_deref()?;
    if !m.starts_with("wsgate_") {
        let name = if row.statuses.is_empty() {
            "wsgate_auth_refusals_total"
        } else {
            "wsgate_request_errors_total"
        };
        return Some((name.into(), vec![("reason".into(), m.into())]));
    }
    let (name, labels) = m.split_once('{').unwrap_or((m, ""));
    let labels = labels
        .trim_end_matches('}')
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim_matches('"').to_string()))
        .collect();
    Some((name.into(), labels))
}

async fn scrape(gw: &Wsgate) -> String {
    gw.admin_get("/metrics").await.1
}

async fn send_input(env: &Env, input: &Input) -> Answer {
    match input {
        Input::Http(req) => send::http(env.gw.http, req.as_bytes()).await,
        Input::Slow(partial) => send::slow(env.gw.http, partial.as_bytes()).await,
        Input::Tls(sni, req) => send::https(env.https, &env.ca, sni, req.as_bytes()).await,
        Input::Proxy(req) => send::http(env.pp.http, req.as_bytes()).await,
        Input::Frames(req, frames) => send::frames(env.gw.http, req, frames).await,
    }
}

/// Checks the answer against the row's promises; returns what is wrong.
fn check_answer(row: &Row, a: &Answer) -> Vec<String> {
    let mut wrong = Vec::new();
    if row.closed && a.status != 0 {
        wrong.push(format!("expected the connection closed, got {}", a.head));
    }
    if !row.statuses.is_empty() && !row.statuses.contains(&a.status) {
        wrong.push(format!("expected {:?}, got {:?}", row.statuses, a.head));
    }
    if row.statuses.is_empty() && !row.closed && a.close != row.close_code {
        wrong.push(format!(
            "expected close {:?}, got {:?} ({})",
            row.close_code, a.close, a.head
        ));
    }
    for promise in row.promises() {
        let ok = match promise.as_str() {
            "Retry-After" | "Allow" => a.header(&promise).is_some(),
            "wss://" => a.body.contains("wss://"),
            p if p.starts_with("signinUrl") => a
                .header("location")
                .is_some_and(|l| l.starts_with(&format!("{SIGNIN}?rd="))),
            p => match p.split_once(": ") {
                Some((k, v)) => a.header(k) == Some(v),
                None => true,
            },
        };
        if !ok {
            wrong.push(format!("missing `{promise}`: {}{}", a.head, a.body));
        }
    }
    wrong
}

/// Sends one input for `row` and returns what is wrong: the answer, the metric, the backend.
async fn run_row(env: &Env, row: &Row, input: &Input) -> Vec<String> {
    let gw = match input {
        Input::Proxy(_) => &env.pp,
        _ => &env.gw,
    };
    let metric = metric_of(row);
    let was = match &metric {
        Some((name, labels)) => metric_sum(&scrape(gw).await, name, labels),
        None => 0.0,
    };
    let seen = env.backend.seen().len();
    let answer = send_input(env, input).await;
    let mut wrong = check_answer(row, &answer);
    if let Some((name, labels)) = &metric {
        let counted = eventually(SETTLE_TIMEOUT, || async {
            metric_sum(&scrape(gw).await, name, labels) > was
        })
        .await;
        if !counted {
            wrong.push(format!("{name}{labels:?} did not count it"));
        }
    }
    wrong.extend(check_backend(env, row, seen).await);
    wrong
}

/// Nothing of the refused input reached the application. A row refused inside the tunnel
/// ("both sides") lets the handshake through, and the backend gets the close frame too.
async fn check_backend(env: &Env, row: &Row, seen: usize) -> Vec<String> {
    let fresh = || env.backend.seen().split_off(seen);
    if row.close_both {
        let code = row.close_code.unwrap_or(0);
        let closed = |s: &Seen| matches!(s, Seen::Message(Message::Close(Some(f))) if u16::from(f.code) == code);
        if !eventually(SETTLE_TIMEOUT, || async { fresh().iter().any(closed) }).await {
            return vec![format!("the backend got no close {code}: {:?}", fresh())];
        }
    }
    let leaked: Vec<Seen> = fresh()
        .into_iter()
        .filter(|s| {
            !(row.close_both && matches!(s, Seen::Handshake(..) | Seen::Message(Message::Close(_))))
        })
        .collect();
    if leaked.is_empty() {
        Vec::new()
    } else {
        vec![format!("the backend saw {leaked:?}")]
    }
}

#[e2e(multi_thread, limit = 240)]
async fn every_refusal_of_the_readme_table_is_what_it_says() {
    let env = Env::start().await;
    let rows = rows();
    assert!(rows.len() >= 30, "the table has {} rows", rows.len());
    let cases = cases(&env);
    for case in &cases {
        let n = rows
            .iter()
            .filter(|r| r.condition.starts_with(case.condition))
            .count();
        assert_eq!(n, 1, "{:?} names {n} README rows", case.condition);
    }
    let mut failures = Vec::new();
    for row in &rows {
        let case = cases
            .iter()
            .find(|c| row.condition.starts_with(c.condition))
            .unwrap_or_else(|| panic!("no input for the README row {:?}", row.condition));
        let _kept = before(&env, &case.before).await;
        let mut wrong = run_row(&env, row, &case.input).await;
        if let Some(fm) = &case.first_message {
            // The same refusal for a ticket sent as the first message: the row's close code,
            // counted by reason, after wsgate's own 101.
            let fm_row = Row {
                statuses: Vec::new(),
                status_text: "—".into(),
                ..row.clone()
            };
            let fm_wrong = run_row(&env, &fm_row, fm).await;
            wrong.extend(fm_wrong.into_iter().map(|w| format!("(FirstMessage) {w}")));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{} | {}: {}",
                row.check,
                row.condition,
                wrong.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
