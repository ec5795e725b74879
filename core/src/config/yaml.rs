//! The one place that knows the YAML library, so it can be swapped in one edit.

use serde::de::DeserializeOwned;

/// A parsed YAML document, kept generic until its kind is known.
pub type Document = serde_yaml::Value;

/// The documents of a multi-document YAML text, one at a time (a large file is never held as
/// parsed values all at once), skipping empty ones.
pub fn documents(text: &str) -> impl Iterator<Item = Result<Document, String>> + '_ {
    serde_yaml::Deserializer::from_str(text)
        .enumerate()
        .filter_map(
            |(i, de)| match <Document as serde::Deserialize>::deserialize(de) {
                Ok(value) if value.is_null() => None,
                Ok(value) => Some(Ok(value)),
                Err(e) => Some(Err(format!("document {}: invalid YAML: {e}", i + 1))),
            },
        )
}

/// Reads a top-level string field such as `kind`, if present.
pub fn str_field<'a>(doc: &'a Document, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(|v| v.as_str())
}

/// Reads `metadata.name`, if present.
pub fn metadata_name(doc: &Document) -> Option<&str> {
    doc.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|v| v.as_str())
}

/// Deserializes a document, reporting the dotted path of a failing field.
pub fn decode<T: DeserializeOwned>(doc: Document) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde_yaml appends " at line N column M" that points into the value, not the file.
        let message = match message.find(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message,
        };
        (path, message)
    })
}
