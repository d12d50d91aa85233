//! TLS for the client: the policy, a pluggable handshake, and a transport
//! that starts in plaintext and becomes TLS after STARTTLS (RFC 3207).
//!
//! The session runs over any [`embedded_io_async`] `Read + Write`, so a TLS
//! stream is just another transport.
//!
//! - **Implicit TLS** (port 465, RFC 8314 section 3.3): the handshake
//!   happens before the greeting. Either wrap the socket yourself and pass
//!   the TLS stream to [`Client::connect`](crate::client::Client::connect)
//!   with [`Config::secure`](crate::client::Config::secure) set, or call
//!   [`Client::connect_with_tls`](crate::client::Client::connect_with_tls)
//!   with [`TlsPolicy::Implicit`].
//! - **STARTTLS** (ports 587 and 25): the session starts in plaintext over
//!   [`MaybeTls::Plain`] and switches to [`MaybeTls::Tls`] in place, so one
//!   `Client` type serves both halves of the connection. Use
//!   [`Client::connect_with_tls`](crate::client::Client::connect_with_tls)
//!   with a [`TlsPolicy`], or
//!   [`Client::starttls`](crate::client::Client::starttls) on a connected
//!   client.
//!
//! The handshake itself comes from a [`TlsUpgrade`] implementation:
//! `EmbeddedTls` (feature `tls`, devices and hosts, in the `embedded` module)
//! or the rustls wrapper in `host` (feature `rustls`, hosts only).

use core::fmt;

use embedded_io::{ErrorKind, ErrorType};
use embedded_io_async::{Read, Write};

#[cfg(feature = "tls")]
pub mod embedded;
#[cfg(feature = "tls")]
mod x509;

/// When the client uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TlsPolicy {
    /// Never use TLS, even when the server offers STARTTLS.
    None,
    /// Upgrade with STARTTLS when the server offers it, and stay in
    /// plaintext when it does not or rejects STARTTLS with a negative
    /// reply. This protects against passive listeners only, because an
    /// attacker on the path can remove STARTTLS from the EHLO reply.
    #[default]
    Opportunistic,
    /// Upgrade with STARTTLS, and fail when the server does not offer it
    /// or rejects it. Only QUIT is sent after that, so the session never
    /// continues in plaintext.
    Required,
    /// Handshake before the greeting (RFC 8314 section 3.3, port 465).
    Implicit,
}

/// A TLS handshake over a plaintext transport `P`.
///
/// Implementations carry what the handshake needs (server name, trust
/// anchors, record buffers, RNG) and are consumed by one handshake.
#[allow(async_fn_in_trait)]
pub trait TlsUpgrade<P> {
    /// The encrypted transport after the handshake.
    type Stream: Read + Write;

    /// Runs the TLS handshake over `plain` and returns the encrypted
    /// transport. On failure the plaintext transport is dropped, which
    /// closes the connection.
    async fn upgrade(self, plain: P) -> Result<Self::Stream, <Self::Stream as ErrorType>::Error>;

    /// Returns true when a handshake that failed with `error` may succeed
    /// on a later attempt (a lost connection or a timeout), and false when
    /// it will fail again (a rejected certificate, no common protocol
    /// version or cipher suite).
    fn is_transient(error: &<Self::Stream as ErrorType>::Error) -> bool;
}

/// A transport that is either plaintext or TLS, so that a STARTTLS upgrade
/// keeps the client's type.
#[derive(Debug)]
pub enum MaybeTls<P, S> {
    /// Plaintext transport, before STARTTLS or without TLS.
    Plain(P),
    /// TLS transport, after STARTTLS or for implicit TLS.
    Tls(S),
    /// The plaintext transport was handed to a handshake that failed or was
    /// cancelled; every read and write fails.
    Upgrading,
}

impl<P, S> MaybeTls<P, S> {
    /// Returns true for the TLS state.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }
}

/// Error of a [`MaybeTls`] transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MaybeTlsError<PE, SE> {
    /// The plaintext transport failed.
    Plain(PE),
    /// The TLS layer or the transport under it failed, or the handshake was
    /// rejected.
    Tls(SE),
    /// The transport was used after a failed or cancelled handshake.
    Upgrading,
}

impl<PE: embedded_io::Error, SE: embedded_io::Error> embedded_io::Error for MaybeTlsError<PE, SE> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Plain(e) => e.kind(),
            Self::Tls(e) => e.kind(),
            Self::Upgrading => ErrorKind::NotConnected,
        }
    }
}

impl<PE: fmt::Display, SE: fmt::Display> fmt::Display for MaybeTlsError<PE, SE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(e) => e.fmt(f),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Upgrading => f.write_str("connection unusable after a failed TLS handshake"),
        }
    }
}

// No `source`: it would need `'static` error types, which the
// `embedded_io::Error` impl above would then demand of every transport.
// `Display` includes the inner error instead.
impl<PE, SE> core::error::Error for MaybeTlsError<PE, SE>
where
    PE: core::error::Error,
    SE: core::error::Error,
{
}

impl<P: ErrorType, S: ErrorType> ErrorType for MaybeTls<P, S> {
    type Error = MaybeTlsError<P::Error, S::Error>;
}

impl<P: Read, S: Read> Read for MaybeTls<P, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        match self {
            Self::Plain(io) => io.read(buf).await.map_err(MaybeTlsError::Plain),
            Self::Tls(io) => io.read(buf).await.map_err(MaybeTlsError::Tls),
            Self::Upgrading => Err(MaybeTlsError::Upgrading),
        }
    }
}

impl<P: Write, S: Write> Write for MaybeTls<P, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        match self {
            Self::Plain(io) => io.write(buf).await.map_err(MaybeTlsError::Plain),
            Self::Tls(io) => io.write(buf).await.map_err(MaybeTlsError::Tls),
            Self::Upgrading => Err(MaybeTlsError::Upgrading),
        }
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        match self {
            Self::Plain(io) => io.flush().await.map_err(MaybeTlsError::Plain),
            Self::Tls(io) => io.flush().await.map_err(MaybeTlsError::Tls),
            Self::Upgrading => Err(MaybeTlsError::Upgrading),
        }
    }
}
