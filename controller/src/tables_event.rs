//! What `wsgate controller --serve-tables` streams to `wsgate proxy --tables-from`: the
//! response to `GET /v1/tables?resume=<instance>.<version>` is `application/x-ndjson`, one
//! event per line, shaped like a Kubernetes watch:
//!
//! ```text
//! {"type":"table","instance":"3f9c…","version":7,"wsgate":"0.1.0","table":{…}}
//! {"type":"heartbeat","instance":"3f9c…","version":7}
//! ```
//!
//! A stream starts with the current table, or with a heartbeat when the client already has
//! it (its `resume` names this instance and version), then carries every new table whole
//! and a heartbeat every [`HEARTBEAT`]. `instance` is random per controller process: a
//! restarted controller numbers its tables from 1 again, and the new instance tells the
//! client that its first table is new whatever its number.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

/// Path of the stream.
pub const PATH: &str = "/v1/tables";
/// Interval between heartbeats when no table is sent.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// A stream silent this long is dead (three missed heartbeats).
pub const READ_DEADLINE: Duration = Duration::from_secs(30);
/// Longest event line a client reads (a table with many certificates is a few MiB).
pub const MAX_LINE: usize = 64 * 1024 * 1024;

/// One event, as read by the client.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// `table` or `heartbeat`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The controller process.
    pub instance: String,
    /// The controller's table version (0: it has not synced yet).
    pub version: u64,
    /// The controller's wsgate version (on tables).
    pub wsgate: Option<String>,
    /// The table (on tables), decoded by `wsgate_core::table::wire::decode`.
    #[serde(borrow)]
    pub table: Option<&'a RawValue>,
}

/// The line of a table event (with its newline); `table_json` is the encoded table.
pub fn table_line(instance: &str, version: u64, table_json: &[u8]) -> Vec<u8> {
    let head = format!(
        "{{\"type\":\"table\",\"instance\":{},\"version\":{version},\"wsgate\":{},\"table\":",
        serde_json::Value::from(instance),
        serde_json::Value::from(env!("CARGO_PKG_VERSION")),
    );
    let mut line = Vec::with_capacity(head.len() + table_json.len() + 2);
    line.extend_from_slice(head.as_bytes());
    line.extend_from_slice(table_json);
    line.extend_from_slice(b"}\n");
    line
}

/// The line of a heartbeat (with its newline).
pub fn heartbeat_line(instance: &str, version: u64) -> Vec<u8> {
    format!(
        "{{\"type\":\"heartbeat\",\"instance\":{},\"version\":{version}}}\n",
        serde_json::Value::from(instance)
    )
    .into_bytes()
}

/// `<instance>.<version>` as a client sends it in `resume`.
pub fn parse_resume(text: &str) -> Option<(&str, u64)> {
    let (instance, version) = text.rsplit_once('.')?;
    Some((instance, version.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_back_as_events() {
        let line = table_line("a\"b", 7, br#"{"version":7}"#);
        assert_eq!(line.last(), Some(&b'\n'));
        let event: Event<'_> = serde_json::from_slice(&line).expect("event");
        assert_eq!(
            (event.kind.as_str(), event.instance.as_str(), event.version),
            ("table", "a\"b", 7)
        );
        assert_eq!(event.table.map(RawValue::get), Some(r#"{"version":7}"#));
        let beat = heartbeat_line("i", 3);
        let event: Event<'_> = serde_json::from_slice(&beat).expect("event");
        assert_eq!(
            (event.kind.as_str(), event.version, event.table.is_none()),
            ("heartbeat", 3, true)
        );
        assert_eq!(parse_resume("ab.12"), Some(("ab", 12)));
        assert_eq!(parse_resume("ab"), None);
    }
}
