//! The object store: every object by resource, namespace and name; one global, monotonically
//! increasing resourceVersion; a bounded history of watch events; a record of writes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::history::History;
pub use super::history::{Subscription, WatchEvent, matches};
use super::objects::{fold_string_data, merge, now_rfc3339};
pub use super::query::{Filter, Page};
use super::resources::Resource;
use super::schema;

/// A write request as received.
#[derive(Debug, Clone)]
pub struct Write {
    /// HTTP method.
    pub method: String,
    /// Path (no query).
    pub path: String,
    /// `Content-Type` header.
    pub content_type: String,
    /// Body as JSON (`Null` when empty or unreadable).
    pub body: Value,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// 404.
    NotFound(String),
    /// 409 on create.
    AlreadyExists(String),
    /// 409 on a stale resourceVersion.
    Conflict(String),
    /// 422.
    Invalid(String),
    /// 410.
    Gone(String),
}

type Key = (Resource, String, String);

/// Patch flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json` (and strategic merge, treated alike).
    Merge,
    /// `application/apply-patch+yaml`: a merge that creates the object when missing.
    Apply,
}

/// The state behind the HTTP front.
pub struct Store {
    rv: u64,
    uid: u64,
    objects: BTreeMap<Key, Value>,
    history: History,
    /// Every write request received over HTTP.
    pub writes: Vec<Write>,
    /// Paths nothing answered (404 for an unknown resource).
    pub unknown_paths: Vec<String>,
    /// Every request as `METHOD path?query`, in order.
    pub requests: Vec<String>,
    /// Schemas by kind: the WebSocketRoute CRD's and the Gateway API kinds'.
    schemas: Vec<(&'static str, Value)>,
}

impl Store {
    /// An empty store keeping the last `keep` watch events.
    pub fn new(keep: usize) -> Store {
        Store {
            rv: 1,
            uid: 0,
            objects: BTreeMap::new(),
            history: History::new(keep),
            writes: Vec::new(),
            unknown_paths: Vec::new(),
            requests: Vec::new(),
            schemas: schema_table(),
        }
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// One page of the selected objects; `metadata.continue` names the next. A continue
    /// token older than the kept history is 410 Gone, as the API server answers.
    pub fn list_page(
        &self,
        resource: Resource,
        namespace: Option<&str>,
        filter: &Filter,
        page: Option<&Page>,
    ) -> Result<Value, StoreError> {
        let (rv, skip) = match page.and_then(|p| p.from) {
            Some((rv, _)) if self.history.expired(rv) => {
                return Err(StoreError::Gone(
                    "the provided continue parameter is too old".into(),
                ));
            }
            Some(from) => from,
            None => (self.rv, 0),
        };
        let limit = page.and_then(|p| p.limit).unwrap_or(usize::MAX);
        let mut selected = self
            .objects
            .iter()
            .filter(|((r, ns, _), o)| {
                *r == resource && namespace.is_none_or(|n| n == ns) && filter.matches(o)
            })
            .skip(skip);
        let items: Vec<Value> = selected
            .by_ref()
            .take(limit)
            .map(|(_, o)| o.clone())
            .collect();
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if selected.next().is_some() {
            metadata["continue"] = Value::from(format!("{rv}-{}", skip + items.len()));
        }
        Ok(json!({
            "apiVersion": resource.api_version(),
            "kind": format!("{}List", resource.kind),
            "metadata": metadata,
            "items": items,
        }))
    }

    /// One object.
    pub fn get(&self, resource: Resource, ns: &str, name: &str) -> Result<Value, StoreError> {
        self.objects
            .get(&(resource, ns.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| not_found(resource, name))
    }

    /// Creates `object` in `ns`.
    pub fn create(
        &mut self,
        resource: Resource,
        ns: &str,
        mut object: Value,
    ) -> Result<Value, StoreError> {
        let name = match meta_str(&object, "name") {
            Some(name) => name,
            None => match meta_str(&object, "generateName") {
                Some(prefix) => format!("{prefix}{:05x}", self.rv + 1),
                None => return Err(StoreError::Invalid("metadata.name is required".into())),
            },
        };
        let key = (resource, ns.to_string(), name.clone());
        if self.objects.contains_key(&key) {
            return Err(StoreError::AlreadyExists(format!(
                "{} \"{name}\" already exists",
                resource.plural
            )));
        }
        self.uid += 1;
        fold_string_data(&mut object);
        let meta = json!({
            "name": name,
            "namespace": if resource.namespaced { Value::from(ns) } else { Value::Null },
            "uid": format!("00000000-0000-0000-0000-{:012}", self.uid),
            "creationTimestamp": now_rfc3339(),
            "generation": 1,
        });
        merge(&mut object, &json!({"metadata": meta}));
        self.validate(resource, &name, &mut object)?;
        Ok(self.commit(key, object, "ADDED"))
    }

    /// PUT: replaces the whole object (status kept); 409 when its resourceVersion is stale.
    pub fn replace(
        &mut self,
        resource: Resource,
        ns: &str,
        name: &str,
        mut object: Value,
    ) -> Result<Value, StoreError> {
        let old = self.get(resource, ns, name)?;
        let sent = meta_str(&object, "resourceVersion");
        if sent
            .as_ref()
            .is_some_and(|rv| Some(rv) != meta_str(&old, "resourceVersion").as_ref())
        {
            return Err(StoreError::Conflict(format!(
                "the object {name} has been modified; please apply your changes to the latest version"
            )));
        }
        fold_string_data(&mut object);
        for field in [
            "uid",
            "creationTimestamp",
            "generation",
            "namespace",
            "name",
        ] {
            object["metadata"][field] = old["metadata"][field].clone();
        }
        object["status"] = old["status"].clone();
        self.update(resource, ns, name, old, object)
    }

    /// PATCH of the object (`status_only`: of its status subresource).
    pub fn patch(
        &mut self,
        resource: Resource,
        ns: &str,
        name: &str,
        patch: &Value,
        kind: PatchKind,
        status_only: bool,
    ) -> Result<Value, StoreError> {
        let old = match self.get(resource, ns, name) {
            Ok(old) => old,
            Err(_) if kind == PatchKind::Apply && !status_only => {
                let mut object = patch.clone();
                object["metadata"]["name"] = Value::from(name);
                return self.create(resource, ns, object);
            }
            Err(e) => return Err(e),
        };
        let mut new = old.clone();
        if status_only {
            merge(
                &mut new,
                &json!({"status": patch.get("status").cloned().unwrap_or(Value::Null)}),
            );
        } else {
            let mut patch = patch.clone();
            if let Some(p) = patch.as_object_mut() {
                p.remove("status");
                if let Some(Value::Object(m)) = p.get_mut("metadata") {
                    for field in [
                        "uid",
                        "creationTimestamp",
                        "generation",
                        "resourceVersion",
                        "namespace",
                        "name",
                    ] {
                        m.remove(field);
                    }
                }
            }
            merge(&mut new, &patch);
            fold_string_data(&mut new);
        }
        self.update(resource, ns, name, old, new)
    }

    /// Deletes one object and returns it.
    pub fn delete(
        &mut self,
        resource: Resource,
        ns: &str,
        name: &str,
    ) -> Result<Value, StoreError> {
        let key = (resource, ns.to_string(), name.to_string());
        let mut object = self
            .objects
            .remove(&key)
            .ok_or_else(|| not_found(resource, name))?;
        self.rv += 1;
        object["metadata"]["resourceVersion"] = Value::from(self.rv.to_string());
        self.publish("DELETED", resource, ns, &object);
        Ok(object)
    }

    /// The kept events after `since` for `resource` in `namespace`, and a receiver for the
    /// ones to come; `None` when events after `since` were already dropped (410 Gone).
    pub fn subscribe(
        &self,
        resource: Resource,
        namespace: Option<&str>,
        since: u64,
    ) -> Option<Subscription> {
        self.history.subscribe(resource, namespace, since)
    }

    /// Forgets every kept event: watches from an older resourceVersion get 410 Gone.
    pub fn compact(&mut self) {
        self.history.compact(self.rv);
    }

    fn update(
        &mut self,
        resource: Resource,
        ns: &str,
        name: &str,
        old: Value,
        mut new: Value,
    ) -> Result<Value, StoreError> {
        self.validate(resource, name, &mut new)?;
        let body = |v: &Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("metadata");
                o.remove("status");
            }
            v
        };
        if body(&old) != body(&new) {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            new["metadata"]["generation"] = Value::from(generation);
        }
        Ok(self.commit(
            (resource, ns.to_string(), name.to_string()),
            new,
            "MODIFIED",
        ))
    }

    /// CRD validation of custom resources (422 naming the field), as the API server does.
    fn validate(
        &self,
        resource: Resource,
        name: &str,
        object: &mut Value,
    ) -> Result<(), StoreError> {
        let Some((_, schema)) = self.schemas.iter().find(|(k, _)| *k == resource.kind) else {
            return Ok(());
        };
        schema::validate(object, schema).map_err(|e| {
            StoreError::Invalid(format!(
                "{}.{} \"{name}\" is invalid: {e}",
                resource.kind, resource.group
            ))
        })
    }

    fn commit(&mut self, key: Key, mut object: Value, event_type: &str) -> Value {
        self.rv += 1;
        object["apiVersion"] = Value::from(key.0.api_version());
        object["kind"] = Value::from(key.0.kind);
        object["metadata"]["resourceVersion"] = Value::from(self.rv.to_string());
        self.publish(event_type, key.0, &key.1, &object);
        self.objects.insert(key, object.clone());
        object
    }

    fn publish(&mut self, event_type: &str, resource: Resource, ns: &str, object: &Value) {
        self.history
            .publish(self.rv, event_type, resource, ns, object);
    }
}

fn schema_table() -> Vec<(&'static str, Value)> {
    let mut out = vec![
        ("WebSocketRoute", schema::websocketroute_schema()),
        ("WebSocketPolicy", schema::websocketpolicy_schema()),
    ];
    for kind in ["GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant"] {
        if let Some(s) = schema::gateway_api_schema(kind) {
            out.push((kind, s));
        }
    }
    out
}

fn meta_str(object: &Value, field: &str) -> Option<String> {
    object["metadata"][field].as_str().map(str::to_string)
}

fn not_found(resource: Resource, name: &str) -> StoreError {
    StoreError::NotFound(format!("{} \"{name}\" not found", resource.plural))
}
