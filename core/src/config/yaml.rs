//! The one place that knows the YAML library, so it can be swapped in one edit.

use serde::de::DeserializeOwned;

/// A parsed YAML document, kept generic until its kind is known.
pub type Document = serde_yaml::Value;

/// Splits a multi-document YAML text into documents, skipping empty ones.
pub fn documents(text: &str) -> Result<Vec<Document>, String> {
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = <Document as serde::Deserialize>::deserialize(de)
            .map_err(|e| format!("document {}: invalid YAML: {e}", i + 1))?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
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
