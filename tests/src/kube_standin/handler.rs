//! The HTTP front: records writes, answers discovery, and maps verbs on resource paths to
//! the store.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::Value;

use super::objects::status;
use super::resources::{self, Target};
use super::selectors::Selector;
use super::store::{Filter, Page, PatchKind, Store, StoreError, Write};
use super::{discovery, watch};

/// Response body: a whole JSON document or a watch stream.
pub type Body = BoxBody<Bytes, Infallible>;

/// Serves one request.
pub async fn handle(
    req: Request<Incoming>,
    store: Arc<Mutex<Store>>,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    lock(&store)
        .requests
        .push(format!("{method} {path}?{query}"));
    if method != Method::GET {
        let write = Write {
            method: method.to_string(),
            path: path.clone(),
            content_type: content_type.clone(),
            body: body.clone(),
        };
        lock(&store).writes.push(write);
    }
    if method == Method::GET
        && let Some(doc) = discovery::document(&path)
    {
        return Ok(json(StatusCode::OK, &doc));
    }
    let Some(target) = resources::parse(&path) else {
        lock(&store).unknown_paths.push(format!("{method} {path}"));
        let missing = status(
            404,
            "NotFound",
            &format!("the server could not find {path}"),
        );
        return Ok(json(StatusCode::NOT_FOUND, &missing));
    };
    let params = match Params::parse(&query, target.resource) {
        Ok(p) => p,
        Err(message) => {
            let bad = status(400, "BadRequest", &message);
            return Ok(json(StatusCode::BAD_REQUEST, &bad));
        }
    };
    if let Some(early) = watch_or_refuse(&store, &method, &target, &content_type, &params) {
        return Ok(early);
    }
    let result = dispatch(
        &mut lock(&store),
        &method,
        &target,
        &content_type,
        body,
        &params,
    );
    Ok(match result {
        Ok((code, value)) => json(code, &value),
        Err(error) => failure(&error),
    })
}

/// A watch stream, or the refusal of an apply without a field manager.
fn watch_or_refuse(
    store: &Arc<Mutex<Store>>,
    method: &Method,
    target: &Target,
    content_type: &str,
    params: &Params,
) -> Option<Response<Body>> {
    if *method == Method::GET && target.name.is_none() && params.watch {
        let options = watch::Options {
            since: params.resource_version,
            filter: params.filter.clone(),
            timeout: params.timeout,
            bookmarks: params.bookmarks,
        };
        let ns = target.namespace.as_deref();
        let body = watch::body(store, target.resource, ns, options);
        return Some(response(StatusCode::OK, body));
    }
    if *method == Method::PATCH
        && content_type.starts_with("application/apply-patch")
        && !params.field_manager
    {
        let missing = StoreError::Invalid(
            "PATCH with application/apply-patch+yaml requires the fieldManager parameter".into(),
        );
        return Some(failure(&missing));
    }
    None
}

fn dispatch(
    store: &mut Store,
    method: &Method,
    target: &Target,
    content_type: &str,
    body: Value,
    params: &Params,
) -> Result<(StatusCode, Value), StoreError> {
    let resource = target.resource;
    let ns = if resource.namespaced {
        target.namespace.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let status_only = target.subresource.as_deref() == Some("status");
    // Indexing into a non-object JSON value would panic; the API answers 422 instead.
    if *method != Method::GET && *method != Method::DELETE && !body.is_object() {
        return Err(StoreError::Invalid("the body must be a JSON object".into()));
    }
    let Some(name) = target.name.as_deref() else {
        return match *method {
            Method::GET => Ok((
                StatusCode::OK,
                store.list_page(
                    resource,
                    target.namespace.as_deref(),
                    &params.filter,
                    params.page.as_ref(),
                )?,
            )),
            Method::POST => Ok((StatusCode::CREATED, store.create(resource, &ns, body)?)),
            _ => Err(StoreError::Invalid(format!("{method} on a collection"))),
        };
    };
    let ok = |v| Ok((StatusCode::OK, v));
    match *method {
        Method::GET => ok(store.get(resource, &ns, name)?),
        Method::PUT => ok(store.replace(resource, &ns, name, body)?),
        Method::DELETE => ok(store.delete(resource, &ns, name)?),
        Method::PATCH => {
            let kind = if content_type.starts_with("application/apply-patch") {
                PatchKind::Apply
            } else {
                PatchKind::Merge
            };
            ok(store.patch(resource, &ns, name, &body, kind, status_only)?)
        }
        _ => Err(StoreError::Invalid(format!("{method} is not served"))),
    }
}

/// Query parameters the stand-in acts on.
struct Params {
    watch: bool,
    resource_version: Option<u64>,
    filter: Filter,
    page: Option<Page>,
    timeout: Option<std::time::Duration>,
    bookmarks: bool,
    field_manager: bool,
}

impl Params {
    fn parse(query: &str, resource: super::resources::Resource) -> Result<Params, String> {
        let mut p = Params {
            watch: false,
            resource_version: None,
            filter: Filter::default(),
            page: None,
            timeout: None,
            bookmarks: false,
            field_manager: false,
        };
        let (mut limit, mut token) = (None, None);
        for pair in query.split('&') {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            let v = percent_decode(v);
            match k {
                "watch" => p.watch = v == "true" || v == "1",
                "resourceVersion" => p.resource_version = v.parse().ok().filter(|rv| *rv > 0),
                "labelSelector" => p.filter.labels = Selector::labels(&v)?,
                "fieldSelector" => p.filter.fields = Selector::fields(&v, resource.fields())?,
                "limit" => limit = v.parse::<usize>().ok().filter(|l| *l > 0),
                "continue" => token = Some(v),
                "timeoutSeconds" => {
                    p.timeout = v.parse().ok().map(std::time::Duration::from_secs);
                }
                "allowWatchBookmarks" => p.bookmarks = v == "true",
                "fieldManager" => p.field_manager = !v.is_empty(),
                _ => {}
            }
        }
        if limit.is_some() || token.is_some() {
            p.page = Some(Page::parse(limit, token.as_deref())?);
        }
        Ok(p)
    }
}

/// Decodes `%XX` escapes and `+` in a query value.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    // A panicked holder leaves plain data behind; keep serving it.
    store.lock().unwrap_or_else(|e| e.into_inner())
}

fn failure(error: &StoreError) -> Response<Body> {
    let (code, reason, message) = match error {
        StoreError::NotFound(m) => (404, "NotFound", m),
        StoreError::AlreadyExists(m) => (409, "AlreadyExists", m),
        StoreError::Conflict(m) => (409, "Conflict", m),
        StoreError::Invalid(m) => (422, "Invalid", m),
        StoreError::Gone(m) => (410, "Expired", m),
    };
    let code_status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    json(code_status, &status(code, reason, message))
}

fn json(code: StatusCode, value: &Value) -> Response<Body> {
    let bytes = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
    response(code, Full::new(bytes).boxed())
}

fn response(code: StatusCode, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
