//! Client command encoding: RFC 5321 section 4.1.1 (EHLO, HELO, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT), STARTTLS (RFC 3207) and LHLO (RFC 2033 section
//! 4.1). MAIL takes the parameters SIZE (RFC 1870 section 5), BODY
//! (RFC 6152 section 2) and SMTPUTF8 (RFC 6531 section 3.4).
//!
//! Encoding is all-or-nothing: every argument is validated and the line
//! length computed before the first byte is written, so a rejected command
//! never leaves half a line for the caller to send by mistake.

use core::fmt;

use super::address::{self, AddressError};

/// Command or event that a reply responds to. The greeting and the end of
/// data get replies too, although they are not commands of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandKind {
    /// The server's greeting after connecting.
    Greeting,
    /// `EHLO`.
    Ehlo,
    /// `HELO`.
    Helo,
    /// `LHLO` (LMTP).
    Lhlo,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA`.
    Data,
    /// The `.` line that ends the message data.
    DataEnd,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `STARTTLS`.
    StartTls,
    /// `AUTH`.
    Auth,
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Greeting => "greeting",
            Self::Ehlo => "EHLO",
            Self::Helo => "HELO",
            Self::Lhlo => "LHLO",
            Self::Mail => "MAIL",
            Self::Rcpt => "RCPT",
            Self::Data => "DATA",
            Self::DataEnd => "end of data",
            Self::Rset => "RSET",
            Self::Noop => "NOOP",
            Self::Quit => "QUIT",
            Self::StartTls => "STARTTLS",
            Self::Auth => "AUTH",
        };
        f.write_str(name)
    }
}

/// Body type declared with the MAIL parameter `BODY` (RFC 6152 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyType {
    /// `BODY=7BIT`: only 7-bit ASCII in the body.
    SevenBit,
    /// `BODY=8BITMIME`: the body may contain octets above 127. Requires the
    /// server's 8BITMIME extension.
    EightBitMime,
}

impl BodyType {
    const fn keyword(self) -> &'static [u8] {
        match self {
            Self::SevenBit => b"7BIT",
            Self::EightBitMime => b"8BITMIME",
        }
    }
}

/// Optional parameters of MAIL FROM. Each one requires the matching
/// extension in the server's EHLO reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MailParams {
    /// `SIZE=<octets>`: the message size (RFC 1870), as computed by
    /// [`message_size`](crate::codec::message_size).
    pub size: Option<u64>,
    /// `BODY=7BIT` or `BODY=8BITMIME` (RFC 6152).
    pub body: Option<BodyType>,
    /// `SMTPUTF8`: the addresses or headers contain UTF-8 (RFC 6531).
    pub smtputf8: bool,
}

/// A client command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command<'a> {
    /// `EHLO <domain>`, where the domain is a host name or an address
    /// literal such as `[192.0.2.1]`.
    Ehlo(&'a str),
    /// `HELO <domain>`.
    Helo(&'a str),
    /// `LHLO <domain>` (LMTP, RFC 2033).
    Lhlo(&'a str),
    /// `MAIL FROM:<from>` with optional parameters.
    Mail {
        /// Sender mailbox without angle brackets. An empty string sends the
        /// null reverse-path `<>`, used for bounces.
        from: &'a str,
        /// Optional parameters.
        params: MailParams,
    },
    /// `RCPT TO:<to>`.
    Rcpt {
        /// Recipient mailbox without angle brackets, or `Postmaster`
        /// (RFC 5321 section 4.1.1.3).
        to: &'a str,
    },
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `STARTTLS`.
    StartTls,
}

/// Error from [`Command::encode`] and [`DotStuffer::finish`].
///
/// [`DotStuffer::finish`]: crate::codec::DotStuffer::finish
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The output buffer is too small. Nothing was written.
    BufferTooSmall {
        /// Number of bytes the output needs.
        needed: usize,
    },
    /// The sender or recipient mailbox is invalid.
    InvalidAddress(AddressError),
    /// The EHLO, HELO or LHLO domain is invalid.
    InvalidDomain(AddressError),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::InvalidAddress(error) => write!(f, "invalid mailbox: {error}"),
            Self::InvalidDomain(error) => write!(f, "invalid domain: {error}"),
        }
    }
}

impl core::error::Error for EncodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::BufferTooSmall { .. } => None,
            Self::InvalidAddress(error) | Self::InvalidDomain(error) => Some(error),
        }
    }
}

/// Output that either counts bytes or writes them, so that one function
/// describes a command line for both the length check and the write.
struct LineWriter<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl<'b> LineWriter<'b> {
    fn counter() -> LineWriter<'static> {
        LineWriter {
            out: &mut [],
            len: 0,
        }
    }

    fn new(out: &'b mut [u8]) -> Self {
        Self { out, len: 0 }
    }

    /// Appends `bytes`. Writes them only while they fit, so the counting
    /// pass (with an empty buffer) writes nothing.
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(target) = self.out.get_mut(self.len..end) {
            target.copy_from_slice(bytes);
        }
        self.len = end;
    }

    fn put_all(&mut self, parts: &[&[u8]]) {
        for part in parts {
            self.put(part);
        }
    }

    fn put_decimal(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.put(&digits[start..]);
    }
}

impl Command<'_> {
    /// Writes the command line, ending in CRLF, into `out` and returns its
    /// length.
    ///
    /// All-or-nothing: on error no byte of `out` is written. Addresses and
    /// domains are validated first, so CR, LF, NUL and other control
    /// characters are rejected as [`EncodeError::InvalidAddress`] or
    /// [`EncodeError::InvalidDomain`] with [`AddressError::Control`].
    ///
    /// EHLO, HELO and LHLO reject non-ASCII domains with
    /// [`AddressError::Utf8NotAllowed`], because they are sent before the
    /// client knows whether the server supports SMTPUTF8. Non-ASCII sender
    /// and recipient addresses are written as UTF-8: the caller must check
    /// [`needs_smtputf8`](crate::codec::needs_smtputf8) and the server's
    /// SMTPUTF8 support, and set [`MailParams::smtputf8`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.validate()?;

        let mut counter = LineWriter::counter();
        self.write_line(&mut counter);
        let needed = counter.len;
        if needed > out.len() {
            return Err(EncodeError::BufferTooSmall { needed });
        }

        let mut writer = LineWriter::new(out);
        self.write_line(&mut writer);
        Ok(writer.len)
    }

    /// Returns what kind of command this is.
    pub fn kind(&self) -> CommandKind {
        match self {
            Self::Ehlo(_) => CommandKind::Ehlo,
            Self::Helo(_) => CommandKind::Helo,
            Self::Lhlo(_) => CommandKind::Lhlo,
            Self::Mail { .. } => CommandKind::Mail,
            Self::Rcpt { .. } => CommandKind::Rcpt,
            Self::Data => CommandKind::Data,
            Self::Rset => CommandKind::Rset,
            Self::Noop => CommandKind::Noop,
            Self::Quit => CommandKind::Quit,
            Self::StartTls => CommandKind::StartTls,
        }
    }

    fn validate(&self) -> Result<(), EncodeError> {
        match *self {
            Self::Ehlo(domain) | Self::Helo(domain) | Self::Lhlo(domain) => {
                address::validate_domain(domain).map_err(EncodeError::InvalidDomain)?;
                if !domain.is_ascii() {
                    return Err(EncodeError::InvalidDomain(AddressError::Utf8NotAllowed));
                }
                Ok(())
            }
            // An empty sender is the null reverse-path `<>`.
            Self::Mail { from: "", .. } => Ok(()),
            Self::Mail { from, .. } => {
                address::validate_mailbox(from).map_err(EncodeError::InvalidAddress)
            }
            // RFC 5321 section 4.1.1.3 accepts `<Postmaster>` without a
            // domain, case-insensitively.
            Self::Rcpt { to } if to.eq_ignore_ascii_case("postmaster") => Ok(()),
            Self::Rcpt { to } => address::validate_mailbox(to).map_err(EncodeError::InvalidAddress),
            Self::Data | Self::Rset | Self::Noop | Self::Quit | Self::StartTls => Ok(()),
        }
    }

    fn write_line(&self, writer: &mut LineWriter<'_>) {
        match *self {
            Self::Ehlo(domain) => writer.put_all(&[b"EHLO ", domain.as_bytes()]),
            Self::Helo(domain) => writer.put_all(&[b"HELO ", domain.as_bytes()]),
            Self::Lhlo(domain) => writer.put_all(&[b"LHLO ", domain.as_bytes()]),
            Self::Mail { from, params } => {
                writer.put_all(&[b"MAIL FROM:<", from.as_bytes(), b">"]);
                if let Some(size) = params.size {
                    writer.put(b" SIZE=");
                    writer.put_decimal(size);
                }
                if let Some(body) = params.body {
                    writer.put_all(&[b" BODY=", body.keyword()]);
                }
                if params.smtputf8 {
                    writer.put(b" SMTPUTF8");
                }
            }
            Self::Rcpt { to } => writer.put_all(&[b"RCPT TO:<", to.as_bytes(), b">"]),
            Self::Data => writer.put(b"DATA"),
            Self::Rset => writer.put(b"RSET"),
            Self::Noop => writer.put(b"NOOP"),
            Self::Quit => writer.put(b"QUIT"),
            Self::StartTls => writer.put(b"STARTTLS"),
        }
        writer.put(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::XorShift;
    use std::string::String;

    fn encode_to_vec(command: &Command<'_>) -> Result<std::vec::Vec<u8>, EncodeError> {
        let mut out = [0u8; 600];
        let len = command.encode(&mut out)?;
        Ok(out[..len].to_vec())
    }

    #[test]
    fn wire_forms() {
        let mail = Command::Mail {
            from: "a@b",
            params: MailParams {
                size: Some(123),
                body: Some(BodyType::EightBitMime),
                smtputf8: true,
            },
        };
        let cases: &[(Command<'_>, &[u8])] = &[
            (Command::Ehlo("name"), b"EHLO name\r\n"),
            (Command::Helo("name"), b"HELO name\r\n"),
            (Command::Lhlo("name"), b"LHLO name\r\n"),
            (Command::Ehlo("[192.0.2.1]"), b"EHLO [192.0.2.1]\r\n"),
            (mail, b"MAIL FROM:<a@b> SIZE=123 BODY=8BITMIME SMTPUTF8\r\n"),
            (
                Command::Mail {
                    from: "",
                    params: MailParams::default(),
                },
                b"MAIL FROM:<>\r\n",
            ),
            (
                Command::Mail {
                    from: "a@b",
                    params: MailParams {
                        size: Some(0),
                        body: Some(BodyType::SevenBit),
                        smtputf8: false,
                    },
                },
                b"MAIL FROM:<a@b> SIZE=0 BODY=7BIT\r\n",
            ),
            (Command::Rcpt { to: "x@y" }, b"RCPT TO:<x@y>\r\n"),
            (
                Command::Rcpt { to: "Postmaster" },
                b"RCPT TO:<Postmaster>\r\n",
            ),
            (Command::Data, b"DATA\r\n"),
            (Command::Rset, b"RSET\r\n"),
            (Command::Noop, b"NOOP\r\n"),
            (Command::Quit, b"QUIT\r\n"),
            (Command::StartTls, b"STARTTLS\r\n"),
        ];
        for (command, expected) in cases {
            assert_eq!(
                encode_to_vec(command).as_deref(),
                Ok(*expected),
                "{command:?}"
            );
        }
    }

    #[test]
    fn largest_size_parameter() {
        let command = Command::Mail {
            from: "a@b",
            params: MailParams {
                size: Some(u64::MAX),
                ..MailParams::default()
            },
        };
        assert_eq!(
            encode_to_vec(&command).as_deref(),
            Ok(&b"MAIL FROM:<a@b> SIZE=18446744073709551615\r\n"[..])
        );
    }

    #[test]
    fn injection_rejected_before_writing() {
        let cases: &[(Command<'_>, EncodeError)] = &[
            (
                Command::Mail {
                    from: "a@b>\r\nRCPT TO:<victim@example.org",
                    params: MailParams::default(),
                },
                EncodeError::InvalidAddress(AddressError::Control),
            ),
            (
                Command::Rcpt {
                    to: "victim\0@example.org",
                },
                EncodeError::InvalidAddress(AddressError::Control),
            ),
            (
                Command::Ehlo("host\r\nMAIL FROM:<>"),
                EncodeError::InvalidDomain(AddressError::Control),
            ),
            (
                Command::Lhlo("host\n"),
                EncodeError::InvalidDomain(AddressError::Control),
            ),
            (
                Command::Rcpt {
                    to: "a@b> NOTIFY=NEVER",
                },
                EncodeError::InvalidAddress(AddressError::Syntax),
            ),
        ];
        for (command, expected) in cases {
            let mut out = [0xAAu8; 128];
            assert_eq!(command.encode(&mut out), Err(*expected), "{command:?}");
            assert!(out.iter().all(|&b| b == 0xAA), "{command:?} wrote bytes");
        }
        // MAIL parameters are typed (a number, an enum and a flag), so no
        // parameter value can carry CR or LF.
    }

    #[test]
    fn invalid_arguments_rejected() {
        let cases: &[(Command<'_>, EncodeError)] = &[
            (
                Command::Ehlo(""),
                EncodeError::InvalidDomain(AddressError::Empty),
            ),
            (
                Command::Helo("bücher.example"),
                EncodeError::InvalidDomain(AddressError::Utf8NotAllowed),
            ),
            (
                Command::Rcpt { to: "" },
                EncodeError::InvalidAddress(AddressError::Empty),
            ),
            (
                Command::Rcpt { to: "postmaster@" },
                EncodeError::InvalidAddress(AddressError::Syntax),
            ),
            (
                Command::Mail {
                    from: "<a@b>",
                    params: MailParams::default(),
                },
                EncodeError::InvalidAddress(AddressError::Syntax),
            ),
        ];
        for (command, expected) in cases {
            assert_eq!(encode_to_vec(command), Err(*expected), "{command:?}");
        }
    }

    #[test]
    fn utf8_mailbox_written_raw() {
        let command = Command::Rcpt {
            to: "jöran@bücher.example",
        };
        assert_eq!(
            encode_to_vec(&command).as_deref(),
            Ok("RCPT TO:<jöran@bücher.example>\r\n".as_bytes())
        );
    }

    #[test]
    fn small_buffer_reports_needed() {
        let command = Command::Rcpt { to: "x@y" };
        let needed = b"RCPT TO:<x@y>\r\n".len();
        for size in 0..needed {
            let mut out = std::vec![0xAAu8; size];
            assert_eq!(
                command.encode(&mut out),
                Err(EncodeError::BufferTooSmall { needed }),
                "buffer of {size} bytes"
            );
            assert!(out.iter().all(|&b| b == 0xAA), "buffer of {size} bytes");
        }
        let mut out = std::vec![0u8; needed];
        assert_eq!(command.encode(&mut out), Ok(needed));
    }

    #[test]
    fn kinds_and_names() {
        assert_eq!(Command::Ehlo("x").kind(), CommandKind::Ehlo);
        assert_eq!(Command::Rcpt { to: "a@b" }.kind(), CommandKind::Rcpt);
        assert_eq!(Command::StartTls.kind(), CommandKind::StartTls);
        assert_eq!(std::format!("{}", CommandKind::DataEnd), "end of data");
        assert_eq!(std::format!("{}", CommandKind::Greeting), "greeting");
        assert_eq!(std::format!("{}", CommandKind::Mail), "MAIL");
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            std::format!("{}", EncodeError::BufferTooSmall { needed: 17 }),
            "output buffer too small: 17 bytes needed"
        );
        assert_eq!(
            std::format!("{}", EncodeError::InvalidDomain(AddressError::Control)),
            "invalid domain: mailbox or domain contains a control character such as CR, LF or NUL"
        );
    }

    #[test]
    fn random_arguments_single_line() {
        let alphabet = b"ab.@<>[]:\r\n\0 \"\\-1";
        let mut rng = XorShift::new(0xc0de);
        for _ in 0..20_000 {
            let bytes = rng.bytes_from(alphabet, 20);
            let argument: String = bytes.iter().map(|&b| char::from(b)).collect();
            let size = rng.below(40);
            let commands = [
                Command::Ehlo(&argument),
                Command::Rcpt { to: &argument },
                Command::Mail {
                    from: &argument,
                    params: MailParams {
                        size: Some(rng.next_u64()),
                        ..MailParams::default()
                    },
                },
            ];
            for command in commands {
                let mut out = std::vec![0u8; size];
                match command.encode(&mut out) {
                    Ok(len) => {
                        let line = &out[..len];
                        assert!(line.ends_with(b"\r\n"), "{command:?}");
                        let body = &line[..len - 2];
                        assert!(
                            !body.contains(&b'\r') && !body.contains(&b'\n'),
                            "{command:?}"
                        );
                        assert!(!body.contains(&0), "{command:?}");
                    }
                    Err(EncodeError::BufferTooSmall { needed }) => {
                        assert!(needed > size, "{command:?}");
                        let mut larger = std::vec![0u8; needed];
                        assert_eq!(command.encode(&mut larger), Ok(needed), "{command:?}");
                    }
                    Err(_) => {}
                }
            }
        }
    }
}
