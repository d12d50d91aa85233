//! In-memory blocking transport: a scripted server on the read side and a
//! fixed buffer that records the client's bytes on the write side.

use embedded_io::{ErrorKind, ErrorType, Read, Write};

/// Blocking transport that replays `replies` to the reader and stores what is
/// written in `sent`, both without a heap.
pub struct ScriptedTransport<'a> {
    replies: &'a [u8],
    sent: &'a mut [u8],
    sent_len: usize,
}

impl<'a> ScriptedTransport<'a> {
    /// Creates a transport that reads `replies` and writes into `sent`.
    pub fn new(replies: &'a [u8], sent: &'a mut [u8]) -> Self {
        Self {
            replies,
            sent,
            sent_len: 0,
        }
    }
}

impl ErrorType for ScriptedTransport<'_> {
    type Error = ErrorKind;
}

impl Read for ScriptedTransport<'_> {
    /// Copies the next script bytes, and returns `Ok(0)` (end of stream) once
    /// the script is exhausted, as a closed TCP connection would.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.replies.len());
        let (head, rest) = self.replies.split_at(n);
        buf[..n].copy_from_slice(head);
        self.replies = rest;
        Ok(n)
    }
}

impl Write for ScriptedTransport<'_> {
    /// Appends as much of `buf` as fits and fails with `OutOfMemory` when
    /// the record buffer is full, because `Ok(0)` is not allowed for a
    /// non-empty write.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let free = &mut self.sent[self.sent_len..];
        if free.is_empty() {
            return Err(ErrorKind::OutOfMemory);
        }
        let n = buf.len().min(free.len());
        free[..n].copy_from_slice(&buf[..n]);
        self.sent_len += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
