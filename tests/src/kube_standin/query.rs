//! What a list or watch asks for: label and field selectors, and paging.

use serde_json::Value;

use super::selectors::{Selector, field_of, label_of};

/// Label and field selectors of a list or watch.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `labelSelector`.
    pub labels: Selector,
    /// `fieldSelector`.
    pub fields: Selector,
}

impl Filter {
    /// Whether `object` is selected.
    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches(&label_of(object)) && self.fields.matches(&field_of(object))
    }
}

/// `limit` and `continue` of a paged list.
#[derive(Debug, Clone)]
pub struct Page {
    pub(super) limit: Option<usize>,
    /// (resourceVersion of the first page, items already returned).
    pub(super) from: Option<(u64, usize)>,
}

impl Page {
    /// From the query parameters; a malformed continue token is a 400.
    pub fn parse(limit: Option<usize>, token: Option<&str>) -> Result<Page, String> {
        let from = match token {
            None | Some("") => None,
            Some(t) => {
                let (rv, offset) = t
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .ok_or_else(|| format!("invalid continue token {t:?}"))?;
                Some((rv, offset))
            }
        };
        Ok(Page { limit, from })
    }
}
