//! The route table as JSON, for a controller that sends tables to proxies in other
//! processes. The table types derive serde (fields without serde of their own go through
//! [`super::remote`]); keys are rebuilt from their source material when decoded.

use super::RouteTable;

/// Why a table could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WireError(String);

/// The table as one line of JSON (no newline in it).
pub fn encode(table: &RouteTable) -> Result<Vec<u8>, WireError> {
    serde_json::to_vec(table).map_err(|e| WireError(e.to_string()))
}

/// The table `encode` wrote; equal routes share their policy again, as in the sender's.
pub fn decode(bytes: &[u8]) -> Result<RouteTable, WireError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let table: RouteTable = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| WireError(format!("{}: {}", e.path(), e.inner())))?;
    de.end().map_err(|e| WireError(e.to_string()))?;
    let mut routes = table.routes.to_vec();
    super::share::share_policies(&mut routes);
    Ok(RouteTable {
        routes: routes.into(),
        ..table
    })
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
