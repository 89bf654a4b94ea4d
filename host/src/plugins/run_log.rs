//! A run's log: everything the guest writes — `log` import lines, stdout and stderr — under
//! one cap in bytes and one in lines, counted together. Past either, the rest is dropped
//! (never a trap: a plugin's debug output must not cost the customer its price) and the log
//! ends with a truncation marker. Control characters become `�`, so a log line can always
//! be stored and shown.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Appended when something was dropped.
pub const TRUNCATED: &str = "[log truncated: cap reached]";
/// What one write to stdout or stderr may take at once (WASI's `check-write`).
const WRITE_PERMIT: usize = 4096;

/// The log of one run. Cheap to clone: stdout, stderr and the `log` import share it.
#[derive(Clone)]
pub struct RunLog {
    buffer: Arc<Mutex<Buffer>>,
}

struct Buffer {
    lines: Vec<String>,
    /// Bytes of `lines` (prefixes included).
    bytes: usize,
    /// Printed bytes after the last newline.
    partial: Vec<u8>,
    truncated: bool,
    max_bytes: usize,
    max_lines: usize,
}

impl RunLog {
    /// An empty log holding at most `max_bytes` in at most `max_lines` lines.
    pub fn new(max_bytes: usize, max_lines: usize) -> Self {
        let buffer = Buffer {
            lines: Vec::new(),
            bytes: 0,
            partial: Vec::new(),
            truncated: false,
            max_bytes,
            max_lines,
        };
        Self { buffer: Arc::new(Mutex::new(buffer)) }
    }

    /// Records one line of the `log` import, prefixed with its level.
    pub fn line(&self, level: &str, message: &str) {
        self.lock().push(&format!("[{level}] "), message);
    }

    /// The lines, with what was printed after the last newline and the truncation marker.
    pub fn lines(&self) -> Vec<String> {
        let mut buffer = self.lock();
        buffer.end_partial();
        let mut lines = buffer.lines.clone();
        if buffer.truncated {
            lines.push(TRUNCATED.to_owned());
        }
        lines
    }

    /// Bytes written to stdout or stderr. Once the log is full, a write costs nothing more
    /// than noting that it was dropped.
    fn print(&self, bytes: &[u8]) {
        let mut buffer = self.lock();
        let mut rest = bytes;
        while !buffer.full() {
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                buffer.add_partial(rest);
                return;
            };
            buffer.add_partial(&rest[..end]);
            buffer.end_partial_line();
            rest = &rest[end + 1..];
        }
        buffer.truncated |= !rest.is_empty();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Buffer {
    fn full(&self) -> bool {
        self.lines.len() >= self.max_lines || self.bytes >= self.max_bytes
    }

    /// Adds `prefix` + `text` (cut to what the byte cap leaves), or marks the log truncated.
    fn push(&mut self, prefix: &str, text: &str) {
        if self.full() {
            self.truncated = true;
            return;
        }
        let mut line = String::with_capacity(prefix.len() + text.len().min(self.max_bytes));
        line.push_str(prefix);
        line.extend(text.chars().map(|c| if c.is_control() && c != '\t' { '\u{fffd}' } else { c }));
        let room = self.max_bytes - self.bytes;
        if line.len() > room {
            let mut cut = room;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            self.truncated = true;
        }
        self.bytes += line.len();
        self.lines.push(line);
    }

    /// Keeps printed bytes of the current line, no more than the cap could ever hold.
    fn add_partial(&mut self, bytes: &[u8]) {
        let room = self.max_bytes.saturating_sub(self.bytes + self.partial.len());
        if bytes.len() > room || self.full() {
            self.truncated = true;
        }
        if !self.full() {
            self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// Ends the printed line at a newline.
    fn end_partial_line(&mut self) {
        let partial = std::mem::take(&mut self.partial);
        self.push("[stdout] ", &String::from_utf8_lossy(&partial));
    }

    /// Ends a printed line left without a newline (when the run is over).
    fn end_partial(&mut self) {
        if !self.partial.is_empty() {
            self.end_partial_line();
        }
    }
}

impl IsTerminal for RunLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for RunLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for RunLog {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.print(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: what the cap cannot hold is dropped, not refused (a refused
        // write would make `println!` panic).
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for RunLog {
    async fn ready(&mut self) {}
}

impl AsyncWrite for RunLog {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.print(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A newline flood counts against the line cap: the log stays small whatever is printed.
    #[test]
    fn newlines_and_log_lines_share_one_cap() {
        let log = RunLog::new(1024, 10);
        log.line("info", "starting");
        log.print(&[b'\n'; 16 * 1024]);
        let lines = log.lines();
        assert_eq!(lines.len(), 11, "ten lines and the marker: {lines:?}");
        assert_eq!(lines[0], "[info] starting");
        assert_eq!(lines.last().unwrap(), TRUNCATED);
    }

    /// Bytes count prefixes included; a long line is cut at the cap, control characters
    /// are replaced.
    #[test]
    fn bytes_are_capped_and_controls_replaced() {
        let log = RunLog::new(64, 100);
        log.print(b"a\0b\x1b[31m\n");
        log.print(&[b'x'; 1000]);
        let lines = log.lines();
        assert_eq!(lines[0], "[stdout] a\u{fffd}b\u{fffd}[31m");
        let total: usize = lines[..lines.len() - 1].iter().map(String::len).sum();
        assert!(total <= 64, "{total} bytes: {lines:?}");
        assert_eq!(lines.last().unwrap(), TRUNCATED);
    }
}
