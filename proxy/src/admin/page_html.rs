//! The admin page as HTML: server-rendered, no script, one inline style sheet; tables turn
//! into stacked cards on a phone. Every value that comes from a route table or a request is
//! escaped ([`Esc`]); numbers carry `data-*` attributes so a test (or a scraper) can read
//! them without parsing text.

use std::fmt::{self, Display, Write};
use std::time::{Duration, SystemTime};

use super::page_style::STYLE;
use super::page_view::{CertRow, PageView, ReasonRow, RouteRow, RuleRow};
use super::refusals::{CAPACITY, Refused};

/// Certificates closer than this to expiry are marked.
const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// HTML-escapes its text.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// The page.
pub fn render(v: &PageView) -> String {
    let mut o = String::with_capacity(16 * 1024);
    // Writing into a String cannot fail.
    let _ = page(&mut o, v);
    o
}

fn page(o: &mut String, v: &PageView) -> fmt::Result {
    let version = env!("CARGO_PKG_VERSION");
    let refresh = match v.refresh {
        Some(n) => format!("<meta http-equiv=\"refresh\" content=\"{n}\">"),
        None => String::new(),
    };
    writeln!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         {refresh}<title>wsgate admin</title><style>{STYLE}</style></head><body>\n\
         <header><h1>wsgate</h1><span class=\"muted\">{version}</span> \
         <span class=\"pill {}\" id=\"status\">{}</span></header>\n<main>",
        if v.status == "ready" { "ok" } else { "warn" },
        Esc(v.status)
    )?;
    summary(o, v)?;
    routes(o, v)?;
    refused_routes(o, v)?;
    certificates(o, v)?;
    refusals(o, v)?;
    writeln!(
        o,
        "<footer>As of {}. {} <a href=\"/metrics\">/metrics</a> serves the same counts.</footer>\n\
         </main></body></html>",
        utc(v.now),
        match v.refresh {
            Some(n) => format!("Reloads every {n} s (<a href=\"/\">stop</a>)."),
            None => "Reload for fresh numbers, or <a href=\"/?refresh=10\">every 10 s</a>.".into(),
        }
    )
}

fn summary(o: &mut String, v: &PageView) -> fmt::Result {
    let applied = match v.applied_at {
        Some(t) => format!("applied {} ago, {}", ago(v.now, t), utc(t)),
        None => "no table applied yet".into(),
    };
    let total: u64 = v.reasons.iter().map(|r| r.total).sum();
    let rejected = if v.reloads_rejected > 0 {
        format!(
            "<span class=\"bad\">{} rejected</span>: the last good table stays in force; the log says why",
            v.reloads_rejected
        )
    } else {
        "none rejected".into()
    };
    writeln!(
        o,
        "<section class=\"cards\">\
         <div class=\"card\"><div class=\"k\">Open WebSockets</div>\
         <div class=\"v\" id=\"open-websockets\">{}</div></div>\
         <div class=\"card\"><div class=\"k\">Route table</div>\
         <div class=\"v\">version <span id=\"table-version\">{}</span></div><div class=\"s\">{}</div></div>\
         <div class=\"card\"><div class=\"k\">Table loads</div>\
         <div class=\"v\"><span id=\"reloads-applied\">{}</span> applied</div><div class=\"s\">{rejected}</div></div>\
         <div class=\"card\"><div class=\"k\">Refused requests</div>\
         <div class=\"v\" id=\"refusals-total\">{total}</div><div class=\"s\">since start</div></div>\
         </section>",
        v.open_websockets,
        v.table_version,
        Esc(&applied),
        v.reloads_applied,
    )
}

fn routes(o: &mut String, v: &PageView) -> fmt::Result {
    writeln!(
        o,
        "<h2>Routes <span class=\"muted\">{}</span></h2>",
        v.routes.len() + v.more_routes
    )?;
    if v.routes.is_empty() {
        return o.write_str("<p class=\"muted\">No routes in force.</p>\n");
    }
    o.write_str(
        "<table id=\"routes\"><thead><tr><th>Route</th><th>Hosts</th>\
         <th>Paths and endpoints</th><th>WebSockets</th><th>State</th></tr></thead><tbody>\n",
    )?;
    for r in &v.routes {
        route(o, r)?;
    }
    o.write_str("</tbody></table>\n")?;
    if v.more_routes > 0 {
        writeln!(
            o,
            "<p class=\"muted\">{} more routes not listed.</p>",
            v.more_routes
        )?;
    }
    Ok(())
}

fn route(o: &mut String, r: &RouteRow) -> fmt::Result {
    write!(
        o,
        "<tr data-route=\"{label}\"><td data-label=\"Route\"><b>{label}</b></td><td data-label=\"Hosts\"><div>",
        label = Esc(&r.label)
    )?;
    if r.hosts.is_empty() {
        o.write_str("<span class=\"muted\">any host</span>")?;
    }
    for (i, h) in r.hosts.iter().enumerate() {
        let sep = if i > 0 { "<br>" } else { "" };
        write!(o, "{sep}{}", Esc(h))?;
    }
    o.write_str("</div></td><td data-label=\"Paths\"><div>")?;
    for rule in &r.rules {
        rule_html(o, rule)?;
    }
    write!(
        o,
        "</div></td><td data-label=\"WebSockets\" class=\"num\" data-field=\"websockets\">{}</td><td data-label=\"State\"><div>",
        r.websockets
    )?;
    if r.problems.is_empty() {
        o.write_str("<span class=\"pill ok\">accepted</span>")?;
    } else {
        o.write_str("<span class=\"pill warn\">accepted, degraded</span>")?;
        for p in &r.problems {
            write!(o, "<div class=\"s\">{}</div>", Esc(p))?;
        }
    }
    o.write_str("</div></td></tr>\n")
}

fn rule_html(o: &mut String, rule: &RuleRow) -> fmt::Result {
    write!(o, "<div class=\"rule\"><code>{}</code>", Esc(&rule.path))?;
    match &rule.backend {
        Err(reason) => write!(o, " <span class=\"bad\">{}</span>", Esc(reason))?,
        Ok(endpoints) => {
            o.write_str("<ul>")?;
            for e in endpoints {
                let (class, health) = match e.ejected_for {
                    None => ("ok", "healthy".to_string()),
                    Some(d) => ("bad", format!("ejected, retry in {}", span(d))),
                };
                write!(
                    o,
                    "<li data-endpoint=\"{addr}\"><span class=\"dot {class}\" title=\"{health}\"></span>\
                     <code>{addr}</code> <b data-field=\"websockets\">{}</b> WebSocket{} \
                     <span class=\"muted\">· {health} · <span data-field=\"active\">{}</span> in use by all routes</span></li>",
                    e.websockets,
                    if e.websockets == 1 { "" } else { "s" },
                    e.active,
                    addr = e.addr,
                )?;
            }
            if rule.more_endpoints > 0 {
                write!(
                    o,
                    "<li class=\"muted\">{} more endpoints</li>",
                    rule.more_endpoints
                )?;
            }
            o.write_str("</ul>")?;
        }
    }
    o.write_str("</div>")
}

fn refused_routes(o: &mut String, v: &PageView) -> fmt::Result {
    if v.refused_routes.is_empty() {
        return Ok(());
    }
    writeln!(
        o,
        "<h2>Refused routes <span class=\"muted\">{}</span></h2>\n<table id=\"refused-routes\">\
         <thead><tr><th>Object</th><th>Reason</th><th>Why</th></tr></thead><tbody>",
        v.refused_routes.len()
    )?;
    for r in v.refused_routes.iter() {
        writeln!(
            o,
            "<tr><td data-label=\"Object\"><b>{}</b></td><td data-label=\"Reason\"><span class=\"pill bad\">{}</span></td>\
             <td data-label=\"Why\">{}</td></tr>",
            Esc(&r.source),
            Esc(&r.reason),
            Esc(&r.message)
        )?;
    }
    o.write_str("</tbody></table>\n")
}

fn certificates(o: &mut String, v: &PageView) -> fmt::Result {
    if v.certificates.is_empty() {
        return o
            .write_str("<h2>Certificates</h2>\n<p class=\"muted\">No certificate served.</p>\n");
    }
    o.write_str(
        "<h2>Certificates</h2>\n<table id=\"certificates\"><thead><tr><th>Host</th>\
         <th>Expires</th><th>Left</th></tr></thead><tbody>\n",
    )?;
    for c in &v.certificates {
        cert(o, v.now, c)?;
    }
    o.write_str("</tbody></table>\n")
}

fn cert(o: &mut String, now: SystemTime, c: &CertRow) -> fmt::Result {
    let not_after = SystemTime::UNIX_EPOCH + Duration::from_secs(c.not_after.max(0) as u64);
    let (class, left) = match not_after.duration_since(now) {
        Err(_) => ("bad", "expired".to_string()),
        Ok(d) if d < EXPIRY_WARNING => ("warn", span(d)),
        Ok(d) => ("ok", span(d)),
    };
    writeln!(
        o,
        "<tr data-host=\"{host}\" data-not-after=\"{}\"><td data-label=\"Host\"><code>{host}</code></td>\
         <td data-label=\"Expires\">{}</td>\
         <td data-label=\"Left\"><span class=\"pill {class}\">{left}</span></td></tr>",
        c.not_after,
        utc(not_after),
        host = Esc(&c.host),
    )
}

fn refusals(o: &mut String, v: &PageView) -> fmt::Result {
    o.write_str("<h2>Refusals by reason</h2>\n")?;
    if v.reasons.is_empty() {
        return o.write_str("<p class=\"muted\">No request refused since start.</p>\n");
    }
    writeln!(
        o,
        "<table id=\"refusals\"><thead><tr><th>Reason</th><th>Since start</th>\
         <th>Of the last {CAPACITY}</th><th>Last</th></tr></thead><tbody>"
    )?;
    for r in &v.reasons {
        reason(o, v.now, r)?;
    }
    o.write_str("</tbody></table>\n<h2>Latest refusals</h2>\n<table id=\"latest\"><thead><tr>\
                 <th>When</th><th>Kind</th><th>Status</th><th>Reason</th><th>Route</th></tr></thead><tbody>\n")?;
    for r in &v.latest {
        writeln!(
            o,
            "<tr><td data-label=\"When\">{} ago</td><td data-label=\"Kind\">{}</td>\
             <td data-label=\"Status\">{}</td><td data-label=\"Reason\">{}</td><td data-label=\"Route\">{}</td></tr>",
            ago(v.now, r.at),
            r.kind,
            r.status,
            Esc(r.reason),
            Esc(r.route.as_deref().unwrap_or("-"))
        )?;
    }
    o.write_str("</tbody></table>\n")
}

fn reason(o: &mut String, now: SystemTime, r: &ReasonRow) -> fmt::Result {
    let last = match &r.last {
        Some(Refused {
            at, status, route, ..
        }) => format!(
            "{} ago, {status}{}",
            ago(now, *at),
            route
                .as_deref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default()
        ),
        None => "-".into(),
    };
    writeln!(
        o,
        "<tr data-reason=\"{reason}\"><td data-label=\"Reason\"><code>{reason}</code></td>\
         <td data-label=\"Since start\" class=\"num\" data-field=\"total\">{}</td>\
         <td data-label=\"Recent\" class=\"num\">{}</td><td data-label=\"Last\">{}</td></tr>",
        r.total,
        r.recent,
        Esc(&last),
        reason = Esc(&r.reason)
    )
}

/// `now - then` as a short span (`0s` when `then` is later).
fn ago(now: SystemTime, then: SystemTime) -> String {
    span(now.duration_since(then).unwrap_or_default())
}

/// `2y 10d`, `3d 4h`, `2h 5m`, `4m 10s`, `12s`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days >= 365 {
        return format!("{}y {}d", days / 365, days % 365);
    }
    match (days, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{days}d {h}h"),
    }
}

/// `2026-01-31 23:59:59 UTC` (the civil-from-days algorithm, proleptic Gregorian).
pub fn utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        let s = Esc("<script>alert('x')</script> & \"y\"").to_string();
        assert_eq!(
            s,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn dates_and_spans_read_as_people_write_them() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(utc(at(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(at(951_782_400)), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(at(1_798_761_599)), "2026-12-31 23:59:59 UTC");
        assert_eq!(span(Duration::from_secs(12)), "12s");
        assert_eq!(span(Duration::from_secs(250)), "4m 10s");
        assert_eq!(span(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(span(Duration::from_secs(3 * 86400 + 4 * 3600)), "3d 4h");
        assert_eq!(span(Duration::from_secs(740 * 86400)), "2y 10d");
    }
}

#[cfg(test)]
#[path = "page_html_tests.rs"]
mod render_tests;
