//! EHLO reply keywords: RFC 5321 section 4.1.1.1 (`ehlo-line = ehlo-keyword
//! *( SP ehlo-param )`, keywords case-insensitive per section 2.4).
//!
//! Recognised extensions: SIZE (RFC 1870), PIPELINING (RFC 2920), 8BITMIME
//! (RFC 6152), SMTPUTF8 (RFC 6531), ENHANCEDSTATUSCODES (RFC 2034),
//! STARTTLS (RFC 3207), CHUNKING (RFC 3030), DSN (RFC 3461) and AUTH
//! (RFC 4954), including the pre-standard `AUTH=` form that some servers
//! still send. Unknown keywords are ignored.

/// An SMTP service extension that [`Extensions`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Extension {
    /// `SIZE`: message size declaration (RFC 1870).
    Size,
    /// `PIPELINING`: command pipelining (RFC 2920).
    Pipelining,
    /// `8BITMIME`: 8-bit MIME bodies (RFC 6152).
    EightBitMime,
    /// `SMTPUTF8`: internationalized addresses and headers (RFC 6531).
    SmtpUtf8,
    /// `ENHANCEDSTATUSCODES`: enhanced status codes in replies (RFC 2034).
    EnhancedStatusCodes,
    /// `STARTTLS`: upgrade to TLS (RFC 3207).
    StartTls,
    /// `CHUNKING`: the BDAT command (RFC 3030).
    Chunking,
    /// `DSN`: delivery status notifications (RFC 3461).
    Dsn,
    /// `AUTH`: authentication (RFC 4954).
    Auth,
}

impl Extension {
    /// Every extension with its keyword.
    const KEYWORDS: [(Self, &'static [u8]); 9] = [
        (Self::Size, b"SIZE"),
        (Self::Pipelining, b"PIPELINING"),
        (Self::EightBitMime, b"8BITMIME"),
        (Self::SmtpUtf8, b"SMTPUTF8"),
        (Self::EnhancedStatusCodes, b"ENHANCEDSTATUSCODES"),
        (Self::StartTls, b"STARTTLS"),
        (Self::Chunking, b"CHUNKING"),
        (Self::Dsn, b"DSN"),
        (Self::Auth, b"AUTH"),
    ];

    /// Returns the extension named by `keyword`, ignoring ASCII case.
    fn from_keyword(keyword: &[u8]) -> Option<Self> {
        Self::KEYWORDS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(keyword))
            .map(|&(extension, _)| extension)
    }

    /// Returns the bit of this extension in [`Extensions`].
    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// Set of SASL mechanisms offered with AUTH (RFC 4954 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthMechanisms(u8);

impl AuthMechanisms {
    /// No mechanism.
    pub const NONE: Self = Self(0);
    /// `PLAIN` (RFC 4616).
    pub const PLAIN: Self = Self(1);
    /// `LOGIN` (not standardised, widely deployed).
    pub const LOGIN: Self = Self(1 << 1);
    /// `CRAM-MD5` (RFC 2195).
    pub const CRAM_MD5: Self = Self(1 << 2);
    /// `XOAUTH2` (Google's OAuth 2.0 bearer token mechanism).
    pub const XOAUTH2: Self = Self(1 << 3);

    /// Every known mechanism with its name.
    const NAMES: [(Self, &'static [u8]); 4] = [
        (Self::PLAIN, b"PLAIN"),
        (Self::LOGIN, b"LOGIN"),
        (Self::CRAM_MD5, b"CRAM-MD5"),
        (Self::XOAUTH2, b"XOAUTH2"),
    ];

    /// Returns whether every mechanism in `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Returns the mechanisms in either set.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Returns whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Returns the mechanism named by the whole token `name`, ignoring ASCII
    /// case, or [`Self::NONE`] for an unknown name.
    fn from_name(name: &[u8]) -> Self {
        Self::NAMES
            .iter()
            .find(|(_, known)| known.eq_ignore_ascii_case(name))
            .map_or(Self::NONE, |&(mechanism, _)| mechanism)
    }
}

/// Writes the mechanism names separated by spaces, or `none` for the empty
/// set.
impl core::fmt::Display for AuthMechanisms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut separator = "";
        for (mechanism, name) in Self::NAMES {
            if self.contains(mechanism) {
                write!(f, "{separator}{}", crate::fmt::Bytes(name))?;
                separator = " ";
            }
        }
        Ok(())
    }
}

/// Extensions a server advertised in its EHLO reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Extensions {
    /// One bit per [`Extension`].
    flags: u16,
    /// Value of the SIZE keyword, or 0 when absent, unparsable or 0 (no
    /// fixed limit).
    size: u64,
    /// Mechanisms from every AUTH line.
    auth: AuthMechanisms,
}

impl Extensions {
    /// Creates an empty set: nothing advertised, as after a HELO.
    pub const fn new() -> Self {
        Self {
            flags: 0,
            size: 0,
            auth: AuthMechanisms::NONE,
        }
    }

    /// Parses the text of one EHLO reply line and records what it
    /// advertises.
    ///
    /// Pass every line after the first one, which carries the server's
    /// domain and greeting instead of a keyword. Never fails: unknown
    /// keywords and unparsable parameters are ignored. Several AUTH lines
    /// merge their mechanisms.
    pub fn parse_line(&mut self, text: &[u8]) {
        let mut tokens = text
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|token| !token.is_empty());
        let Some(first) = tokens.next() else {
            return;
        };

        // Some servers send the pre-standard form `AUTH=PLAIN LOGIN`, which
        // carries the first mechanism in the keyword token.
        let (keyword, attached) = match first.iter().position(|&b| b == b'=') {
            Some(eq) => (first.get(..eq).unwrap_or_default(), first.get(eq + 1..)),
            None => (first, None),
        };
        let Some(extension) = Extension::from_keyword(keyword) else {
            debug!("ignoring EHLO keyword {}", crate::fmt::Bytes(keyword));
            return;
        };
        if attached.is_some() && extension != Extension::Auth {
            debug!("ignoring EHLO keyword {}", crate::fmt::Bytes(first));
            return;
        }
        self.flags |= extension.bit();

        match extension {
            Extension::Size => {
                // RFC 1870 section 4: an optional decimal maximum size, where
                // 0 or no value means no fixed limit.
                self.size = tokens.next().and_then(parse_decimal).unwrap_or(0);
            }
            Extension::Auth => {
                for name in attached.into_iter().chain(tokens) {
                    self.auth = self.auth.union(AuthMechanisms::from_name(name));
                }
            }
            _ => {}
        }
    }

    /// Returns whether the server advertised `ext`.
    pub fn contains(&self, ext: Extension) -> bool {
        self.flags & ext.bit() != 0
    }

    /// Returns the maximum message size in octets that the server accepts.
    ///
    /// `None` when SIZE was not advertised, was advertised without a value
    /// or with 0 (RFC 1870: no fixed limit), or with a value that is not a
    /// decimal number that fits in `u64` (ignored). [`contains`] still
    /// returns `true` for [`Extension::Size`] in the last three cases,
    /// because the server accepts the SIZE parameter.
    ///
    /// [`contains`]: Self::contains
    pub fn max_size(&self) -> Option<u64> {
        if self.size == 0 {
            None
        } else {
            Some(self.size)
        }
    }

    /// Returns the SASL mechanisms from every AUTH line.
    pub fn auth_mechanisms(&self) -> AuthMechanisms {
        self.auth
    }
}

/// Parses a non-empty string of ASCII digits, without overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        value.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::XorShift;
    use crate::codec::{ReplyParser, Status};

    /// Parses a whole EHLO reply through the reply parser and records every
    /// line after the first.
    fn extensions_from_reply(reply: &[u8]) -> Extensions {
        let mut parser = ReplyParser::new();
        let mut extensions = Extensions::new();
        let mut rest = reply;
        let mut first = true;
        while let Ok(Status::Complete((line, consumed))) = parser.parse_line(rest) {
            if !first {
                extensions.parse_line(line.text);
            }
            first = false;
            rest = &rest[consumed..];
        }
        extensions
    }

    #[test]
    fn keywords_case_insensitive() {
        let extensions = extensions_from_reply(
            b"250-mail.example\r\n250-starttls\r\n250-size 1000\r\n250 auth plain login\r\n",
        );
        assert!(extensions.contains(Extension::StartTls));
        assert!(extensions.contains(Extension::Size));
        assert!(extensions.contains(Extension::Auth));
        assert_eq!(extensions.max_size(), Some(1000));
        assert!(extensions.auth_mechanisms().contains(AuthMechanisms::PLAIN));
        assert!(extensions.auth_mechanisms().contains(AuthMechanisms::LOGIN));
        assert!(
            !extensions
                .auth_mechanisms()
                .contains(AuthMechanisms::CRAM_MD5)
        );
        assert!(!extensions.contains(Extension::Pipelining));
    }

    #[test]
    fn greeting_line_ignored() {
        // The first line names the server; a server called "size" must not
        // look like the SIZE extension.
        let extensions = extensions_from_reply(b"250-size Hello\r\n250 8BITMIME\r\n");
        assert!(!extensions.contains(Extension::Size));
        assert!(extensions.contains(Extension::EightBitMime));
    }

    #[test]
    fn every_keyword_recognised() {
        let mut extensions = Extensions::new();
        for line in [
            &b"SIZE"[..],
            b"PIPELINING",
            b"8BITMIME",
            b"SMTPUTF8",
            b"ENHANCEDSTATUSCODES",
            b"STARTTLS",
            b"CHUNKING",
            b"DSN",
            b"AUTH",
        ] {
            extensions.parse_line(line);
        }
        for (extension, _) in Extension::KEYWORDS {
            assert!(extensions.contains(extension), "{extension:?}");
        }
    }

    #[test]
    fn size_without_limit() {
        for text in [
            &b"SIZE"[..],
            b"SIZE 0",
            b"SIZE abc",
            b"SIZE -5",
            b"SIZE 99999999999999999999999",
        ] {
            let mut extensions = Extensions::new();
            extensions.parse_line(text);
            assert!(extensions.contains(Extension::Size), "text {text:?}");
            assert_eq!(extensions.max_size(), None, "text {text:?}");
        }
    }

    #[test]
    fn size_limits_parsed() {
        let mut extensions = Extensions::new();
        extensions.parse_line(b"SIZE 35882577");
        assert_eq!(extensions.max_size(), Some(35_882_577));
        extensions.parse_line(b"SIZE 18446744073709551615");
        assert_eq!(extensions.max_size(), Some(u64::MAX));
    }

    #[test]
    fn size_from_reply_lines() {
        for (reply, expected) in [
            (&b"250-x\r\n250-SIZE\r\n250 OK\r\n"[..], None),
            (b"250-x\r\n250-SIZE 0\r\n250 OK\r\n", None),
            (b"250-x\r\n250-SIZE abc\r\n250 OK\r\n", None),
        ] {
            let extensions = extensions_from_reply(reply);
            assert!(extensions.contains(Extension::Size));
            assert_eq!(extensions.max_size(), expected);
        }
    }

    #[test]
    fn auth_lines_merge() {
        let mut extensions = Extensions::new();
        extensions.parse_line(b"AUTH=PLAIN login");
        extensions.parse_line(b"AUTH CRAM-MD5 XOAUTH2");
        let auth = extensions.auth_mechanisms();
        let all = AuthMechanisms::PLAIN
            .union(AuthMechanisms::LOGIN)
            .union(AuthMechanisms::CRAM_MD5)
            .union(AuthMechanisms::XOAUTH2);
        assert_eq!(auth, all);
        assert!(extensions.contains(Extension::Auth));
    }

    #[test]
    fn auth_matches_whole_tokens() {
        let mut extensions = Extensions::new();
        extensions.parse_line(b"AUTH PLAIN-CLIENTTOKEN GSSAPI XLOGIN");
        assert!(extensions.contains(Extension::Auth));
        assert!(extensions.auth_mechanisms().is_empty());
    }

    #[test]
    fn unknown_keywords_ignored() {
        let mut extensions = Extensions::new();
        for text in [
            &b""[..],
            b"   ",
            b"VRFY",
            b"XFORWARD NAME ADDR",
            b"SIZE=100",
            b"STARTTLSX",
        ] {
            extensions.parse_line(text);
        }
        assert_eq!(extensions, Extensions::new());
    }

    #[test]
    fn extra_whitespace_tolerated() {
        let mut extensions = Extensions::new();
        extensions.parse_line(b"  SIZE\t 2048 ");
        assert_eq!(extensions.max_size(), Some(2048));
    }

    #[test]
    fn mechanism_set_operations() {
        let set = AuthMechanisms::PLAIN.union(AuthMechanisms::LOGIN);
        assert!(set.contains(AuthMechanisms::PLAIN));
        assert!(set.contains(AuthMechanisms::NONE));
        assert!(!set.contains(AuthMechanisms::PLAIN.union(AuthMechanisms::XOAUTH2)));
        assert!(AuthMechanisms::NONE.is_empty());
        assert!(!set.is_empty());
        assert_eq!(AuthMechanisms::default(), AuthMechanisms::NONE);
    }

    #[test]
    fn mechanism_names_displayed() {
        let set = AuthMechanisms::XOAUTH2.union(AuthMechanisms::PLAIN);
        assert_eq!(std::format!("{set}"), "PLAIN XOAUTH2");
        assert_eq!(std::format!("{}", AuthMechanisms::NONE), "none");
    }

    #[test]
    fn random_lines_never_panic() {
        let alphabet = b"SIZEAUTHPLAIN=0123456789 \t-\xff";
        let mut rng = XorShift::new(0xe410);
        for _ in 0..5000 {
            let text = rng.bytes_from(alphabet, 30);
            let mut extensions = Extensions::new();
            extensions.parse_line(&text);
            if let Some(size) = extensions.max_size() {
                assert!(size > 0);
                assert!(extensions.contains(Extension::Size));
            }
            if !extensions.auth_mechanisms().is_empty() {
                assert!(extensions.contains(Extension::Auth));
            }
        }
    }
}
