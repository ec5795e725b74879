//! Child processes of the tests (wsgate, Node, Redis, browsers) that cannot outlive or hang
//! a test: owned ones are killed on drop and by the test's hard limit, commands run to
//! completion only within a time limit, and start-up waits for a line with a deadline.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// A long-running child process the test owns: killed (by PID) and reaped on drop, and
/// killed by the test's hard limit if the test hangs.
#[derive(Debug)]
pub struct OwnedChild {
    child: Child,
}

impl OwnedChild {
    /// Spawns `cmd`. `what` names it in messages.
    pub fn spawn(cmd: &mut Command, what: &str) -> OwnedChild {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Self::adopt(child)
    }

    /// Takes ownership of an already spawned child.
    pub fn adopt(child: Child) -> OwnedChild {
        crate::e2e::track(child.id());
        OwnedChild { child }
    }

    /// Process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if it has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The underlying child, e.g. to take its pipes.
    pub fn inner(&mut self) -> &mut Child {
        &mut self.child
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        crate::e2e::untrack(self.child.id());
    }

    /// Waits (without blocking the runtime) up to `limit` for the process to exit.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for OwnedChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends signal `name` (`TERM`, `HUP`, ...) to process `pid`; fails the test if `kill` fails.
pub fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::inherit())
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

/// Which output stream carries a process's start-up line.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Starts `cmd` and waits up to `limit` for a line containing `marker` on `stream`; returns
/// the child and the rest of that line after the marker. Every later line goes to `on_line`
/// on a reader thread, so the child never blocks on a full pipe. Fails the test if the
/// process ends or stays silent instead.
pub fn start_until(
    cmd: &mut Command,
    what: &str,
    stream: Stream,
    marker: &str,
    limit: Duration,
    on_line: impl FnMut(&str) + Send + 'static,
) -> (OwnedChild, String) {
    try_start_until(cmd, what, stream, marker, limit, on_line).unwrap_or_else(|e| panic!("{e}"))
}

/// [`start_until`] that returns what went wrong instead of failing the test (the process is
/// stopped then), for callers that can retry.
pub fn try_start_until(
    cmd: &mut Command,
    what: &str,
    stream: Stream,
    marker: &str,
    limit: Duration,
    mut on_line: impl FnMut(&str) + Send + 'static,
) -> Result<(OwnedChild, String), String> {
    match stream {
        Stream::Stdout => cmd.stdout(Stdio::piped()),
        Stream::Stderr => cmd.stderr(Stdio::piped()),
    };
    let mut child = OwnedChild::spawn(cmd, what);
    let pipe: Box<dyn Read + Send> = match stream {
        Stream::Stdout => Box::new(child.inner().stdout.take().expect("piped stdout")),
        Stream::Stderr => Box::new(child.inner().stderr.take().expect("piped stderr")),
    };
    let (tx, rx) = channel();
    let marker_owned = marker.to_string();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(pipe).lines().map_while(Result::ok);
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            if let Some((_, rest)) = line.split_once(&marker_owned) {
                let _ = tx.send(Ok(rest.trim().to_string()));
                break;
            }
            seen.push(line);
        }
        // The stream ended before the marker: report what it said instead.
        let _ = tx.send(Err(seen.join("\n")));
        for line in lines {
            on_line(&line);
        }
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(rest)) => Ok((child, rest)),
        Ok(Err(output)) => Err(format!(
            "{what} exited before printing {marker:?} (status {:?}):\n{output}",
            child.try_wait()
        )),
        Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
            Err(format!("{what} did not print {marker:?} within {limit:?}"))
        }
    }
}

/// Runs `cmd` to completion, at most `limit`: on expiry the process is killed and the test
/// fails with what it printed so far. For helpers (node, openssl, certutil) that must not
/// hang a test. Blocking: call it from `spawn_blocking` when the runtime must keep running.
pub fn output_within(cmd: &mut Command, what: &str, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read_all(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{what} did not finish within {limit:?} and was killed; it printed:\n{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}
