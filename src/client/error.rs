//! Errors of a client session.

use core::fmt;

use crate::codec::address::AddressError;
use crate::codec::auth::{AuthError, Mechanism};
use crate::codec::command::{CommandKind, EncodeError};
use crate::codec::ehlo::AuthMechanisms;
use crate::codec::reply::{EnhancedCode, ReplyCode, ReplyError};

/// Maximum number of reply text bytes kept in a [`Reply`].
pub const REPLY_TEXT_LEN: usize = 64;

/// A server reply as kept by the client: code, enhanced status code and the
/// start of the first line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: ReplyCode,
    /// The RFC 3463 enhanced status code, when the server sent one.
    pub enhanced: Option<EnhancedCode>,
    /// The first line's text after the enhanced status code, cut to
    /// [`REPLY_TEXT_LEN`] bytes. It may be non-UTF-8.
    pub text: heapless::Vec<u8, REPLY_TEXT_LEN>,
}

impl Reply {
    /// Creates a reply with the given code and no text.
    pub const fn new(code: ReplyCode) -> Self {
        Self {
            code,
            enhanced: None,
            text: heapless::Vec::new(),
        }
    }

    /// Returns true for a 4yz reply: the same request may succeed later.
    pub const fn is_transient(&self) -> bool {
        self.code.is_transient()
    }

    /// Returns true for a 5yz reply: repeating the request will fail again.
    pub const fn is_permanent(&self) -> bool {
        self.code.is_permanent()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(enhanced) = self.enhanced {
            write!(f, " {enhanced}")?;
        }
        if !self.text.is_empty() {
            write!(f, " {}", crate::fmt::Bytes(&self.text))?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Reply {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "{} {} {}",
            self.code,
            self.enhanced,
            crate::fmt::Bytes(&self.text)
        );
    }
}

/// Malformed or oversized input from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ProtocolError {
    /// A reply line could not be parsed, or a multi-line reply broke the
    /// rules of RFC 5321 section 4.2.
    Reply(ReplyError),
    /// A reply line did not fit the receive buffer.
    LineTooLong {
        /// Size of the receive buffer in bytes.
        max: usize,
    },
    /// The reply code does not fit the command it answers, for example a
    /// 354 to MAIL.
    UnexpectedCode {
        /// The command this reply responds to.
        command: CommandKind,
        /// The code received.
        code: ReplyCode,
    },
    /// The server sent bytes after the 220 reply to STARTTLS, before the TLS
    /// handshake (a response injection attempt, RFC 3207 section 4.2).
    DataAfterStartTls,
    /// An LMTP server closed the connection or sent a negative reply before
    /// one reply per accepted recipient arrived after the end of data.
    MissingLmtpReply,
    /// A CRAM-MD5 challenge was not valid base64. The client cancelled the
    /// exchange with `*` (RFC 4954 section 4).
    InvalidAuthChallenge,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reply(e) => write!(f, "malformed reply: {e}"),
            Self::LineTooLong { max } => {
                write!(
                    f,
                    "reply line longer than the receive buffer of {max} bytes"
                )
            }
            Self::UnexpectedCode { command, code } => {
                write!(f, "unexpected reply code {code} to {command}")
            }
            Self::DataAfterStartTls => {
                f.write_str("server sent data after its STARTTLS reply, before the TLS handshake")
            }
            Self::MissingLmtpReply => {
                f.write_str("LMTP server sent fewer replies after the data than recipients")
            }
            Self::InvalidAuthChallenge => f.write_str("AUTH challenge is not valid base64"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// A request the client refused before sending anything, because it is
/// invalid or the server cannot take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InputError {
    /// An address, EHLO name or parameter is invalid, for example because it
    /// contains CR, LF or NUL.
    Encode(EncodeError),
    /// The envelope has no recipients.
    NoRecipients,
    /// The slice for per-recipient results is shorter than the recipient list.
    ResultsTooShort {
        /// Number of recipients in the envelope.
        recipients: usize,
        /// Length of the results slice.
        len: usize,
    },
    /// The message is larger than the server's advertised SIZE (RFC 1870).
    MessageTooLarge {
        /// Message size in octets.
        size: u64,
        /// Maximum size the server advertised, in octets.
        max: u64,
    },
    /// The body has 8-bit bytes, the server does not offer 8BITMIME
    /// (RFC 6152), and the body is a complete message that the client
    /// cannot re-encode.
    EightBitNotSupported,
    /// An address is not ASCII and the server does not offer SMTPUTF8
    /// (RFC 6531).
    Utf8NotSupported,
    /// A composed message's headers are invalid.
    Compose(crate::codec::message::ComposeError),
    /// AUTH was requested over a transport that is not encrypted, and
    /// [`AuthOptions::allow_plaintext`](super::AuthOptions::allow_plaintext)
    /// is not set.
    AuthNotEncrypted,
    /// The server offers none of the enabled mechanisms that suit the
    /// credentials, or does not offer AUTH at all.
    NoCommonMechanism {
        /// Mechanisms the server offered that this client implements.
        offered: AuthMechanisms,
    },
    /// The server does not offer the mechanism the caller forced.
    MechanismNotOffered {
        /// The forced mechanism.
        mechanism: Mechanism,
        /// Mechanisms the server offered that this client implements.
        offered: AuthMechanisms,
    },
    /// The credentials cannot be sent with the chosen mechanism, for
    /// example because they contain CR, LF or NUL.
    Auth(AuthError),
}

impl From<EncodeError> for InputError {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<AddressError> for InputError {
    fn from(e: AddressError) -> Self {
        Self::Encode(EncodeError::InvalidAddress(e))
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "invalid input: {e}"),
            Self::NoRecipients => f.write_str("the envelope has no recipients"),
            Self::ResultsTooShort { recipients, len } => write!(
                f,
                "results slice holds {len} entries but the envelope has {recipients} recipients"
            ),
            Self::MessageTooLarge { size, max } => write!(
                f,
                "message of {size} octets exceeds the server's maximum of {max} octets"
            ),
            Self::EightBitNotSupported => f.write_str(
                "message contains 8-bit data but the server does not offer 8BITMIME; \
                 encode it as quoted-printable or base64 first",
            ),
            Self::Utf8NotSupported => {
                f.write_str("address is not ASCII but the server does not offer SMTPUTF8")
            }
            Self::Compose(e) => write!(f, "invalid message header: {e}"),
            Self::AuthNotEncrypted => f.write_str(
                "AUTH rejected before sending: the connection is not encrypted; \
                 use TLS, or allow plaintext authentication explicitly",
            ),
            Self::NoCommonMechanism { offered } if offered.is_empty() => {
                f.write_str("the server offers no AUTH mechanism that this client implements")
            }
            Self::NoCommonMechanism { offered } => write!(
                f,
                "none of the AUTH mechanisms the server offers ({offered}) is enabled \
                 and suits the credentials"
            ),
            Self::MechanismNotOffered { mechanism, offered } => write!(
                f,
                "the server does not offer AUTH {mechanism} (offered: {offered})"
            ),
            Self::Auth(e) => write!(f, "invalid credentials: {e}"),
        }
    }
}

impl core::error::Error for InputError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            Self::Auth(e) => Some(e),
            _ => None,
        }
    }
}

/// Reason the server gave for rejecting authentication, taken from its
/// reply code (RFC 4954 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthFailure {
    /// `535 5.7.8`: the user name, password or access token is wrong.
    CredentialsInvalid,
    /// `534 5.7.9`: the server requires a stronger mechanism for this user.
    MechanismTooWeak,
    /// `538 5.7.11`: the server accepts this mechanism only over an
    /// encrypted connection.
    EncryptionRequired,
    /// `454 4.7.0`: a temporary failure on the server, such as an
    /// unreachable user database.
    TemporaryFailure,
    /// `432 4.7.12`: the user must change the password before logging in
    /// with this mechanism.
    PasswordTransitionNeeded,
    /// `504 5.5.4`: the server does not support the mechanism.
    MechanismNotSupported,
    /// `500 5.5.6`: an authentication line exceeded the server's limit.
    LineTooLong,
    /// `500` or `502`: the server does not implement AUTH.
    NotImplemented,
    /// Another negative reply, such as `501` for a response the server
    /// could not decode or `503` after an earlier successful AUTH.
    Other,
}

impl AuthFailure {
    /// Classifies a negative reply to AUTH or to an AUTH response line.
    pub fn from_reply(reply: &Reply) -> Self {
        let line_too_long = reply
            .enhanced
            .is_some_and(|code| code.class == 5 && code.subject == 5 && code.detail == 6);
        match reply.code.get() {
            535 => Self::CredentialsInvalid,
            534 => Self::MechanismTooWeak,
            538 => Self::EncryptionRequired,
            454 => Self::TemporaryFailure,
            432 => Self::PasswordTransitionNeeded,
            504 => Self::MechanismNotSupported,
            500 if line_too_long => Self::LineTooLong,
            500 | 502 => Self::NotImplemented,
            _ => Self::Other,
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CredentialsInvalid => "credentials invalid",
            Self::MechanismTooWeak => "the server requires a stronger mechanism",
            Self::EncryptionRequired => "the server requires an encrypted connection",
            Self::TemporaryFailure => "temporary failure on the server, try again later",
            Self::PasswordTransitionNeeded => "the password must be changed first",
            Self::MechanismNotSupported => "mechanism not supported by the server",
            Self::LineTooLong => "an authentication line exceeded the server's limit",
            Self::NotImplemented => "the server does not implement AUTH",
            Self::Other => "authentication failed",
        })
    }
}

/// Error of a client session, generic over the transport's error type.
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error<E> {
    /// The transport failed; a read or write timeout shows up here.
    Io(E),
    /// The server closed the connection.
    UnexpectedEof,
    /// The server rejected a command with a negative reply.
    Reply {
        /// The command this reply responds to.
        command: CommandKind,
        /// The reply.
        reply: Reply,
    },
    /// The server rejected authentication with a negative reply to AUTH or
    /// to a response line.
    Auth {
        /// The mechanism the client used.
        mechanism: Mechanism,
        /// The reason, from the reply code.
        failure: AuthFailure,
        /// The reply.
        reply: Reply,
    },
    /// No recipient was accepted, so no data was sent. Each recipient's reply
    /// is in the results slice passed to the send call.
    NoRecipientAccepted {
        /// True when at least one recipient was refused with a 4yz reply.
        transient: bool,
    },
    /// The server broke the protocol.
    Protocol(ProtocolError),
    /// The request was refused before anything was sent.
    Input(InputError),
    /// The caller's buffer is smaller than [`crate::client::MIN_BUFFER_LEN`],
    /// or its transmit half cannot hold an AUTH response line (a long
    /// OAuth 2.0 access token). Nothing was sent.
    BufferTooSmall {
        /// Minimum length in bytes.
        needed: usize,
    },
    /// Reading the message body from the caller's source failed. The data
    /// phase was abandoned and the session closed, so the server discards
    /// the partial message once the connection is dropped.
    Body(embedded_io::ErrorKind),
    /// The session can no longer be used: the server sent 421 or the
    /// connection failed earlier.
    Closed,
    /// TLS is required, but the server's EHLO reply does not offer
    /// STARTTLS (RFC 3207 section 4). No command but QUIT was sent after
    /// EHLO.
    TlsNotOffered,
    /// The TLS handshake failed, for example because the certificate was
    /// rejected, no common protocol version exists, or the connection
    /// broke. The session is closed.
    TlsHandshake {
        /// The error of the TLS implementation.
        error: E,
        /// True when the failure may go away on a later attempt, such as a
        /// lost connection or a timeout during the handshake.
        transient: bool,
    },
}

impl<E> Error<E> {
    /// Returns true when the same request may succeed later: 4yz replies
    /// (454 to AUTH among them), lost connections, transport errors such as
    /// timeouts, protocol errors of the peer, and TLS handshakes broken by
    /// the network.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Io(_) | Self::UnexpectedEof | Self::Protocol(_) | Self::Closed => true,
            Self::Reply { reply, .. } | Self::Auth { reply, .. } => reply.is_transient(),
            Self::NoRecipientAccepted { transient } | Self::TlsHandshake { transient, .. } => {
                *transient
            }
            Self::Input(_) | Self::BufferTooSmall { .. } | Self::Body(_) | Self::TlsNotOffered => {
                false
            }
        }
    }

    /// Returns true when repeating the same request will fail again: 5yz
    /// replies (535 invalid credentials among them), recipients all refused
    /// permanently, invalid input, missing STARTTLS under a policy that
    /// requires it, and rejected TLS handshakes.
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// Returns the server reply behind this error, if there is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Self::Reply { reply, .. } | Self::Auth { reply, .. } => Some(reply),
            _ => None,
        }
    }
}

impl<E> From<InputError> for Error<E> {
    fn from(e: InputError) -> Self {
        Self::Input(e)
    }
}

impl<E> From<ProtocolError> for Error<E> {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e}"),
            Self::UnexpectedEof => f.write_str("server closed the connection"),
            Self::Reply { command, reply } => write!(f, "server rejected {command}: {reply}"),
            Self::Auth {
                mechanism,
                failure,
                reply,
            } => write!(f, "AUTH {mechanism} failed: {failure} ({reply})"),
            Self::NoRecipientAccepted { .. } => f.write_str("server accepted no recipient"),
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::Input(e) => e.fmt(f),
            Self::BufferTooSmall { needed } => {
                write!(
                    f,
                    "session buffer too small: at least {needed} bytes needed"
                )
            }
            Self::Body(kind) => write!(f, "reading the message body failed: {kind}"),
            Self::Closed => f.write_str("session closed after an earlier failure"),
            Self::TlsNotOffered => {
                f.write_str("TLS is required but the server does not offer STARTTLS")
            }
            Self::TlsHandshake { error, .. } => write!(f, "TLS handshake failed: {error}"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) | Self::TlsHandshake { error: e, .. } => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Input(e) => Some(e),
            _ => None,
        }
    }
}
