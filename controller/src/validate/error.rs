//! What `wsgate validate` reports: an error naming its document and field.

/// One problem of one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentError {
    /// Which document: its position and, when it has them, kind and name
    /// (`document 2 (WebSocketRoute default/chat)`).
    pub document: String,
    /// Dotted path of the field (`spec.rules[0].path.value`); empty for the document as a
    /// whole (its YAML).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for DocumentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field.as_str() {
            "" => write!(f, "{}: {}", self.document, self.message),
            field => write!(f, "{}: {field}: {}", self.document, self.message),
        }
    }
}

/// Splits a compile error's text `route: field: message` (or `field: message`) into its
/// field and message, for errors that arrive as text (translation reports).
pub(super) fn field_and_message(text: &str) -> (String, String) {
    let mut parts = text.splitn(3, ": ");
    let first = parts.next().unwrap_or_default();
    let second = parts.next();
    let third = parts.next();
    let is_field = |s: &str| s.starts_with("spec") || s.starts_with("metadata");
    let is_annotation = |s: &str| {
        s.starts_with(crate::translate::annotations::NGINX_PREFIX)
            || s.starts_with(crate::translate::annotations::WSGATE_PREFIX)
    };
    if is_annotation(first) {
        let rest = text[first.len()..].trim_start_matches(": ");
        return (format!("metadata.annotations[{first}]"), rest.into());
    }
    match (second, third) {
        (Some(f), Some(m)) if is_field(f) => (f.into(), m.into()),
        (Some(m), _) if is_field(first) => (first.into(), m.into()),
        _ => (String::new(), text.into()),
    }
}
