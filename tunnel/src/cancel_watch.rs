//! Watching a cancellation token from a future that is polled on every relayed message,
//! without a lock per poll: polling the token's own future takes its mutex (and the waiter
//! list's) every time, and an endpoint's token is shared by all of its tunnels. Here the
//! token's future is polled only when the task's waker changed or after it woke; its wakeup
//! sets a flag and forwards to the task.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Resolves once the token is cancelled.
pub struct CancelWatch {
    fut: Pin<Box<WaitForCancellationFutureOwned>>,
    flag: Arc<Flag>,
    /// The task waker the flag forwards to, as last registered.
    task: Option<Waker>,
}

#[derive(Default)]
struct Flag {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl CancelWatch {
    /// Watches `token`.
    pub fn new(token: CancellationToken) -> Self {
        Self {
            fut: Box::pin(token.cancelled_owned()),
            flag: Arc::default(),
            task: None,
        }
    }

    /// `Ready` once the token is cancelled; otherwise the task is woken when it is.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let same_task = self.task.as_ref().is_some_and(|w| w.will_wake(cx.waker()));
        if same_task && !self.flag.woken.swap(false, Ordering::Acquire) {
            return Poll::Pending;
        }
        if !same_task {
            self.flag.task.register(cx.waker());
            self.task = Some(cx.waker().clone());
        }
        let waker = Waker::from(self.flag.clone());
        self.fut.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    #[tokio::test]
    async fn resolves_when_cancelled_and_not_before() {
        let token = CancellationToken::new();
        let mut watch = CancelWatch::new(token.clone());
        for _ in 0..3 {
            assert!(poll_fn(|cx| Poll::Ready(watch.poll(cx))).await.is_pending());
        }
        let waiter = tokio::spawn(async move { poll_fn(|cx| watch.poll(cx)).await });
        tokio::task::yield_now().await;
        token.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("the watch resolves after cancel")
            .expect("task");
    }

    #[tokio::test]
    async fn resolves_at_once_when_already_cancelled() {
        let token = CancellationToken::new();
        token.cancel();
        let mut watch = CancelWatch::new(token);
        assert!(poll_fn(|cx| Poll::Ready(watch.poll(cx))).await.is_ready());
    }
}
