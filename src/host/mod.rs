//! Host transports over std sockets (feature `std`) and tokio (feature
//! `tokio`), a threaded listener that serves [`crate::server`] sessions
//! ([`listener`]), and TLS helpers: [`connect_with_tls`] for either
//! backend, an OS RNG and a system clock for embedded-tls (feature `tls`),
//! and the rustls backend (feature `rustls`).
//!
//! [`connect`] resolves a host name, connects with a timeout, optionally
//! binds a source address first, sets TCP_NODELAY and read/write timeouts,
//! and returns a stream that the blocking API runs over:
//!
//! ```no_run
//! use embedded_smtp::blocking::block_on;
//! use embedded_smtp::client::{Client, Config};
//! use embedded_smtp::host::{ConnectOptions, connect};
//!
//! let stream = connect("127.0.0.1:2525", &ConnectOptions::default())?;
//! let mut buf = [0u8; 2048];
//! let client = block_on(Client::connect(stream, &mut buf, &Config::new("host.example")));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::blocking::Blocking;

pub mod listener;
#[cfg(feature = "rustls")]
mod rustls_tls;
mod tls;
#[cfg(feature = "rustls")]
pub use rustls_tls::{
    RustlsStream, RustlsUpgrade, load_certificates, rustls_config,
    rustls_config_insecure_no_verification,
};
#[cfg(feature = "tls")]
pub use tls::{OsRng, SystemClock, embedded_tls};
pub use tls::{TlsClient, TlsClientError, connect_with_tls};
#[cfg(feature = "tokio")]
mod tokio_transport;
#[cfg(feature = "tokio")]
pub use tokio_transport::{TokioStream, connect_tokio};

/// Blocking transport returned by [`connect`]: a [`HostStream`] behind the
/// always-ready async adapter.
pub type StdStream = Blocking<HostStream>;

/// A connected std TCP stream implementing the blocking `embedded_io`
/// traits, with a deadline for each reply.
///
/// The socket's read timeout bounds the whole wait for a reply, counted
/// from the last write (or from creation, for the greeting), not each
/// read. A server that sends one byte at a time therefore cannot hold the
/// session longer than the timeout. A write that exceeds the socket's
/// write timeout fails too. Both fail with `io::ErrorKind::TimedOut`; on
/// Unix std reports a socket timeout as `WouldBlock`, which would read as
/// if the socket were non-blocking.
#[derive(Debug)]
pub struct HostStream {
    stream: TcpStream,
    reply_timeout: Option<Duration>,
    deadline: Option<Instant>,
}

impl HostStream {
    /// Wraps a connected stream. Its read timeout, if set, becomes the
    /// reply timeout, and the deadline for the first reply starts now.
    pub fn new(stream: TcpStream) -> Self {
        let reply_timeout = stream.read_timeout().ok().flatten();
        let deadline = reply_timeout.map(|timeout| Instant::now() + timeout);
        Self {
            stream,
            reply_timeout,
            deadline,
        }
    }

    /// Returns the underlying stream, for example to read its local address.
    pub fn get_ref(&self) -> &TcpStream {
        &self.stream
    }

    /// Returns the underlying stream.
    pub fn into_inner(self) -> TcpStream {
        self.stream
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, std::format!("{what} timed out"))
}

fn map_timeout(e: io::Error, what: &str) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        timed_out(what)
    } else {
        e
    }
}

impl embedded_io::ErrorType for HostStream {
    type Error = io::Error;
}

impl embedded_io::Read for HostStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const WHAT: &str = "waiting for the SMTP peer's reply";
        if let Some(deadline) = self.deadline {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(timed_out(WHAT));
            }
            self.stream.set_read_timeout(Some(remaining))?;
        }
        io::Read::read(&mut self.stream, buf).map_err(|e| map_timeout(e, WHAT))
    }
}

impl embedded_io::Write for HostStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = io::Write::write(&mut self.stream, buf)
            .map_err(|e| map_timeout(e, "write to the SMTP peer"))?;
        // The client writes before it waits for a reply, so the reply's
        // deadline counts from the last write.
        self.deadline = self.reply_timeout.map(|timeout| Instant::now() + timeout);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.stream).map_err(|e| map_timeout(e, "write to the SMTP peer"))
    }
}

/// Default port of SMTP relay (RFC 5321 section 4.5.4.2 names port 25).
pub const SMTP_PORT: u16 = 25;

/// Connection settings of the host transports.
///
/// The defaults follow RFC 5321 section 4.5.3.2. A client waits 5 minutes
/// for the greeting and for MAIL and RCPT replies, 3 minutes for each data
/// block to be sent, and 10 minutes for the reply to the end of data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Time allowed for the TCP handshake.
    pub connect_timeout: Duration,
    /// Time a read may wait for data before it fails with `TimedOut`.
    pub read_timeout: Duration,
    /// Time a write may wait before it fails with `TimedOut`.
    pub write_timeout: Duration,
    /// Local address to bind before connecting, for hosts with several
    /// addresses; port 0 lets the system choose the port.
    pub source_address: Option<SocketAddr>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            // NOTE: one read timeout covers every reply. It defaults to the
            // 10 minutes RFC 5321 allows after the end of data, the longest
            // wait. Callers who want 5 minutes for other replies set it here.
            read_timeout: Duration::from_secs(10 * 60),
            write_timeout: Duration::from_secs(3 * 60),
            source_address: None,
        }
    }
}

impl ConnectOptions {
    /// Sets one timeout for connecting, reading and writing.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.read_timeout = timeout;
        self.write_timeout = timeout;
        self
    }
}

/// Connects to `server`, given as `host:port` or `host` (port 25), and
/// returns a blocking transport for [`crate::client::Client`].
///
/// Every address the name resolves to is tried in order until one
/// connects; the error of the last attempt is returned. When a source
/// address is set, only addresses of its family are tried.
pub fn connect(server: &str, options: &ConnectOptions) -> io::Result<StdStream> {
    let stream = connect_std(server, options)?;
    Ok(Blocking::new(HostStream::new(stream)))
}

/// Connects like [`connect`] and returns the configured std stream.
pub fn connect_std(server: &str, options: &ConnectOptions) -> io::Result<TcpStream> {
    let addresses = resolve(server)?;
    let mut last_error = None;
    let mut skipped_family = false;
    for address in addresses {
        if let Some(source) = options.source_address
            && source.is_ipv4() != address.is_ipv4()
        {
            skipped_family = true;
            continue;
        }
        match connect_one(address, options) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| match options.source_address {
        Some(source) if skipped_family => io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            std::format!("no address of {server} has the IP version of source address {source}"),
        ),
        _ => io::Error::new(
            io::ErrorKind::NotFound,
            std::format!("{server} resolved to no address"),
        ),
    }))
}

/// Resolves `host:port`, or `host` with port 25, to socket addresses.
pub fn resolve(server: &str) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    match server.to_socket_addrs() {
        Ok(addresses) => Ok(addresses),
        Err(_) if !has_port(server) => (server, SMTP_PORT).to_socket_addrs(),
        Err(e) => Err(e),
    }
}

fn has_port(server: &str) -> bool {
    // "[::1]:25" and "host:25" have a port; a bare IPv6 address has colons
    // but no brackets.
    if server.starts_with('[') {
        return server.contains("]:");
    }
    server.matches(':').count() == 1
}

fn connect_one(address: SocketAddr, options: &ConnectOptions) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if let Some(source) = options.source_address {
        socket.bind(&SockAddr::from(source))?;
    }
    socket.connect_timeout(&SockAddr::from(address), options.connect_timeout)?;

    let stream: TcpStream = socket.into();
    // Commands and the end-of-data marker are small writes that the client
    // waits on; Nagle's algorithm would hold them back for an ACK.
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(options.read_timeout))?;
    stream.set_write_timeout(Some(options.write_timeout))?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn port_detection() {
        assert!(has_port("mail.example.org:587"));
        assert!(has_port("[::1]:25"));
        assert!(!has_port("mail.example.org"));
        assert!(!has_port("::1"));
        assert!(!has_port("[::1]"));
    }

    #[test]
    fn connect_binds_source_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap().to_string();
        let options = ConnectOptions {
            source_address: Some("127.0.0.1:0".parse().unwrap()),
            ..ConnectOptions::default()
        };
        let stream = connect_std(&server, &options).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
        assert!(stream.nodelay().unwrap());
        assert_eq!(stream.read_timeout().unwrap(), Some(options.read_timeout));
        drop(accepted);
    }

    #[test]
    fn silent_server_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap().to_string();
        let options = ConnectOptions::default().with_timeout(Duration::from_millis(200));
        let mut stream = connect(&server, &options).unwrap();
        let _accepted = listener.accept().unwrap();
        let mut buf = [0u8; 8];
        let error = embedded_io::Read::read(stream.inner_mut(), &mut buf).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn source_family_mismatch_reports_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap().to_string();
        let options = ConnectOptions {
            source_address: Some("[::1]:0".parse().unwrap()),
            ..ConnectOptions::default()
        };
        assert!(connect_std(&server, &options).is_err());
    }
}
