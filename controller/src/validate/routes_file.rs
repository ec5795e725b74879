//! Documents of a routes file (`ProxyConfig`, `WebSocketRoute` with addresses), checked by
//! the loader `wsgate proxy` uses, one document at a time so every document's error shows.

use std::path::Path;

use serde_yaml::Value;
use wsgate_core::config::{LoadError, load_in};

use super::error::DocumentError;

/// The errors of one routes-file document.
pub fn check(
    doc: &Value,
    base: &Path,
    fail: &dyn Fn(&str, String) -> DocumentError,
) -> Vec<DocumentError> {
    let text = match serde_yaml::to_string(doc) {
        Ok(text) => text,
        Err(e) => return vec![fail("", format!("cannot be read: {e}"))],
    };
    match load_in(&text, base).0 {
        Ok(_) => Vec::new(),
        Err(LoadError::Field(e)) => vec![fail(&e.field, e.message)],
        Err(e) => vec![fail("", e.to_string())],
    }
}
