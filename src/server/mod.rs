//! Minimal ESMTP server session (RFC 5321) with the SIZE extension
//! (RFC 1870), over any `embedded_io_async` transport.
//!
//! [`serve`] runs one session: it sends the greeting, reads commands,
//! replies to them and streams each message's data to a [`Handler`], which
//! decides where messages go. Extensions are offered only to a client that
//! opens with EHLO: `SIZE`, `8BITMIME`, `PIPELINING`, `ENHANCEDSTATUSCODES`
//! and `SMTPUTF8`. HELO starts a plain RFC 5321 session without them.
//!
//! For a blocking transport, wrap it in [`crate::blocking::Blocking`] and
//! run the future with [`crate::blocking::block_on`].
//!
//! Not offered: STARTTLS, AUTH, DSN, CHUNKING and VRFY/EXPN lookups
//! (VRFY answers 252, EXPN 502).

mod buffers;
mod session;
#[cfg(test)]
mod tests;

use core::fmt;

pub use crate::codec::server::{
    BareLineEndings, BodyType, DataError, EnhancedCode, MAX_TEXT_LINE, MailParameters,
};

/// Maximum length of a command line including CRLF (RFC 5321 section
/// 4.5.3.1.4). A longer line is discarded and gets reply 500.
pub const MAX_COMMAND_LINE: usize = 512;

/// Bytes at the end of the session buffer that hold replies before they
/// are written: one reply line of 512 octets (RFC 5321 section 4.5.3.1.5),
/// which also holds the whole EHLO reply for a host name of up to 255
/// octets.
pub const REPLY_BUFFER_LEN: usize = 512;

/// Minimum length of the buffer passed to [`serve`]: one command line of
/// [`MAX_COMMAND_LINE`] octets plus as much again for commands pipelined
/// behind it (RFC 2920), plus [`REPLY_BUFFER_LEN`] for replies.
///
/// A larger buffer lets more pipelined commands and more message data be
/// read at once. Message data is passed to the handler in pieces of at most
/// the buffer length minus [`REPLY_BUFFER_LEN`].
pub const MIN_BUFFER_LEN: usize = 2 * MAX_COMMAND_LINE + REPLY_BUFFER_LEN;

/// Maximum length of [`Config::hostname`] (RFC 1035 section 2.3.4).
pub const MAX_HOSTNAME: usize = 255;

/// Server settings.
///
/// Zero in any of the four limits means no limit.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config<'a> {
    /// Name sent in the greeting and the EHLO and HELO replies: printable
    /// ASCII without spaces, at most [`MAX_HOSTNAME`] octets.
    pub hostname: &'a str,
    /// Maximum message size in octets, advertised as `SIZE`. Zero means no
    /// fixed maximum, as RFC 1870 section 4 defines for `SIZE 0`. Default
    /// 10 MiB.
    pub max_size: u64,
    /// Maximum accepted recipients per message; more get 452 4.5.3. RFC 5321
    /// section 4.5.3.1.8 requires at least 100 (the default); a small device
    /// may set fewer. Zero means no limit.
    pub max_recipients: usize,
    /// Number of protocol errors (replies 500, 501, 503 and 555) after which
    /// the server sends 421 and closes. Default 20. Zero means no limit, so
    /// only the transport's timeouts end a session that sends nothing but
    /// errors.
    pub max_errors: u32,
    /// Maximum length of a text line in message data including CRLF and not
    /// counting a dot added for transparency. A message with a longer line
    /// is read to its end and rejected with 500. Default [`MAX_TEXT_LINE`]
    /// (1000, RFC 5321 section 4.5.3.1.6). Zero or `usize::MAX` accepts any
    /// length.
    pub max_line_length: usize,
    /// Treatment of a bare LF or bare CR in message data. Default: the
    /// message is rejected with 554 5.6.0 after its end. Neither ever ends a
    /// line or the data.
    pub bare_line_endings: BareLineEndings,
}

impl<'a> Config<'a> {
    /// Creates the default settings for `hostname`.
    pub const fn new(hostname: &'a str) -> Self {
        Self {
            hostname,
            max_size: 10 * 1024 * 1024,
            max_recipients: 100,
            max_errors: 20,
            max_line_length: MAX_TEXT_LINE,
            bare_line_endings: BareLineEndings::Reject,
        }
    }

    fn hostname_is_valid(&self) -> bool {
        !self.hostname.is_empty()
            && self.hostname.len() <= MAX_HOSTNAME
            && self.hostname.bytes().all(|b| b.is_ascii_graphic())
    }
}

/// Negative reply chosen by a [`Handler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reject {
    /// Reply code, 400 to 599. Any other code is replaced by
    /// 451 4.3.0, because a handler can only refuse.
    pub code: u16,
    /// Enhanced status code, sent when the client opened with EHLO. Without
    /// one, `4.0.0` or `5.0.0` is sent.
    pub enhanced: Option<EnhancedCode>,
    /// Reply text. Control characters are sent as spaces and the line is
    /// cut at 512 octets.
    pub text: &'static str,
}

impl Reject {
    /// Creates a rejection.
    pub const fn new(code: u16, enhanced: Option<EnhancedCode>, text: &'static str) -> Self {
        Self {
            code,
            enhanced,
            text,
        }
    }

    /// 451 4.3.0: a transient local failure, such as a full disk.
    pub const LOCAL_ERROR: Self = Self::new(
        451,
        Some(EnhancedCode::new(4, 3, 0)),
        "Local error in processing; try again later",
    );

    /// 550 5.1.1: the mailbox does not exist.
    pub const NO_SUCH_MAILBOX: Self = Self::new(
        550,
        Some(EnhancedCode::new(5, 1, 1)),
        "Mailbox does not exist",
    );
}

/// Reason a transaction ends without delivery, passed to
/// [`Handler::abort`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AbortReason {
    /// The client sent RSET.
    Reset,
    /// The client sent EHLO or HELO, which resets the transaction
    /// (RFC 5321 section 4.1.4).
    NewGreeting,
    /// The client sent QUIT before DATA.
    Quit,
    /// The message data passed [`Config::max_size`]. The rest was read and
    /// dropped, and the client got 552 5.3.4 after the end of data.
    TooLarge,
    /// The data contained a bare LF or bare CR, which
    /// [`BareLineEndings::Reject`] rejects. The client got 554 5.6.0 after
    /// the end of data.
    BareLineEnding,
    /// A text line was longer than [`Config::max_line_length`]. The client
    /// got 500 5.5.2 after the end of data.
    LineTooLong,
    /// [`Handler::data`] returned this rejection. The rest of the data was
    /// read and dropped, and the client got this reply after its end.
    Rejected(Reject),
    /// The client reached [`Config::max_errors`] and got 421.
    TooManyErrors,
    /// The connection reached end of stream: the client closed it, or the
    /// host shut it down, for example when a listener stops.
    ConnectionClosed,
    /// Reading or writing the transport failed, for example on a timeout
    /// or a connection reset. [`serve`] returns the error.
    TransportError,
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reset => f.write_str("client sent RSET"),
            Self::NewGreeting => f.write_str("client sent a new EHLO or HELO"),
            Self::Quit => f.write_str("client sent QUIT before DATA"),
            Self::TooLarge => f.write_str("message over the maximum size, rejected with 552"),
            Self::BareLineEnding => {
                f.write_str("bare LF or bare CR in the data, rejected with 554")
            }
            Self::LineTooLong => {
                f.write_str("text line over the maximum length, rejected with 500")
            }
            Self::Rejected(reject) => write!(
                f,
                "handler rejected the data with {} {}",
                reject.code, reject.text
            ),
            Self::TooManyErrors => f.write_str("too many errors, connection closed with 421"),
            Self::ConnectionClosed => f.write_str("connection closed before the end of data"),
            Self::TransportError => f.write_str("transport error"),
        }
    }
}

/// Reason the server rejects a MAIL command before [`Handler::mail`] is
/// called, passed to [`Handler::mail_rejected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MailRejection {
    /// The declared `SIZE=` is over [`Config::max_size`] (reply 552 5.3.4,
    /// RFC 1870 section 6).
    TooLarge,
    /// The reverse-path is not ASCII and the command lacks the `SMTPUTF8`
    /// parameter (reply 553 5.6.7, RFC 6531).
    NeedsSmtputf8,
}

impl fmt::Display for MailRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("declared size over the maximum, rejected with 552"),
            Self::NeedsSmtputf8 => {
                f.write_str("non-ASCII sender without SMTPUTF8, rejected with 553")
            }
        }
    }
}

/// Storage side of a session: receives transactions and decides what
/// happens to them.
///
/// Calls for one transaction come in this order: [`mail`](Self::mail),
/// [`rcpt`](Self::rcpt) for each recipient, [`data`](Self::data) for each
/// piece of message data, then [`data_end`](Self::data_end). A transaction
/// that `mail` accepted and that ends before `data_end` is called (RSET,
/// a new EHLO or HELO, a rejected message, QUIT, an I/O error or a lost
/// connection) gets [`abort`](Self::abort) instead, with the reason. A
/// message is delivered only when `data_end` returns `Ok`.
// The session futures are polled where they are created, so the missing
// `Send` bound on these futures does not matter here.
#[allow(async_fn_in_trait)]
pub trait Handler {
    /// Called for a successful EHLO (`extended` true) or HELO. `name` is the
    /// client's ASCII domain or address literal, already checked against
    /// RFC 5321 section 4.1.2, so it contains no spaces, controls, `;` or
    /// parentheses. An `Err` rejects the greeting and the client stays
    /// ungreeted.
    async fn hello(&mut self, name: &str, extended: bool) -> Result<(), Reject> {
        let _ = (name, extended);
        Ok(())
    }

    /// Starts a transaction. `reverse_path` is the sender mailbox, empty for
    /// the null reverse-path `<>`.
    async fn mail(&mut self, reverse_path: &str, parameters: &MailParameters)
    -> Result<(), Reject>;

    /// Reports a MAIL command that the server rejected itself, so
    /// [`mail`](Self::mail) was not called and no transaction started. The
    /// default does nothing; a handler may log or count these.
    async fn mail_rejected(
        &mut self,
        reverse_path: &str,
        parameters: &MailParameters,
        reason: MailRejection,
    ) {
        let _ = (reverse_path, parameters, reason);
    }

    /// Adds a recipient. `forward_path` is a mailbox or `Postmaster`.
    async fn rcpt(&mut self, forward_path: &str) -> Result<(), Reject>;

    /// Receives the next piece of message data, already un-stuffed. Lines
    /// end in CRLF. An `Err` rejects the message: the rest is read and
    /// dropped, and [`abort`](Self::abort) follows.
    async fn data(&mut self, chunk: &[u8]) -> Result<(), Reject>;

    /// Ends the message: `Ok` commits it (reply 250), `Err` rejects it.
    async fn data_end(&mut self) -> Result<(), Reject>;

    /// Drops the current transaction without delivering it, for `reason`.
    async fn abort(&mut self, reason: AbortReason);
}

/// How a session ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Ended {
    /// The client sent QUIT and got 221.
    Quit,
    /// The client closed the connection without QUIT.
    Closed,
    /// The client reached [`Config::max_errors`] and got 421.
    TooManyErrors,
}

/// Error that ends a session.
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServeError<E> {
    /// Reading or writing the transport failed, for example on a timeout.
    Io(E),
    /// The transport accepted no bytes of a write.
    WriteZero,
    /// The buffer is shorter than [`MIN_BUFFER_LEN`].
    BufferTooSmall {
        /// Length of the buffer passed in.
        len: usize,
    },
    /// [`Config::hostname`] is empty, longer than [`MAX_HOSTNAME`] or
    /// contains a character that is not printable ASCII.
    InvalidHostname,
}

impl<E: fmt::Display> fmt::Display for ServeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e}"),
            Self::WriteZero => f.write_str("transport accepted no bytes of a write"),
            Self::BufferTooSmall { len } => write!(
                f,
                "session buffer of {len} bytes is too small: at least {MIN_BUFFER_LEN} required"
            ),
            Self::InvalidHostname => f.write_str(
                "invalid server host name: expected 1 to 255 printable ASCII characters without spaces",
            ),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for ServeError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Runs one server session over `transport` until the client quits or
/// closes, or an error ends it.
///
/// `buffer` must be at least [`MIN_BUFFER_LEN`] bytes; its last
/// [`REPLY_BUFFER_LEN`] bytes hold replies and the rest holds input.
/// Pipelined commands already read are answered in order, and their
/// replies go out in one write when they fit. Every multi-line reply goes
/// out in one write.
///
/// The transport decides timeouts: RFC 5321 section 4.5.3.2.7 asks a server
/// to wait at least 5 minutes for the next command. A transaction that is
/// open when the session ends, for any reason, gets
/// [`Handler::abort`], so a lost connection never commits a message.
///
/// The future itself is small because the buffer is the caller's: 824
/// bytes on x86_64 in a debug build with a handler that only records its
/// calls (measured by a unit test that fails above 1024). A handler whose
/// futures hold more state adds to it.
pub async fn serve<T, H>(
    transport: &mut T,
    buffer: &mut [u8],
    config: &Config<'_>,
    handler: &mut H,
) -> Result<Ended, ServeError<T::Error>>
where
    T: embedded_io_async::Read + embedded_io_async::Write,
    H: Handler,
{
    if buffer.len() < MIN_BUFFER_LEN {
        return Err(ServeError::BufferTooSmall { len: buffer.len() });
    }
    if !config.hostname_is_valid() {
        return Err(ServeError::InvalidHostname);
    }
    session::run(transport, buffer, config, handler).await
}
