use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::rules::Rules;

/// A masked binary frame (client to backend) with `len` payload bytes.
fn masked_frame(len: usize) -> Vec<u8> {
    let mut f = vec![0x82, 0x80 | 126];
    f.extend_from_slice(&u16::try_from(len).expect("short frame").to_be_bytes());
    f.extend_from_slice(&[1, 2, 3, 4]);
    f.extend((0..len).map(|i| (i % 251) as u8));
    f
}

#[tokio::test]
async fn a_slow_sink_borrows_a_buffer_that_goes_back_once_written() {
    let frame = masked_frame(3000);
    let (mut client, mut src) = tokio::io::duplex(8192);
    // The sink takes 64 bytes at a time: most of the frame has to wait.
    let (mut dst, mut backend) = tokio::io::duplex(64);
    client.write_all(&frame).await.expect("write");
    let total = frame.len();
    let reader = tokio::spawn(async move {
        let mut got = vec![0; total];
        backend.read_exact(&mut got).await.map(|_| got)
    });
    let mut half = Half::new(Side::Up, 1 << 20, Rules::CLIENT);
    let mut sig = Signals::default();
    let mut held = false;
    let relayed = poll_fn(|cx| {
        if let Poll::Ready(r) = half.poll_relay(cx, &mut src, &mut dst, &mut sig) {
            return Poll::Ready(r.map(|()| false));
        }
        held |= half.holds_buffer();
        if half.bytes == total as u64 && !half.holds_buffer() {
            return Poll::Ready(Ok(true));
        }
        Poll::Pending
    });
    let drained = tokio::time::timeout(Duration::from_secs(10), relayed)
        .await
        .expect("relayed in time")
        .expect("relay");
    assert!(drained, "the source must not end");
    assert!(held, "the slow sink must have made the half hold its bytes");
    assert!(!half.holds_buffer(), "an idle half holds no buffer");
    let got = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("read in time")
        .expect("task")
        .expect("read");
    assert_eq!(got, frame, "the frame arrives whole and unchanged");
    assert_eq!(half.take_message_count(), 1);
}

#[tokio::test]
async fn an_injected_ping_leaves_no_buffer_behind() {
    let (_client, mut src) = tokio::io::duplex(1024);
    let (mut dst, mut peer) = tokio::io::duplex(1024);
    let mut half = Half::new(Side::Down, 1 << 20, Rules::PASSTHROUGH);
    let mut sig = Signals::default();
    half.queue(&[0x89, 0x00], false);
    assert!(half.holds_buffer());
    let r = poll_fn(|cx| Poll::Ready(half.poll_relay(cx, &mut src, &mut dst, &mut sig))).await;
    assert!(r.is_pending(), "nothing to read yet");
    assert!(
        !half.holds_buffer(),
        "the ping went out and its buffer with it"
    );
    let mut ping = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), peer.read_exact(&mut ping))
        .await
        .expect("in time")
        .expect("read");
    assert_eq!(ping, [0x89, 0x00]);
}
