//! SMTP and LMTP client sessions (RFC 5321, RFC 2033) over any
//! [`embedded_io_async`] transport.
//!
//! A [`Client`] reads the greeting, greets with EHLO (falling back to HELO
//! when the server does not know EHLO) or LHLO, and then sends any number of
//! messages, each with per-recipient results. It uses PIPELINING
//! (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152) and SMTPUTF8
//! (RFC 6531) when the server offers them.
//!
//! [`with_session`] wraps a whole session and sends QUIT on every exit path,
//! like Python's `with smtplib.SMTP(...)`.
//!
//! [`Client::authenticate`] logs in with AUTH (RFC 4954) over PLAIN, LOGIN,
//! XOAUTH2 or CRAM-MD5 (feature `cram-md5`), and only over an encrypted
//! transport unless the caller allows plaintext.
//!
//! # Memory
//!
//! The client allocates nothing. The caller passes one buffer of at least
//! [`MIN_BUFFER_LEN`] bytes, which the client splits in two halves: one
//! receives replies and one collects commands and dot-stuffed data before
//! each write. A reply line must fit the receive half: RFC 5321
//! section 4.5.3.1.5 limits reply lines to 512 octets including CRLF, so the
//! minimum buffer gives each half exactly that.
//!
//! The session futures take about 0.8 to 1.8 KiB on x86_64 (measured in the
//! repository's `docs/BENCHMARKS.md`) besides that buffer.
//!
//! # Timeouts
//!
//! The library has no clock: a session waits as long as the transport's
//! reads and writes wait. The host transports in `host` enforce the RFC
//! 5321 section 4.5.3.2 timeouts. On a device, give the socket a timeout
//! (embassy-net's `TcpSocket::set_timeout`) or wrap each call in the
//! executor's timeout, such as `embassy_time::with_timeout`. A session
//! whose future was dropped half-way must not be reused: close the socket.
//!
//! # On a device
//!
//! Any `embedded_io_async` socket works, for example an embassy-net
//! `TcpSocket` (`&mut TcpSocket` implements both traits):
//!
//! ```ignore
//! let mut socket = TcpSocket::new(stack, &mut rx_buffer, &mut tx_buffer);
//! socket.set_timeout(Some(embassy_time::Duration::from_secs(300)));
//! socket.connect((Ipv4Address::new(192, 0, 2, 25), 25)).await?;
//!
//! let mut buf = [0u8; embedded_smtp::client::MIN_BUFFER_LEN];
//! let mut results = [RecipientResult::NotAttempted; 1];
//! let envelope = Envelope::new("pump-7@example.net", &["ops@example.org"]);
//! let config = Config::new("[192.0.2.7]");
//! let sent = with_session(&mut socket, &mut buf, &config, async |client| {
//!     client.send_slice(&envelope, b"Subject: alarm\r\n\r\nPressure high\r\n", &mut results).await
//! })
//! .await;
//! socket.close();
//! ```
//!
//! # Blocking use
//!
//! Wrap a blocking transport in [`crate::blocking::Blocking`] and drive the
//! session future with [`crate::blocking::block_on`]: the code is the same.

mod auth;
mod data;
mod error;
mod session;
mod starttls;
mod transaction;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;

pub use auth::AuthOptions;
pub use data::DataWriter;
pub use error::{AuthFailure, Error, InputError, ProtocolError, REPLY_TEXT_LEN, Reply};
pub use session::{Client, with_session};
pub use transaction::{BodyInfo, Content, Delivery, RecipientResult, ReplyStatus};

/// Minimum length of the buffer passed to [`Client::connect`]: twice the
/// 512-octet reply and command line limit of RFC 5321 section 4.5.3.1.
pub const MIN_BUFFER_LEN: usize = 1024;

/// The protocol a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Protocol {
    /// SMTP (RFC 5321): EHLO, falling back to HELO.
    #[default]
    Smtp,
    /// LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the
    /// data.
    Lmtp,
}

/// Session settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config<'a> {
    /// Name sent with EHLO, HELO or LHLO: the client's fully qualified
    /// domain name, or an address literal such as `[192.0.2.1]` when it has
    /// none (RFC 5321 section 4.1.4).
    pub client_id: &'a str,
    /// SMTP or LMTP.
    pub protocol: Protocol,
    /// The transport is already encrypted: implicit TLS (port 465), where
    /// the caller wrapped the socket before connecting.
    /// [`Client::authenticate`] sends credentials only over an encrypted
    /// transport unless [`AuthOptions::allow_plaintext`] is set.
    pub secure: bool,
}

impl<'a> Config<'a> {
    /// Creates an SMTP configuration with the given EHLO name.
    pub const fn new(client_id: &'a str) -> Self {
        Self {
            client_id,
            protocol: Protocol::Smtp,
            secure: false,
        }
    }

    /// Switches to LMTP.
    pub const fn lmtp(mut self) -> Self {
        self.protocol = Protocol::Lmtp;
        self
    }
}

/// Sender and recipients of one message (RFC 5321 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Envelope<'a> {
    /// Reverse-path without angle brackets; the empty string sends the null
    /// reverse-path `<>` used for bounces.
    pub from: &'a str,
    /// Forward-paths without angle brackets.
    pub to: &'a [&'a str],
}

impl<'a> Envelope<'a> {
    /// Creates an envelope.
    pub const fn new(from: &'a str, to: &'a [&'a str]) -> Self {
        Self { from, to }
    }
}
