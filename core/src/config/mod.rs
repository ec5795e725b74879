//! The routes file: multi-document YAML of `WebSocketRoute` (and one optional `ProxyConfig`)
//! documents, validated and compiled into a [`RouteTable`].
//!
//! ```text
//!   routes.yaml ──read──> yaml::documents ──decode──> RouteSpec ──compile──> RouteTable
//!                                                    ProxyConfigSpec ──────> ProxySettings
//! ```

mod files;
mod yaml;

pub use files::FileStamp;

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::compile::security::compile_listener;
use crate::compile::shared::compile_shared_state;
use crate::compile::{FieldError, compile_route_with, resolve_static_backend};
use crate::spec::{API_VERSION, PROXY_CONFIG_KIND, ProxyConfigSpec, ROUTE_KIND, RouteSpec};
use crate::table::security::ListenerOptions;
use crate::table::shared::SharedState;
use crate::table::{Route, RouteId, RouteTable};

/// Why a routes file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The YAML itself is malformed.
    #[error("{0}")]
    Syntax(String),
    /// A field is invalid.
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// Process-level settings from the `ProxyConfig` document (CLI flags may override them).
#[derive(Clone, Debug, PartialEq)]
pub struct ProxySettings {
    /// Plaintext listener.
    pub http_listen: SocketAddr,
    /// Admin listener.
    pub admin_listen: SocketAddr,
    /// TLS listener, if any.
    pub https_listen: Option<SocketAddr>,
    /// Longest time a shutdown waits for connections to close.
    pub shutdown_timeout: Duration,
    /// PROXY protocol, trusted proxies and request-head limits of the listeners.
    pub listener: ListenerOptions,
    /// State shared with the other replicas (`spec.sharedState`).
    pub shared_state: SharedState,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            https_listen: None,
            shutdown_timeout: Duration::from_secs(30),
            listener: ListenerOptions::default(),
            shared_state: SharedState::default(),
        }
    }
}

/// A successfully loaded routes file.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedConfig {
    /// Process settings.
    pub settings: ProxySettings,
    /// The routes, version 0 (the publisher sets the version).
    pub table: RouteTable,
    /// Certificate, key and CA files the routes name, as read.
    pub files: Vec<FileStamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Document<S> {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: Metadata,
    spec: S,
    #[serde(default)]
    #[allow(dead_code)]
    status: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    #[allow(dead_code)]
    annotations: BTreeMap<String, String>,
}

/// Reads and compiles a routes file; files it names are relative to its directory.
pub fn load_file(path: &Path) -> Result<LoadedConfig, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_in(&text, base_dir(path)).0
}

/// Compiles the text of a routes file; files it names are relative to the current directory.
pub fn load_str(text: &str) -> Result<LoadedConfig, LoadError> {
    load_in(text, Path::new(".")).0
}

/// Compiles the text of a routes file whose named files are relative to `base`. Also returns
/// the files it read (or tried to), whether or not the text was accepted.
pub fn load_in(text: &str, base: &Path) -> (Result<LoadedConfig, LoadError>, Vec<FileStamp>) {
    let material = files::FileMaterial::new(base);
    let result = load_with(text, &material);
    let stamps = material.into_stamps();
    let result = result.map(|loaded| LoadedConfig {
        files: stamps.clone(),
        ..loaded
    });
    (result, stamps)
}

/// Directory of the routes file (`.` for a bare file name).
pub fn base_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn load_with(text: &str, material: &files::FileMaterial) -> Result<LoadedConfig, LoadError> {
    let mut loader = Loader {
        material,
        routes: Vec::new(),
        seen: HashSet::new(),
        settings: None,
    };
    for (index, doc) in yaml::documents(text).enumerate() {
        loader.document(index, doc.map_err(LoadError::Syntax)?)?;
    }
    crate::table::share::share_policies(&mut loader.routes);
    Ok(LoadedConfig {
        settings: loader.settings.unwrap_or_default(),
        table: RouteTable {
            version: 0,
            routes: Arc::from(loader.routes),
            refused: Arc::default(),
        },
        files: Vec::new(),
    })
}

/// What the documents of a routes file add up to, document by document.
struct Loader<'a> {
    material: &'a files::FileMaterial,
    routes: Vec<Route>,
    seen: HashSet<RouteId>,
    settings: Option<ProxySettings>,
}

impl Loader<'_> {
    /// Checks one document's `apiVersion` and `kind` and adds it; errors name it by
    /// `metadata.name` (else its position).
    fn document(&mut self, index: usize, doc: yaml::Document) -> Result<(), LoadError> {
        let label = yaml::metadata_name(&doc)
            .map(str::to_string)
            .unwrap_or_else(|| format!("document {}", index + 1));
        let fail = |field: &str, message: String| FieldError::new(&label, field, message);
        match yaml::str_field(&doc, "apiVersion") {
            Some(API_VERSION) => {}
            Some(other) => {
                let message = format!("{other:?} is not supported (use {API_VERSION})");
                return Err(fail("apiVersion", message).into());
            }
            None => return Err(fail("apiVersion", format!("is required ({API_VERSION})")).into()),
        }
        let kind = yaml::str_field(&doc, "kind").map(str::to_string);
        match kind.as_deref() {
            Some(ROUTE_KIND) => self.route(doc, &fail),
            Some(PROXY_CONFIG_KIND) => self.proxy_config(doc, &fail),
            Some(other) => Err(fail(
                "kind",
                format!("{other:?} is not supported (use {ROUTE_KIND} or {PROXY_CONFIG_KIND})"),
            )
            .into()),
            None => Err(fail("kind", format!("is required ({ROUTE_KIND})")).into()),
        }
    }

    fn route(&mut self, doc: yaml::Document, fail: &Fail<'_>) -> Result<(), LoadError> {
        let parsed: Document<RouteSpec> = yaml::decode(doc).map_err(|(f, m)| fail(&f, m))?;
        let id = RouteId {
            namespace: parsed
                .metadata
                .namespace
                .unwrap_or_else(|| "default".into()),
            name: parsed.metadata.name,
        };
        validate_name(&id.name).map_err(|m| fail("metadata.name", m))?;
        if !self.seen.insert(id.clone()) {
            return Err(fail("metadata.name", format!("route {id} is defined twice")).into());
        }
        let route = compile_route_with(id, &parsed.spec, &resolve_static_backend, self.material)?;
        self.routes.push(route);
        Ok(())
    }

    fn proxy_config(&mut self, doc: yaml::Document, fail: &Fail<'_>) -> Result<(), LoadError> {
        if self.settings.is_some() {
            return Err(fail("kind", "only one ProxyConfig document is allowed".into()).into());
        }
        let parsed: Document<ProxyConfigSpec> = yaml::decode(doc).map_err(|(f, m)| fail(&f, m))?;
        let settings = compile_settings(&parsed.spec, self.material.base());
        self.settings = Some(settings.map_err(|(f, m)| fail(&f, m))?);
        Ok(())
    }
}

/// Builds the error for a field of the document being loaded.
type Fail<'a> = dyn Fn(&str, String) -> FieldError + 'a;

fn compile_settings(
    spec: &ProxyConfigSpec,
    base: &Path,
) -> Result<ProxySettings, (String, String)> {
    let mut settings = ProxySettings::default();
    let parse = |text: &str, field: &str| -> Result<SocketAddr, (String, String)> {
        text.parse().map_err(|_| {
            (
                field.to_string(),
                format!("{text:?} is not an ip:port address"),
            )
        })
    };
    if let Some(http) = &spec.listen.http {
        settings.http_listen = parse(http, "spec.listen.http")?;
    }
    if let Some(admin) = &spec.listen.admin {
        settings.admin_listen = parse(admin, "spec.listen.admin")?;
    }
    if let Some(https) = &spec.listen.https {
        settings.https_listen = Some(parse(https, "spec.listen.https")?);
    }
    if let Some(t) = spec.shutdown_timeout {
        settings.shutdown_timeout = t.0;
    }
    settings.listener = compile_listener(spec)?;
    settings.shared_state = compile_shared_state(spec.shared_state.as_ref(), base)?;
    Ok(settings)
}

/// Route names follow Kubernetes object names (DNS-1123 subdomain).
fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} must be lower-case letters, digits, '-' or '.', starting and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests;
