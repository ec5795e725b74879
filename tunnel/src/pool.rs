//! Relay buffers, per thread: one scratch buffer that every read of the thread's tunnels goes
//! into (allocated and zeroed once, lent for the length of a poll), and a small free list of
//! output buffers that a half borrows only while bytes wait for a slow sink and gives back as
//! soon as they are written. An idle tunnel holds none of them.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes read per read call.
pub const READ_BUF: usize = 16 * 1024;
/// An output buffer that grew past this is freed instead of going back to the free list.
const KEEP_CAPACITY: usize = 16 * 1024;
/// Output buffers a thread keeps for reuse.
const KEEP_FREE: usize = 32;

thread_local! {
    static SCRATCH: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Output buffers lent out and not yet given back, all threads together.
static LENT: AtomicUsize = AtomicUsize::new(0);

/// Output buffers currently held by tunnels (bytes waiting for a slow peer), process-wide.
pub fn buffers_in_use() -> usize {
    LENT.load(Ordering::Relaxed)
}

/// The thread's read buffer, lent until dropped (no zeroing per read: it was zeroed once).
pub struct Scratch(Option<Box<[u8]>>);

impl Scratch {
    /// Borrows the thread's scratch buffer (a fresh one if it is already lent out).
    pub fn take() -> Self {
        let buf = SCRATCH
            .take()
            .unwrap_or_else(|| vec![0u8; READ_BUF].into_boxed_slice());
        Self(Some(buf))
    }

    /// The buffer.
    pub fn buf(&mut self) -> &mut [u8] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(buf) = self.0.take() {
            SCRATCH.set(Some(buf));
        }
    }
}

/// Bytes waiting to be written: no allocation while empty; the buffer is borrowed from the
/// thread's free list on the first byte and given back once everything was written.
#[derive(Debug, Default)]
pub struct Pending {
    buf: Option<Vec<u8>>,
    pos: usize,
}

impl Pending {
    /// Appends `bytes`, borrowing a buffer if none is held.
    pub fn extend(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.buf.get_or_insert_with(borrow).extend_from_slice(bytes);
    }

    /// Bytes not yet written.
    pub fn unwritten(&self) -> &[u8] {
        self.buf.as_deref().map_or(&[], |b| &b[self.pos..])
    }

    /// `n` more bytes were written; once all are, the buffer goes back.
    pub fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.buf.as_ref().is_some_and(|b| self.pos >= b.len()) {
            self.release();
        }
    }

    /// True while a buffer is held.
    #[cfg(test)]
    pub fn holds_buffer(&self) -> bool {
        self.buf.is_some()
    }

    fn release(&mut self) {
        self.pos = 0;
        if let Some(buf) = self.buf.take() {
            give_back(buf);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.release();
    }
}

fn borrow() -> Vec<u8> {
    LENT.fetch_add(1, Ordering::Relaxed);
    FREE.with_borrow_mut(Vec::pop)
        .unwrap_or_else(|| Vec::with_capacity(1024))
}

fn give_back(mut buf: Vec<u8>) {
    LENT.fetch_sub(1, Ordering::Relaxed);
    if buf.capacity() > KEEP_CAPACITY {
        return;
    }
    buf.clear();
    // A thread that is being torn down has no free list any more; the buffer is just freed.
    let _ = FREE.try_with(|free| {
        if let Ok(mut free) = free.try_borrow_mut()
            && free.len() < KEEP_FREE
        {
            free.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_holds_a_buffer_only_while_bytes_wait() {
        let mut p = Pending::default();
        assert!(!p.holds_buffer());
        p.extend(b"hello");
        assert!(p.holds_buffer());
        p.consume(2);
        assert_eq!(p.unwritten(), b"llo");
        assert!(p.holds_buffer());
        p.consume(3);
        assert!(!p.holds_buffer());
        assert!(p.unwritten().is_empty());
        p.extend(b"");
        assert!(!p.holds_buffer());
    }

    #[test]
    fn scratch_is_lent_and_returned() {
        let mut a = Scratch::take();
        a.buf()[0] = 7;
        let mut b = Scratch::take();
        assert_eq!(b.buf().len(), READ_BUF);
        drop(b);
        drop(a);
        assert_eq!(Scratch::take().buf().len(), READ_BUF);
    }
}
