//! Input and reply buffers of a session, both carved from the caller's
//! buffer.

use core::fmt;
use core::ops::Range;

use embedded_io_async::{Read, Write};

use super::{MAX_COMMAND_LINE, ServeError};
use crate::codec::server::{EnhancedCode, ReplyError, encode_reply_line};
use crate::fmt::Bytes;

/// Result of [`Input::next_line`].
pub(super) enum Line {
    /// Range of a command line in [`Input::buf`], without its line ending.
    Complete(Range<usize>),
    /// A line longer than [`MAX_COMMAND_LINE`], read to its end and dropped.
    TooLong,
    /// The client closed the connection.
    Eof,
}

/// Received bytes: `buf[start..end]` is not processed yet, and
/// `buf[start..scanned]` is known to contain no LF.
pub(super) struct Input<'b> {
    pub(super) buf: &'b mut [u8],
    pub(super) start: usize,
    pub(super) end: usize,
    scanned: usize,
}

impl<'b> Input<'b> {
    pub(super) fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            start: 0,
            end: 0,
            scanned: 0,
        }
    }

    /// Returns the unprocessed bytes.
    pub(super) fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Marks `n` unprocessed bytes as consumed.
    pub(super) fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        self.scanned = self.scanned.max(self.start);
    }

    /// Reads more bytes after the unprocessed ones and returns how many,
    /// 0 at end of stream. Moves unprocessed bytes to the front first when
    /// the buffer is full at the back.
    pub(super) async fn fill<T: Read>(
        &mut self,
        transport: &mut T,
    ) -> Result<usize, ServeError<T::Error>> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.scanned = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
        }
        let free = self.buf.get_mut(self.end..).unwrap_or(&mut []);
        if free.is_empty() {
            return Ok(0);
        }
        let n = transport.read(free).await.map_err(ServeError::Io)?;
        self.end = self.end.saturating_add(n).min(self.buf.len());
        Ok(n)
    }

    /// Returns the next command line, reading as needed. Replies waiting in
    /// `output` are written before any read, so that a pipelining client
    /// gets them before the server waits (RFC 2920 section 3.2).
    ///
    /// A line ends at LF; a CR before it is dropped.
    pub(super) async fn next_line<T: Read + Write>(
        &mut self,
        transport: &mut T,
        output: &mut Output<'_>,
    ) -> Result<Line, ServeError<T::Error>> {
        loop {
            let unscanned = self.buf.get(self.scanned..self.end).unwrap_or(&[]);
            if let Some(offset) = unscanned.iter().position(|&b| b == b'\n') {
                let line_start = self.start;
                let lf = self.scanned + offset;
                self.start = lf + 1;
                self.scanned = self.start;
                if lf + 1 - line_start > MAX_COMMAND_LINE {
                    return Ok(Line::TooLong);
                }
                let mut line_end = lf;
                if line_end > line_start && self.buf.get(line_end - 1) == Some(&b'\r') {
                    line_end -= 1;
                }
                return Ok(Line::Complete(line_start..line_end));
            }
            self.scanned = self.end;

            if self.end - self.start >= MAX_COMMAND_LINE {
                return self.discard_line(transport, output).await;
            }
            output.flush(transport).await?;
            if self.fill(transport).await? == 0 {
                return Ok(Line::Eof);
            }
        }
    }

    /// Drops input up to and including the next LF.
    async fn discard_line<T: Read + Write>(
        &mut self,
        transport: &mut T,
        output: &mut Output<'_>,
    ) -> Result<Line, ServeError<T::Error>> {
        debug!(
            "command line longer than {} octets, discarding it",
            MAX_COMMAND_LINE
        );
        output.flush(transport).await?;
        loop {
            self.start = self.end;
            if self.fill(transport).await? == 0 {
                return Ok(Line::Eof);
            }
            if let Some(offset) = self.pending().iter().position(|&b| b == b'\n') {
                self.consume(offset + 1);
                return Ok(Line::TooLong);
            }
        }
    }
}

/// Replies waiting to be written, in `buf[..len]`.
pub(super) struct Output<'b> {
    buf: &'b mut [u8],
    len: usize,
}

/// One line of a reply.
pub(super) struct ReplyLine<'a> {
    pub(super) enhanced: Option<EnhancedCode>,
    pub(super) text: &'a dyn fmt::Display,
}

impl<'b> Output<'b> {
    pub(super) fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Queues a reply of one or more lines, writing earlier replies first if
    /// the buffer cannot hold it. The reply is queued whole or not at all,
    /// so that it goes out in one write.
    pub(super) async fn reply<T: Write>(
        &mut self,
        transport: &mut T,
        code: u16,
        lines: &[ReplyLine<'_>],
    ) -> Result<(), ServeError<T::Error>> {
        if self.encode(code, lines).is_ok() {
            return Ok(());
        }
        self.flush(transport).await?;
        if self.encode(code, lines).is_ok() {
            return Ok(());
        }
        // Only a reply longer than the whole reply buffer gets here. The
        // session sends none: each line fits 512 octets and the EHLO reply
        // fits with a valid host name. Send a bare code rather than nothing.
        warn!(
            "reply {} does not fit the reply buffer, sending its first line only",
            code
        );
        if let Some(first) = lines.first() {
            let text: &dyn fmt::Display = first.text;
            self.encode(
                code,
                &[ReplyLine {
                    enhanced: first.enhanced,
                    text,
                }],
            )
            .or_else(|_| {
                self.encode(
                    code,
                    &[ReplyLine {
                        enhanced: None,
                        text: &"",
                    }],
                )
            })
            .ok();
        }
        Ok(())
    }

    fn encode(&mut self, code: u16, lines: &[ReplyLine<'_>]) -> Result<(), ReplyError> {
        let mut len = self.len;
        for (index, line) in lines.iter().enumerate() {
            let last = index + 1 == lines.len();
            let out = self.buf.get_mut(len..).unwrap_or(&mut []);
            len += encode_reply_line(
                out,
                code,
                last,
                line.enhanced,
                format_args!("{}", line.text),
            )?;
        }
        trace!("S: {}", Bytes(self.buf.get(self.len..len).unwrap_or(&[])));
        self.len = len;
        Ok(())
    }

    /// Writes all queued replies.
    pub(super) async fn flush<T: Write>(
        &mut self,
        transport: &mut T,
    ) -> Result<(), ServeError<T::Error>> {
        if self.len == 0 {
            return Ok(());
        }
        let mut pending = self.buf.get(..self.len).unwrap_or(&[]);
        while !pending.is_empty() {
            let n = transport.write(pending).await.map_err(ServeError::Io)?;
            if n == 0 {
                return Err(ServeError::WriteZero);
            }
            pending = pending.get(n..).unwrap_or(&[]);
        }
        self.len = 0;
        transport.flush().await.map_err(ServeError::Io)
    }
}
