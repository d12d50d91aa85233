//! Allocation-free composition of a plain-text message, written straight
//! into the DATA stream.
//!
//! - [`HeaderEncoder`] streams the header block (RFC 5322 section 3.6, MIME
//!   fields of RFC 2045 and RFC 2046). Lines are folded at 78 columns (RFC
//!   5322 section 2.1.1), non-ASCII text becomes RFC 2047 encoded-words, and
//!   every input is checked for header injection before the first byte is
//!   written.
//! - [`QuotedPrintableEncoder`] streams a text body as quoted-printable (RFC
//!   2045 section 6.7) when [`TransferEncoding::choose`] decides that the body cannot
//!   travel as it is.
//! - [`Date`] formats RFC 5322 section 3.3 dates from a caller-supplied time.
//!
//! Both encoders write into caller buffers of any size and keep their state
//! between calls, so neither the message nor the header block is ever held
//! in memory as a whole.

mod date;
mod encoded_word;
mod header;
mod quoted_printable;
mod transfer_encoding;

#[cfg(test)]
mod test_support;

use core::fmt;

use crate::codec::address::AddressError;

pub use date::Date;
pub use header::{HeaderEncoder, Headers};
pub use quoted_printable::{QuotedPrintableEncoder, quoted_printable_len};
pub use transfer_encoding::TransferEncoding;

/// A mailbox with an optional display name, e.g. `Pump 7 <pump7@example.net>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mailbox<'a> {
    /// Display name shown by mail readers. `None` and `Some("")` both write
    /// the bare address.
    pub name: Option<&'a str>,
    /// Address `local@domain`, without angle brackets.
    pub address: &'a str,
}

impl<'a> Mailbox<'a> {
    /// Creates a mailbox without a display name.
    pub const fn new(address: &'a str) -> Self {
        Self {
            name: None,
            address,
        }
    }

    /// Creates a mailbox with a display name.
    pub const fn with_name(name: &'a str, address: &'a str) -> Self {
        Self {
            name: Some(name),
            address,
        }
    }
}

/// Message-ID `<unique@domain>` (RFC 5322 section 3.6.4) from a caller-given
/// unique part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageId<'a> {
    /// Left part (`id-left`): a dot-atom-text that the caller keeps unique
    /// for the domain, such as a boot counter and a sequence number.
    pub unique: &'a str,
    /// Right part (`id-right`): a dot-atom-text such as the sender's domain,
    /// or a domain literal in brackets.
    pub domain: &'a str,
}

impl<'a> MessageId<'a> {
    /// Creates a Message-ID from its two parts.
    pub const fn new(unique: &'a str, domain: &'a str) -> Self {
        Self { unique, domain }
    }

    /// Checks the syntax of RFC 5322 section 3.6.4: `id-left` is a
    /// dot-atom-text and `id-right` a dot-atom-text or a no-fold-literal
    /// (`[` dtext `]`). Both are ASCII.
    pub fn is_valid(&self) -> bool {
        let domain = self.domain.as_bytes();
        let domain_valid = match domain {
            [b'[', literal @ .., b']'] => literal.iter().all(|&b| is_dtext(b)),
            _ => is_dot_atom_text(domain),
        };
        is_dot_atom_text(self.unique.as_bytes()) && domain_valid
    }
}

/// Header field that an input belongs to, for error messages. Indexes count
/// from zero into the slice of [`Headers`] that contains the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HeaderField {
    /// The From mailbox.
    From,
    /// Entry of [`Headers::to`].
    To(usize),
    /// Entry of [`Headers::cc`].
    Cc(usize),
    /// The Subject text.
    Subject,
    /// Entry of [`Headers::extra`].
    Extra(usize),
}

impl fmt::Display for HeaderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::From => f.write_str("From"),
            Self::To(index) => write!(f, "To[{index}]"),
            Self::Cc(index) => write!(f, "Cc[{index}]"),
            Self::Subject => f.write_str("Subject"),
            Self::Extra(index) => write!(f, "extra[{index}]"),
        }
    }
}

/// Error returned by [`HeaderEncoder::new`] when an input cannot be written
/// into a header field as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ComposeError {
    /// The address of a mailbox failed validation.
    InvalidAddress {
        /// Field that contains the mailbox.
        field: HeaderField,
        /// Reason reported by the address validator.
        error: AddressError,
    },
    /// A display name contains a control character other than HTAB (such as
    /// CR, LF or NUL), which could inject header lines.
    InvalidDisplayName {
        /// Field that contains the mailbox.
        field: HeaderField,
    },
    /// An extra field name is empty, longer than
    /// [`HeaderEncoder::MAX_FIELD_NAME_LEN`], or contains a byte outside
    /// printable ASCII or a colon (RFC 5322 section 2.2 `ftext`).
    InvalidHeaderName {
        /// The extra field.
        field: HeaderField,
    },
    /// The Subject or an extra field value contains a control character
    /// other than HTAB (such as CR, LF or NUL), which could inject header
    /// lines.
    InvalidHeaderValue {
        /// Field that contains the value.
        field: HeaderField,
    },
    /// An extra field repeats a field that the encoder writes itself (From,
    /// To, Cc, Subject, MIME-Version, Content-Type, Content-Transfer-Encoding,
    /// and Date or Message-ID when those are given).
    DuplicateHeader {
        /// The extra field.
        field: HeaderField,
    },
    /// The Message-ID is not `dot-atom-text@dot-atom-text` or
    /// `dot-atom-text@[dtext]` (RFC 5322 section 3.6.4), or its line would
    /// exceed 998 octets.
    InvalidMessageId,
    /// The date, shifted by its offset, lies outside the years 1900 to 9999,
    /// or the offset exceeds 23 hours 59 minutes.
    InvalidDate,
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidAddress { field, error } => {
                write!(f, "invalid address in {field}: {error}")
            }
            Self::InvalidDisplayName { field } => write!(
                f,
                "invalid display name in {field}: it contains a control character (CR, LF, NUL or other)"
            ),
            Self::InvalidHeaderName { field } => write!(
                f,
                "invalid header field name in {field}: use 1 to {} printable ASCII characters without ':'",
                HeaderEncoder::MAX_FIELD_NAME_LEN
            ),
            Self::InvalidHeaderValue { field } => write!(
                f,
                "invalid header value in {field}: it contains a control character (CR, LF, NUL or other)"
            ),
            Self::DuplicateHeader { field } => write!(
                f,
                "header field {field} duplicates a field the encoder writes itself: set it through Headers instead"
            ),
            Self::InvalidMessageId => f.write_str(
                "invalid Message-ID: expected dot-atom-text@dot-atom-text or dot-atom-text@[literal] of ASCII characters",
            ),
            Self::InvalidDate => f.write_str(
                "invalid date: the local time must lie in the years 1900 to 9999 and the offset within +-23:59",
            ),
        }
    }
}

impl core::error::Error for ComposeError {}

/// Returns whether `b` is an RFC 5322 section 3.2.3 `atext` character.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// Returns whether `text` is an RFC 5322 `dot-atom-text`: atext runs joined
/// by single dots, neither starting nor ending with a dot.
fn is_dot_atom_text(text: &[u8]) -> bool {
    !text.is_empty()
        && text
            .split(|&b| b == b'.')
            .all(|atom| !atom.is_empty() && atom.iter().all(|&b| is_atext(b)))
}

/// Returns whether `b` is an RFC 5322 section 3.4.1 `dtext` character.
fn is_dtext(b: u8) -> bool {
    matches!(b, 33..=90 | 94..=126)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_syntax() {
        assert!(MessageId::new("1.2", "example.net").is_valid());
        assert!(MessageId::new("a+b", "[192.0.2.1]").is_valid());
        assert!(!MessageId::new("", "example.net").is_valid());
        assert!(!MessageId::new("a..b", "example.net").is_valid());
        assert!(!MessageId::new(".a", "example.net").is_valid());
        assert!(!MessageId::new("a b", "example.net").is_valid());
        assert!(!MessageId::new("a", "").is_valid());
        assert!(!MessageId::new("a", "ex\r\nample").is_valid());
        assert!(!MessageId::new("a", "[a]b]").is_valid());
        assert!(!MessageId::new("a@b", "example.net").is_valid());
        assert!(!MessageId::new("ü", "example.net").is_valid());
    }
}
