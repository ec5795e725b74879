//! Files a routes file names (certificates, keys, CA bundles): read relative to the routes
//! file and fingerprinted, so a renewed certificate reloads the table like an edit does.

use std::cell::RefCell;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::compile::tls::{FieldFailure, PemPair, TlsMaterial};
use crate::spec::{BackendTlsSpec, TlsSpec};

/// A file the table was built from and the fingerprint of what was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStamp {
    /// Path as resolved (relative names joined to the routes file's directory).
    pub path: PathBuf,
    /// Fingerprint of the content (or of the error reading it).
    pub fingerprint: u64,
}

impl FileStamp {
    /// Reads `path` now and fingerprints it the way the loader did.
    pub fn current(path: &Path) -> u64 {
        fingerprint(&std::fs::read(path))
    }
}

/// Fingerprint of a read: content, or the kind of error (a missing file is a state too).
pub fn fingerprint(read: &std::io::Result<Vec<u8>>) -> u64 {
    let mut h = DefaultHasher::new();
    match read {
        Ok(bytes) => bytes.hash(&mut h),
        Err(e) => format!("error: {:?}", e.kind()).hash(&mut h),
    }
    h.finish()
}

/// Reads certificate material from files named in a routes file, recording each read.
pub struct FileMaterial {
    base: PathBuf,
    stamps: RefCell<Vec<FileStamp>>,
}

impl FileMaterial {
    /// Resolves relative names against `base` (the routes file's directory).
    pub fn new(base: &Path) -> Self {
        Self {
            base: base.to_path_buf(),
            stamps: RefCell::new(Vec::new()),
        }
    }

    /// Directory relative names are resolved against.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Every file read so far, in order, each once.
    pub fn into_stamps(self) -> Vec<FileStamp> {
        self.stamps.into_inner()
    }

    fn read(&self, name: &str, field: &str) -> Result<Arc<[u8]>, FieldFailure> {
        let path = self.base.join(name);
        let read = std::fs::read(&path);
        let stamp = FileStamp {
            path: path.clone(),
            fingerprint: fingerprint(&read),
        };
        let mut stamps = self.stamps.borrow_mut();
        if !stamps.iter().any(|s| s.path == stamp.path) {
            stamps.push(stamp);
        }
        read.map(Arc::from)
            .map_err(|e| (field.to_string(), format!("{}: {e}", path.display())))
    }
}

impl TlsMaterial for FileMaterial {
    fn certificate(&self, spec: &TlsSpec) -> Result<Option<PemPair>, FieldFailure> {
        if spec.secret_name.is_some() {
            return Err((
                "spec.tls.secretName".into(),
                "secretName needs the controller (a cluster); in a routes file use certFile and keyFile"
                    .into(),
            ));
        }
        match (&spec.cert_file, &spec.key_file) {
            (Some(cert), Some(key)) => Ok(Some((
                self.read(cert, "spec.tls.certFile")?,
                self.read(key, "spec.tls.keyFile")?,
            ))),
            _ => Ok(None),
        }
    }

    fn ca_bundle(
        &self,
        spec: &BackendTlsSpec,
        field: &str,
    ) -> Result<Option<Arc<[u8]>>, FieldFailure> {
        match &spec.ca_file {
            Some(name) => self.read(name, &format!("{field}.caFile")).map(Some),
            None => Ok(None),
        }
    }
}
