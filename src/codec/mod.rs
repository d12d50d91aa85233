//! Sans-I/O building blocks: parsers and encoders that never read or write a
//! transport and never allocate.
//!
//! - [`reply`]: server replies, multi-line and with enhanced status codes.
//! - [`ehlo`]: the extension keywords of an EHLO reply.
//! - [`address`]: mailbox and domain syntax and length limits.
//! - [`auth`]: SASL mechanisms for AUTH (PLAIN, LOGIN, XOAUTH2, CRAM-MD5).
//! - [`command`]: client command lines, encoded all-or-nothing.
//! - [`dot`]: dot-stuffing, line-ending repair and message size of a body.
//! - [`message`]: message composition (header fields, encoded-words,
//!   quoted-printable) written straight into the data stream.
//! - [`server`]: the server side: command lines, paths and parameters,
//!   dot-unstuffing of the data, reply lines.
//!
//! Streaming parsers return [`Status::Partial`] when they need more input
//! and carry their state across calls, so input may arrive in any split.

pub mod address;
pub mod auth;
pub mod command;
pub mod dot;
pub mod ehlo;
pub mod message;
pub mod reply;
pub mod server;
#[cfg(test)]
pub(crate) mod test_util;

pub use address::{AddressError, needs_smtputf8, validate_domain, validate_mailbox};
pub use auth::{AuthError, Authenticator, CredentialField, Credentials, Mechanism};
pub use command::{BodyType, Command, CommandKind, EncodeError, MailParams};
pub use dot::{DotStuffer, SizeCounter, has_8bit, message_size};
pub use ehlo::{AuthMechanisms, Extension, Extensions};
pub use reply::{EnhancedCode, MAX_REPLY_LINES, ReplyCode, ReplyError, ReplyLine, ReplyParser};

/// Result of feeding input to a streaming parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status<T> {
    /// A whole item was parsed. `T` usually includes the number of input
    /// bytes it consumed.
    Complete(T),
    /// The input ends before the item does: append more bytes and call again.
    Partial,
}
