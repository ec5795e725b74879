//! Serde for the few table fields whose types have none of their own (HTTP header names and
//! values, methods, PEM and key bytes): written as plainer values, rebuilt (checked) when
//! read. A leaf: it knows no table type.

use std::sync::Arc;

use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value with no serde of its own, written as a plainer one and rebuilt (checked) from it.
pub trait Remote: Sized {
    /// What is written.
    type Repr: Serialize + DeserializeOwned;
    /// The plainer value; fails for what cannot be written faithfully.
    fn to_repr(&self) -> Result<Self::Repr, String>;
    /// The value again, checked as its own parser checks it.
    fn from_repr(repr: Self::Repr) -> Result<Self, String>;
}

impl Remote for String {
    type Repr = String;
    fn to_repr(&self) -> Result<String, String> {
        Ok(self.clone())
    }
    fn from_repr(repr: String) -> Result<Self, String> {
        Ok(repr)
    }
}

impl Remote for HeaderName {
    type Repr = String;
    fn to_repr(&self) -> Result<String, String> {
        Ok(self.as_str().to_string())
    }
    fn from_repr(repr: String) -> Result<Self, String> {
        HeaderName::from_bytes(repr.as_bytes()).map_err(|e| format!("header name {repr:?}: {e}"))
    }
}

impl Remote for HeaderValue {
    type Repr = String;
    fn to_repr(&self) -> Result<String, String> {
        String::from_utf8(self.as_bytes().to_vec())
            .map_err(|_| "a header value is not UTF-8".into())
    }
    fn from_repr(repr: String) -> Result<Self, String> {
        HeaderValue::from_bytes(repr.as_bytes()).map_err(|e| format!("header value: {e}"))
    }
}

impl Remote for Method {
    type Repr = String;
    fn to_repr(&self) -> Result<String, String> {
        Ok(self.as_str().to_string())
    }
    fn from_repr(repr: String) -> Result<Self, String> {
        Method::from_bytes(repr.as_bytes()).map_err(|e| format!("method {repr:?}: {e}"))
    }
}

impl<A: Remote, B: Remote> Remote for (A, B) {
    type Repr = (A::Repr, B::Repr);
    fn to_repr(&self) -> Result<Self::Repr, String> {
        Ok((self.0.to_repr()?, self.1.to_repr()?))
    }
    fn from_repr(repr: Self::Repr) -> Result<Self, String> {
        Ok((A::from_repr(repr.0)?, B::from_repr(repr.1)?))
    }
}

impl<T: Remote> Remote for Option<T> {
    type Repr = Option<T::Repr>;
    fn to_repr(&self) -> Result<Self::Repr, String> {
        self.as_ref().map(T::to_repr).transpose()
    }
    fn from_repr(repr: Self::Repr) -> Result<Self, String> {
        repr.map(T::from_repr).transpose()
    }
}

impl<T: Remote> Remote for Vec<T> {
    type Repr = Vec<T::Repr>;
    fn to_repr(&self) -> Result<Self::Repr, String> {
        self.iter().map(T::to_repr).collect()
    }
    fn from_repr(repr: Self::Repr) -> Result<Self, String> {
        repr.into_iter().map(T::from_repr).collect()
    }
}

impl<T: Remote> Remote for Arc<[T]> {
    type Repr = Vec<T::Repr>;
    fn to_repr(&self) -> Result<Self::Repr, String> {
        self.iter().map(T::to_repr).collect()
    }
    fn from_repr(repr: Self::Repr) -> Result<Self, String> {
        repr.into_iter().map(T::from_repr).collect()
    }
}

/// `#[serde(with = "wire::via")]`: a field whose type is [`Remote`].
pub mod via {
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::table::remote::Remote;

    /// Writes the plainer value.
    pub fn serialize<T: Remote, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        value.to_repr().map_err(S::Error::custom)?.serialize(s)
    }

    /// Reads the plainer value and rebuilds.
    pub fn deserialize<'de, T: Remote, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::from_repr(T::Repr::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "wire::bytes")]`: bytes (PEM, key material) as base64 text.
pub mod bytes {
    use std::sync::Arc;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes base64.
    pub fn serialize<S: Serializer>(value: &Arc<[u8]>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(value))
    }

    /// Reads base64.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[u8]>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Arc::from)
            .map_err(|e| D::Error::custom(format!("base64: {e}")))
    }
}

/// `#[serde(with = "wire::bytes_opt")]`: optional bytes as base64 text.
pub mod bytes_opt {
    use std::sync::Arc;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes base64 or null.
    pub fn serialize<S: Serializer>(value: &Option<Arc<[u8]>>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().map(|b| STANDARD.encode(b)).serialize(s)
    }

    /// Reads base64 or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<[u8]>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| STANDARD.decode(text.as_bytes()).map(Arc::from))
            .transpose()
            .map_err(|e| D::Error::custom(format!("base64: {e}")))
    }
}
