//! An in-process stand-in for the Kubernetes API over real HTTP, for running the real
//! controller against: discovery, list, watch from a resourceVersion (410 Gone when too old),
//! get, create, replace, merge patch, server-side apply (as a merge), the status subresource
//! and delete, for the kinds wsgate reads and writes. It records every write request and can
//! be stopped and started again on the same port (open watches break; the port is never
//! given up, so nothing else can take it meanwhile).
//!
//! ```text
//!   test ──create/patch/delete──> Store ──events──> watch streams ──HTTP──> wsgate controller
//!                                   ^──────────── list/get/patch/... ──HTTP──┘
//! ```

mod discovery;
mod handler;
mod history;
pub mod kubeconfig;
mod objects;
mod query;
pub mod resources;
mod schema;
mod selectors;
mod store;
mod watch;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

pub use objects::base64;
pub use resources::Resource;
pub use store::{StoreError, Write};

use store::{PatchKind, Store};

/// Watch events kept for resuming watches; older resourceVersions get 410 Gone.
const KEEP_EVENTS: usize = 10_000;

/// A running (or stopped) stand-in.
pub struct KubeApi {
    store: Arc<Mutex<Store>>,
    doors: Vec<Door>,
}

/// One listening address of the stand-in. Door 0 is the main one; more can be opened so
/// that a single client (one controller replica) can be cut off while others keep talking.
/// A closed door keeps its socket (so no other program can take the port meanwhile) and
/// cuts every connection it accepts, as an API server that went away would.
struct Door {
    addr: SocketAddr,
    listener: Arc<TcpListener>,
    task: JoinHandle<()>,
    open: bool,
    /// Connections being served; a closed door's reach zero once their tasks are gone.
    live: Arc<AtomicUsize>,
}

impl Door {
    async fn bind(store: &Arc<Mutex<Store>>) -> Door {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stand-in");
        let addr = listener.local_addr().expect("stand-in address");
        let listener = Arc::new(listener);
        let live = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(serve(listener.clone(), store.clone(), live.clone()));
        Door {
            addr,
            listener,
            task,
            open: true,
            live,
        }
    }

    fn close(&mut self) {
        if self.open {
            // Aborting the accept task drops its JoinSet, which aborts every connection.
            self.task.abort();
            self.task = tokio::spawn(refuse(self.listener.clone()));
            self.open = false;
        }
    }

    fn reopen(&mut self, store: &Arc<Mutex<Store>>) {
        if !self.open {
            self.task.abort();
            let live = self.live.clone();
            self.task = tokio::spawn(serve(self.listener.clone(), store.clone(), live));
            self.open = true;
        }
    }
}

impl KubeApi {
    /// Starts on 127.0.0.1 with an OS-chosen port.
    pub async fn start() -> KubeApi {
        let store = Arc::new(Mutex::new(Store::new(KEEP_EVENTS)));
        let door = Door::bind(&store).await;
        KubeApi {
            store,
            doors: vec![door],
        }
    }

    /// `http://127.0.0.1:PORT` of the main door.
    pub fn url(&self) -> String {
        self.door_url(0)
    }

    /// `http://127.0.0.1:PORT` of `door`.
    pub fn door_url(&self, door: usize) -> String {
        format!("http://{}", self.doors[door].addr)
    }

    /// Writes a kubeconfig pointing at the main door.
    pub fn write_kubeconfig(&self, path: &Path) {
        kubeconfig::write(path, &self.url()).expect("write kubeconfig");
    }

    /// Opens another door (a listener on a new port, same objects) and returns its number.
    pub async fn open_door(&mut self) -> usize {
        let door = Door::bind(&self.store).await;
        self.doors.push(door);
        self.doors.len() - 1
    }

    /// Closes `door` and drops its connections (watches included): its clients see the API
    /// go away while clients of other doors do not.
    pub fn close_door(&mut self, door: usize) {
        self.doors[door].close();
    }

    /// Serves `door` again, on the same port (its socket was never given up).
    pub async fn reopen_door(&mut self, door: usize) {
        self.doors[door].reopen(&self.store);
    }

    /// Stops serving on every door and drops every open connection. Objects stay. Returns
    /// once the connections are gone, so a change made next reaches no open watch.
    pub async fn stop(&mut self) {
        for door in &mut self.doors {
            door.close();
        }
        // Aborted tasks end on their next poll; wait for it (bounded) rather than race it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.doors.iter().any(|d| d.live.load(Ordering::SeqCst) > 0) {
            assert!(
                Instant::now() < deadline,
                "stand-in connections outlived stop()"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Serves every door again.
    pub async fn start_again(&mut self) {
        for door in 0..self.doors.len() {
            self.reopen_door(door).await;
        }
    }

    /// Creates an object (its `apiVersion` and `kind` pick the resource; namespaced kinds
    /// need `metadata.namespace`), as a client's POST would, without recording a write.
    pub fn create(&self, object: Value) -> Value {
        let (resource, ns, _) = locate(&object);
        self.lock().create(resource, &ns, object).expect("create")
    }

    /// Merge-patches an object named by `object`'s apiVersion, kind, namespace and name.
    pub fn patch(&self, object: Value) -> Value {
        let (resource, ns, name) = locate(&object);
        self.lock()
            .patch(resource, &ns, &name, &object, PatchKind::Merge, false)
            .expect("patch")
    }

    /// Deletes an object.
    pub fn delete(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Value {
        let resource = Resource::of(api_version, kind).expect("known kind");
        self.lock().delete(resource, ns, name).expect("delete")
    }

    /// One object, if it exists.
    pub fn get(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let resource = Resource::of(api_version, kind).expect("known kind");
        self.lock().get(resource, ns, name).ok()
    }

    /// Every write request received so far.
    pub fn writes(&self) -> Vec<Write> {
        self.lock().writes.clone()
    }

    /// Every request so far as `METHOD path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// Requests to paths the stand-in does not serve.
    pub fn unknown_paths(&self) -> Vec<String> {
        self.lock().unknown_paths.clone()
    }

    /// Forgets the watch history: watches resuming from older versions get 410 Gone.
    pub fn compact(&self) {
        self.lock().compact();
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        for door in &self.doors {
            door.task.abort();
        }
    }
}

fn locate(object: &Value) -> (Resource, String, String) {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let resource = Resource::of(api_version, kind)
        .unwrap_or_else(|| panic!("the stand-in does not serve {api_version} {kind}"));
    let ns = object["metadata"]["namespace"].as_str().unwrap_or_default();
    assert!(
        !resource.namespaced || !ns.is_empty(),
        "{kind} needs metadata.namespace"
    );
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    (resource, ns.to_string(), name.to_string())
}

/// Accepts and drops every connection: a closed door.
async fn refuse(listener: Arc<TcpListener>) {
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            // Reset rather than a clean end: nothing answers on a closed door.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
    }
}

/// Counts a connection while its task lives.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Live {
        count.fetch_add(1, Ordering::SeqCst);
        Live(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(listener: Arc<TcpListener>, store: Arc<Mutex<Store>>, live: Arc<AtomicUsize>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        let counted = Live::new(&live);
        connections.spawn(async move {
            let _counted = counted;
            let svc = service_fn(move |req| handler::handle(req, store.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
