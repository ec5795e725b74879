//! Locking that survives a poisoned mutex: the state behind every lock here stays consistent
//! between statements, so a panic elsewhere must not take the data plane down with it.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering the guard if a holder panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
