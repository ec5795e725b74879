//! Label and field selectors as the API server reads them: `a=b`, `a==b`, `a!=b`, `a`,
//! `!a`, `a in (x,y)`, `a notin (x,y)` for labels; `=`, `==`, `!=` on the fields a resource
//! supports for fields. An unreadable selector or an unsupported field is a 400.

use serde_json::Value;

/// One parsed term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// A label or field selector: every term must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    terms: Vec<Term>,
}

impl Selector {
    /// Parses a label selector.
    pub fn labels(text: &str) -> Result<Selector, String> {
        let mut terms = Vec::new();
        for part in split_terms(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            terms.push(label_term(part)?);
        }
        Ok(Selector { terms })
    }

    /// Parses a field selector over `fields` (the ones the resource supports).
    pub fn fields(text: &str, supported: &[&str]) -> Result<Selector, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let term = if let Some((k, v)) = part.split_once("!=") {
                Term::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Term::Equals(k.trim().into(), v.trim().into())
            } else {
                return Err(format!("invalid field selector term {part:?}"));
            };
            let (Term::Equals(k, _) | Term::NotEquals(k, _)) = &term else {
                unreachable!("only equality terms are built above")
            };
            if !supported.contains(&k.as_str()) {
                return Err(format!("field label not supported: {k}"));
            }
            terms.push(term);
        }
        Ok(Selector { terms })
    }

    /// Whether `lookup` (a label or field getter) satisfies every term.
    pub fn matches(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Equals(k, v) => lookup(k).as_deref() == Some(v.as_str()),
            Term::NotEquals(k, v) => lookup(k).as_deref() != Some(v.as_str()),
            Term::Exists(k) => lookup(k).is_some(),
            Term::Absent(k) => lookup(k).is_none(),
            Term::In(k, vs) => lookup(k).is_some_and(|x| vs.contains(&x)),
            Term::NotIn(k, vs) => lookup(k).is_none_or(|x| !vs.contains(&x)),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

fn label_term(part: &str) -> Result<Term, String> {
    let set = |rest: &str| -> Result<Vec<String>, String> {
        let inner = rest
            .trim()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| format!("invalid set in {part:?}"))?;
        Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
    };
    if let Some((k, rest)) = part.split_once(" notin ") {
        return Ok(Term::NotIn(valid_key(k)?, set(rest)?));
    }
    if let Some((k, rest)) = part.split_once(" in ") {
        return Ok(Term::In(valid_key(k)?, set(rest)?));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Term::NotEquals(valid_key(k)?, v.trim().into()));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Term::Equals(valid_key(k)?, v.trim().into()));
    }
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Term::Absent(valid_key(k)?));
    }
    Ok(Term::Exists(valid_key(part)?))
}

fn valid_key(key: &str) -> Result<String, String> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b));
    if ok {
        Ok(key.to_string())
    } else {
        Err(format!("invalid label key {key:?}"))
    }
}

/// The label getter of an object.
pub fn label_of(object: &Value) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| object["metadata"]["labels"][k].as_str().map(str::to_string)
}

/// The field getter of an object (`metadata.name`, `metadata.namespace`, `type`, ...).
pub fn field_of(object: &Value) -> impl Fn(&str) -> Option<String> + '_ {
    move |k| {
        let mut v = object;
        for part in k.split('.') {
            v = &v[part];
        }
        v.as_str().map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn selectors_match_like_the_api_server() {
        let o = json!({"metadata": {"name": "n", "labels": {"a": "1", "b": "2"}}, "type": "kubernetes.io/tls"});
        let cases = [
            ("a", true),
            ("!a", false),
            ("c", false),
            ("a=1,b==2", true),
            ("a!=1", false),
            ("a in (1,3)", true),
            ("a notin (1,3)", false),
            ("c notin (1)", true),
        ];
        for (text, want) in cases {
            let s = Selector::labels(text).expect(text);
            assert_eq!(s.matches(&label_of(&o)), want, "{text}");
        }
        let f = Selector::fields("type=kubernetes.io/tls", &["type"]).expect("parse");
        assert!(f.matches(&field_of(&o)));
        let f = Selector::fields(
            "type!=helm.sh/release.v1,metadata.name=n",
            &["type", "metadata.name"],
        );
        assert!(f.expect("parse").matches(&field_of(&o)));
        assert!(Selector::fields("spec.x=1", &["type"]).is_err());
        assert!(Selector::labels("a b").is_err());
    }
}
