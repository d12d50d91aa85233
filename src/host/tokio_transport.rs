//! Async host transport over tokio, with per-operation timeouts.

use std::io;
use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use tokio::net::TcpStream;

use super::{ConnectOptions, connect_std};

/// Tokio TCP stream with read and write timeouts, implementing the
/// `embedded_io_async` traits.
pub struct TokioStream {
    inner: FromTokio<TcpStream>,
    read_timeout: Duration,
    write_timeout: Duration,
    /// End of the wait for the current reply: the read timeout bounds the
    /// whole reply, counted from the last write, not each read.
    deadline: tokio::time::Instant,
}

/// Connects like [`super::connect`] and returns an async transport.
///
/// Name resolution and the TCP handshake run on a blocking thread
/// (`tokio::task::spawn_blocking`), because they reuse the std connect path
/// with its source-address binding.
pub async fn connect_tokio(server: &str, options: &ConnectOptions) -> io::Result<TokioStream> {
    let server = std::string::String::from(server);
    let blocking_options = options.clone();
    let stream = tokio::task::spawn_blocking(move || connect_std(&server, &blocking_options))
        .await
        .map_err(io::Error::other)??;
    stream.set_nonblocking(true)?;
    // The std socket's timeouts do not apply to non-blocking sockets; the
    // wrapper enforces them per operation instead.
    let stream = TcpStream::from_std(stream)?;
    Ok(TokioStream {
        inner: FromTokio::new(stream),
        read_timeout: options.read_timeout,
        write_timeout: options.write_timeout,
        deadline: tokio::time::Instant::now() + options.read_timeout,
    })
}

impl core::fmt::Debug for TokioStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokioStream")
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish_non_exhaustive()
    }
}

impl TokioStream {
    /// Returns the wrapped tokio stream.
    pub fn into_inner(self) -> TcpStream {
        self.inner.into_inner()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "SMTP peer did not respond in time")
}

impl embedded_io::ErrorType for TokioStream {
    type Error = io::Error;
}

impl embedded_io_async::Read for TokioStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        let read = embedded_io_async::Read::read(&mut self.inner, buf);
        tokio::time::timeout_at(self.deadline, read)
            .await
            .map_err(|_| timed_out())?
    }
}

impl embedded_io_async::Write for TokioStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        let written = tokio::time::timeout(
            self.write_timeout,
            embedded_io_async::Write::write(&mut self.inner, buf),
        )
        .await
        .map_err(|_| timed_out())??;
        self.deadline = tokio::time::Instant::now() + self.read_timeout;
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), io::Error> {
        tokio::time::timeout(
            self.write_timeout,
            embedded_io_async::Write::flush(&mut self.inner),
        )
        .await
        .map_err(|_| timed_out())?
    }
}
