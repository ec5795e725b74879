//! The README's "Every refusal" table, read as the test's expectations: one row per refusal,
//! with the status (and headers) or close code it promises and the metric that counts it.

use std::path::Path;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The "Check" column.
    pub check: String,
    /// The "Condition" column: the row's name in the test's table of inputs.
    pub condition: String,
    /// HTTP statuses the row allows (empty: no HTTP answer).
    pub statuses: Vec<u16>,
    /// The status column in full (headers and body promises are read from it).
    pub status_text: String,
    /// The connection is closed without an answer.
    pub closed: bool,
    /// The close code the row promises, if any.
    pub close_code: Option<u16>,
    /// The close is sent to the backend too ("both sides").
    pub close_both: bool,
    /// The metric: a bare reason, or a metric name with optional labels.
    pub metric: Option<String>,
}

impl Row {
    /// The code-quoted promises of the status column (`Allow`, `wss://`, a header line...).
    pub fn promises(&self) -> Vec<String> {
        self.status_text
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }
}

/// The rows of the "Every refusal" table of the README.
pub fn rows() -> Vec<Row> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&readme).expect("README.md");
    let table = text
        .split("### Every refusal")
        .nth(1)
        .expect("the README has an \"Every refusal\" section");
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(parse_row)
        .collect()
}

fn parse_row(line: &str) -> Row {
    let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
    assert_eq!(cells.len(), 5, "a refusal row has five columns: {line}");
    let status_text = cells[2].to_string();
    // The leading statuses ("401 / 403"), not numbers inside promises ("...: 13").
    let lead = status_text.split('`').next().unwrap_or("");
    let statuses = lead
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| n.len() == 3)
        .filter_map(|n| n.parse().ok())
        .collect();
    let close_code = cells[3]
        .split(|c: char| !c.is_ascii_digit())
        .find(|n| n.len() == 4)
        .and_then(|n| n.parse().ok());
    let metric = match cells[4] {
        "—" => None,
        m => Some(m.trim_matches('`').replace("\\\"", "\"")),
    };
    Row {
        check: cells[0].to_string(),
        condition: cells[1].to_string(),
        statuses,
        closed: status_text == "connection closed",
        status_text,
        close_code,
        close_both: cells[3].contains("both sides"),
        metric,
    }
}
