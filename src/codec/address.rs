//! Mailbox and domain validation: the grammar of RFC 5321 section 4.1.2
//! (`Mailbox`, `Dot-string`, `Quoted-string`, `Domain`, `address-literal`
//! with IPv4 and IPv6 literals), the size limits of section 4.5.3.1, and
//! the UTF-8 extensions of RFC 6531 section 3.3.
//!
//! Validation runs before a command is encoded, so that nothing a caller
//! passes can end the command line early or add a second command. Control
//! characters (CR, LF, NUL and every other Unicode control) are therefore
//! rejected everywhere, including inside quoted strings.
//!
//! Non-ASCII characters are accepted in the local part and in domain labels
//! (RFC 6531). The caller must then use SMTPUTF8, see [`needs_smtputf8`].

use core::fmt;

/// Maximum length of a local part in octets (RFC 5321 section 4.5.3.1.1).
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// Maximum length of a domain in octets (RFC 5321 section 4.5.3.1.2).
pub const MAX_DOMAIN_LEN: usize = 255;
/// Maximum length of a reverse or forward path in octets, including the
/// angle brackets (RFC 5321 section 4.5.3.1.3).
pub const MAX_PATH_LEN: usize = 256;
/// Maximum length of one domain label in octets (RFC 1035 section 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Reason a mailbox or domain is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddressError {
    /// The mailbox or domain is empty.
    Empty,
    /// The mailbox is longer than 254 octets, so its path with angle
    /// brackets exceeds [`MAX_PATH_LEN`].
    TooLong,
    /// The local part is longer than [`MAX_LOCAL_PART_LEN`].
    LocalPartTooLong,
    /// The domain is longer than [`MAX_DOMAIN_LEN`].
    DomainTooLong,
    /// A domain label is longer than [`MAX_LABEL_LEN`].
    LabelTooLong,
    /// The input contains a control character, such as CR, LF, NUL, TAB or
    /// DEL, which could end or split the command line.
    Control,
    /// The input does not match the RFC 5321 section 4.1.2 grammar.
    Syntax,
    /// The input contains non-ASCII characters where only ASCII is allowed,
    /// such as the EHLO argument, which is sent before the client knows
    /// whether the server supports SMTPUTF8.
    Utf8NotAllowed,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = match self {
            Self::Empty => "mailbox or domain is empty",
            Self::TooLong => "mailbox is longer than 254 octets",
            Self::LocalPartTooLong => "local part is longer than 64 octets",
            Self::DomainTooLong => "domain is longer than 255 octets",
            Self::LabelTooLong => "domain label is longer than 63 octets",
            Self::Control => "mailbox or domain contains a control character such as CR, LF or NUL",
            Self::Syntax => "mailbox or domain syntax is invalid (RFC 5321 section 4.1.2)",
            Self::Utf8NotAllowed => "non-ASCII characters are not allowed here",
        };
        f.write_str(message)
    }
}

impl core::error::Error for AddressError {}

/// Validates a mailbox `local-part@domain`, given without angle brackets.
///
/// The local part is a Dot-string (atoms of `atext` separated by single
/// dots) or a Quoted-string (with `\` quoted pairs). The domain is a
/// sequence of labels made of letters, digits and hyphens that neither
/// start nor end with a hyphen, or an address literal such as
/// `[192.0.2.1]` or `[IPv6:2001:db8::1]`. Non-ASCII characters are allowed
/// in atoms, quoted strings and labels (RFC 6531).
///
/// Limits: local part 64 octets, domain 255 octets, label 63 octets, and
/// 256 octets for the whole path including `<` and `>`.
pub fn validate_mailbox(mailbox: &str) -> Result<(), AddressError> {
    if mailbox.is_empty() {
        return Err(AddressError::Empty);
    }
    reject_controls(mailbox)?;
    if mailbox.len() > MAX_PATH_LEN - 2 {
        return Err(AddressError::TooLong);
    }

    let (local_part, domain) = split_local_part(mailbox)?;
    if local_part.len() > MAX_LOCAL_PART_LEN {
        return Err(AddressError::LocalPartTooLong);
    }
    if domain.is_empty() {
        return Err(AddressError::Syntax);
    }
    validate_domain(domain)
}

/// Validates a domain or address literal, as used in a mailbox or as the
/// EHLO, HELO or LHLO argument (RFC 5321 section 4.1.1.1).
///
/// Accepts non-ASCII labels (RFC 6531). [`Command::encode`] rejects them for
/// EHLO, HELO and LHLO.
///
/// NOTE: Non-ASCII labels are checked against the 63-octet label limit in
/// their UTF-8 form, not in their A-label (Punycode) form, and IDNA rules
/// such as normalisation are not checked.
///
/// [`Command::encode`]: crate::codec::Command::encode
pub fn validate_domain(domain: &str) -> Result<(), AddressError> {
    if domain.is_empty() {
        return Err(AddressError::Empty);
    }
    reject_controls(domain)?;
    if domain.len() > MAX_DOMAIN_LEN {
        return Err(AddressError::DomainTooLong);
    }

    if let Some(literal) = domain.strip_prefix('[') {
        let inner = literal.strip_suffix(']').ok_or(AddressError::Syntax)?;
        return validate_address_literal(inner);
    }
    domain.split('.').try_for_each(validate_label)
}

/// Returns whether `s` contains non-ASCII characters and so needs the
/// SMTPUTF8 extension (RFC 6531) when used in an address.
pub fn needs_smtputf8(s: &str) -> bool {
    !s.is_ascii()
}

fn reject_controls(s: &str) -> Result<(), AddressError> {
    if s.chars().any(char::is_control) {
        return Err(AddressError::Control);
    }
    Ok(())
}

/// Splits a mailbox into its local part (with quotes, if quoted) and the
/// text after the `@`, checking the local part's syntax.
fn split_local_part(mailbox: &str) -> Result<(&str, &str), AddressError> {
    let local_len = if mailbox.starts_with('"') {
        quoted_string_len(mailbox.as_bytes())?
    } else {
        // `atext` excludes `@`, so the first one ends a Dot-string.
        let at = mailbox.find('@').ok_or(AddressError::Syntax)?;
        let local_part = mailbox.get(..at).unwrap_or_default();
        if !local_part.split('.').all(is_atom) {
            return Err(AddressError::Syntax);
        }
        at
    };

    let local_part = mailbox.get(..local_len).ok_or(AddressError::Syntax)?;
    let domain = mailbox
        .get(local_len..)
        .and_then(|rest| rest.strip_prefix('@'))
        .ok_or(AddressError::Syntax)?;
    Ok((local_part, domain))
}

/// Returns the length of the Quoted-string at the start of `input`,
/// including both quotes.
fn quoted_string_len(input: &[u8]) -> Result<usize, AddressError> {
    let mut i = 1;
    loop {
        match input.get(i).copied() {
            None => return Err(AddressError::Syntax),
            Some(b'"') => return Ok(i + 1),
            // quoted-pairSMTP: a backslash and one printable ASCII
            // character or space.
            Some(b'\\') => match input.get(i + 1) {
                Some(32..=126) => i += 2,
                _ => return Err(AddressError::Syntax),
            },
            // qtextSMTP is printable ASCII except `"` and `\`, plus
            // UTF-8 (RFC 6531). Controls were rejected before.
            Some(32..=126 | 0x80..) => i += 1,
            Some(_) => return Err(AddressError::Syntax),
        }
    }
}

/// Returns whether `atom` is a non-empty run of `atext` (RFC 5322 section
/// 3.2.3) or non-ASCII characters (RFC 6531).
fn is_atom(atom: &str) -> bool {
    !atom.is_empty()
        && atom.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
        })
}

/// Checks one label of a domain: `Let-dig [Ldh-str]`, with non-ASCII
/// characters counted as letters (U-labels, RFC 6531).
fn validate_label(label: &str) -> Result<(), AddressError> {
    let is_let_dig = |c: char| c.is_ascii_alphanumeric() || !c.is_ascii();

    if label.len() > MAX_LABEL_LEN {
        return Err(AddressError::LabelTooLong);
    }
    let (Some(first), Some(last)) = (label.chars().next(), label.chars().next_back()) else {
        return Err(AddressError::Syntax);
    };
    let inner_valid = label.chars().all(|c| is_let_dig(c) || c == '-');
    if !(is_let_dig(first) && is_let_dig(last) && inner_valid) {
        return Err(AddressError::Syntax);
    }
    Ok(())
}

/// Checks the text between `[` and `]` of an address literal.
fn validate_address_literal(inner: &str) -> Result<(), AddressError> {
    if is_ipv4(inner) {
        return Ok(());
    }
    // RFC 5321 section 4.1.3 allows other tags only once they are
    // standardised and registered with IANA, and it defines only IPv6, so
    // general address literals are rejected.
    match inner.split_once(':') {
        Some((tag, address)) if tag.eq_ignore_ascii_case("IPv6") && is_ipv6(address) => Ok(()),
        _ => Err(AddressError::Syntax),
    }
}

/// `Snum 3("." Snum)` where `Snum` is 1 to 3 digits with a value up to 255.
fn is_ipv4(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('.') {
        parts += 1;
        let valid = (1..=3).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u8>().is_ok();
        if !valid || parts > 4 {
            return false;
        }
    }
    parts == 4
}

/// RFC 5321 `IPv6-addr`: eight groups of 1 to 4 hex digits, the last two of
/// which may be an IPv4 address, or fewer groups with one `::`.
///
/// RFC 5321 lets `::` stand for at least two zero groups, so at most six
/// groups may appear next to it, counting an IPv4 address as two.
fn is_ipv6(s: &str) -> bool {
    match s.split_once("::") {
        Some((head, tail)) => {
            let head_groups = count_ipv6_groups(head, false);
            let tail_groups = count_ipv6_groups(tail, true);
            match (head_groups, tail_groups) {
                (Some(head), Some(tail)) => head + tail <= 6,
                _ => false,
            }
        }
        None => count_ipv6_groups(s, true) == Some(8),
    }
}

/// Counts the 16-bit groups in a `:`-separated list of hex groups, where
/// the last element may be an IPv4 address (two groups) when `ipv4_last`
/// is set. Returns `None` when the list is invalid; an empty string has no
/// groups.
fn count_ipv6_groups(s: &str, ipv4_last: bool) -> Option<usize> {
    if s.is_empty() {
        return Some(0);
    }
    let mut groups = 0usize;
    let mut elements = s.split(':').peekable();
    while let Some(element) = elements.next() {
        let is_last = elements.peek().is_none();
        if is_last && ipv4_last && element.contains('.') {
            if !is_ipv4(element) {
                return None;
            }
            groups += 2;
        } else {
            let valid =
                (1..=4).contains(&element.len()) && element.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return None;
            }
            groups += 1;
        }
        if groups > 8 {
            return None;
        }
    }
    Some(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::XorShift;
    use std::string::String;

    #[test]
    fn valid_mailboxes() {
        let long_local = "l".repeat(64);
        let long_label = "d".repeat(63);
        let longest_local = std::format!("{long_local}@example.com");
        let longest_label = std::format!("user@{long_label}.example");
        // 1 + 1 + 252 octets: the path with brackets is exactly 256.
        let longest_path = std::format!(
            "u@{}.{}.{}.{}",
            long_label,
            long_label,
            long_label,
            "e".repeat(60)
        );
        assert_eq!(longest_path.len(), MAX_PATH_LEN - 2);

        let cases = [
            "user@example.com",
            "a@b",
            "first.last@sub.example.org",
            "x!#$%&'*+-/=?^_`{|}~@example.com",
            "user+tag@example.com",
            "\"john doe\"@example.com",
            "\"a\\\"b\"@example.com",
            "\"a\\\\b\"@example.com",
            "\"\"@example.com",
            "\"a@b\"@example.com",
            "\".leading.dot.\"@example.com",
            "user@192.0.2.1",
            "user@[192.0.2.1]",
            "user@[0.0.0.0]",
            "user@[255.255.255.255]",
            "user@[IPv6:2001:db8::1]",
            "user@[ipv6:::1]",
            "user@[IPv6:::]",
            "user@[IPv6:1:2:3:4:5:6:7:8]",
            "user@[IPv6:1:2:3::6:7:8]",
            "user@[IPv6:::ffff:192.0.2.1]",
            "user@[IPv6:1:2:3:4:5:6:192.0.2.1]",
            "user@[IPv6:1:2:3:4::192.0.2.1]",
            "user@xn--bcher-kva.example",
            "jöran@bücher.example",
            "用户@例子.广告",
            "\"é\"@example.com",
            longest_local.as_str(),
            longest_label.as_str(),
            longest_path.as_str(),
        ];
        for mailbox in cases {
            assert_eq!(validate_mailbox(mailbox), Ok(()), "mailbox {mailbox:?}");
        }
    }

    #[test]
    fn invalid_mailboxes() {
        let too_long_local = std::format!("{}@example.com", "l".repeat(65));
        let too_long_label = std::format!("user@{}.example", "d".repeat(64));
        let label = "d".repeat(63);
        let too_long_path = std::format!("u@{label}.{label}.{label}.{}", "e".repeat(61));
        assert_eq!(too_long_path.len(), MAX_PATH_LEN - 1);

        let cases: &[(&str, AddressError)] = &[
            ("", AddressError::Empty),
            ("a@b>\r\nRCPT TO:<victim@example.org", AddressError::Control),
            ("a\0@example.com", AddressError::Control),
            ("a@example.com\n", AddressError::Control),
            ("a\t@example.com", AddressError::Control),
            ("\"a\tb\"@example.com", AddressError::Control),
            ("\"a\\\rb\"@example.com", AddressError::Control),
            ("a\u{7f}@example.com", AddressError::Control),
            ("a@exam\u{85}ple.com", AddressError::Control),
            ("user", AddressError::Syntax),
            ("@example.com", AddressError::Syntax),
            ("user@", AddressError::Syntax),
            (".user@example.com", AddressError::Syntax),
            ("user.@example.com", AddressError::Syntax),
            ("us..er@example.com", AddressError::Syntax),
            ("us er@example.com", AddressError::Syntax),
            ("a@b>", AddressError::Syntax),
            ("<a@b>", AddressError::Syntax),
            ("a@b@c", AddressError::Syntax),
            ("a(comment)@b", AddressError::Syntax),
            ("\"unterminated@example.com", AddressError::Syntax),
            ("\"a\"b@example.com", AddressError::Syntax),
            ("\"a\"", AddressError::Syntax),
            ("\"a\\é\"@example.com", AddressError::Syntax),
            ("\"a\\", AddressError::Syntax),
            ("a@-example.com", AddressError::Syntax),
            ("a@example-.com", AddressError::Syntax),
            ("a@example..com", AddressError::Syntax),
            ("a@example.com.", AddressError::Syntax),
            ("a@.example.com", AddressError::Syntax),
            ("a@ex_ample.com", AddressError::Syntax),
            ("a@exa mple.com", AddressError::Syntax),
            ("a@[192.0.2]", AddressError::Syntax),
            ("a@[192.0.2.1.5]", AddressError::Syntax),
            ("a@[256.0.2.1]", AddressError::Syntax),
            ("a@[1234.0.2.1]", AddressError::Syntax),
            ("a@[+1.0.2.1]", AddressError::Syntax),
            ("a@[192.0.2.1", AddressError::Syntax),
            ("a@192.0.2.1]", AddressError::Syntax),
            ("a@[]", AddressError::Syntax),
            ("a@[IPv6:1:2:3:4:5:6:7]", AddressError::Syntax),
            ("a@[IPv6:1:2:3:4:5:6:7:8:9]", AddressError::Syntax),
            ("a@[IPv6:1:2:3:4:5:6:7::]", AddressError::Syntax),
            ("a@[IPv6:1::2::3]", AddressError::Syntax),
            ("a@[IPv6:1:::2]", AddressError::Syntax),
            ("a@[IPv6:12345::]", AddressError::Syntax),
            ("a@[IPv6:::g]", AddressError::Syntax),
            ("a@[IPv6:192.0.2.1::]", AddressError::Syntax),
            ("a@[IPv6:1:2:3:4:5::192.0.2.1]", AddressError::Syntax),
            ("a@[IPv6:::256.0.0.1]", AddressError::Syntax),
            ("a@[IPv6:]", AddressError::Syntax),
            ("a@[x-tag:content]", AddressError::Syntax),
            ("a@[:content]", AddressError::Syntax),
            (&too_long_local, AddressError::LocalPartTooLong),
            (&too_long_label, AddressError::LabelTooLong),
            (&too_long_path, AddressError::TooLong),
        ];
        for &(mailbox, expected) in cases {
            assert_eq!(
                validate_mailbox(mailbox),
                Err(expected),
                "mailbox {mailbox:?}"
            );
        }
    }

    #[test]
    fn domain_limits() {
        let label = "d".repeat(63);
        let longest = std::format!("{label}.{label}.{label}.{}", "e".repeat(63));
        assert_eq!(longest.len(), MAX_DOMAIN_LEN);
        assert_eq!(validate_domain(&longest), Ok(()));

        let too_long = std::format!("{longest}e");
        assert_eq!(validate_domain(&too_long), Err(AddressError::DomainTooLong));
    }

    #[test]
    fn domains_for_ehlo() {
        for domain in [
            "mail.example.com",
            "localhost",
            "[127.0.0.1]",
            "[IPv6:::1]",
            "bücher.example",
        ] {
            assert_eq!(validate_domain(domain), Ok(()), "domain {domain:?}");
        }
        let cases: &[(&str, AddressError)] = &[
            ("", AddressError::Empty),
            ("host\r\nMAIL FROM:<>", AddressError::Control),
            ("host\0", AddressError::Control),
            ("host name", AddressError::Syntax),
            ("user@host", AddressError::Syntax),
            ("-host", AddressError::Syntax),
            ("host.", AddressError::Syntax),
            ("[127.0.0.1", AddressError::Syntax),
        ];
        for &(domain, expected) in cases {
            assert_eq!(validate_domain(domain), Err(expected), "domain {domain:?}");
        }
    }

    #[test]
    fn smtputf8_detection() {
        assert!(!needs_smtputf8("user@example.com"));
        assert!(needs_smtputf8("jöran@example.com"));
        assert!(needs_smtputf8("user@例子.广告"));
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            std::format!("{}", AddressError::Control),
            "mailbox or domain contains a control character such as CR, LF or NUL"
        );
        assert_eq!(
            std::format!("{}", AddressError::LocalPartTooLong),
            "local part is longer than 64 octets"
        );
    }

    #[test]
    fn random_mailboxes_never_panic() {
        let alphabet: &[u8] = b"ab.@\"\\[]:-1f9IPv6 \r\0<>";
        let extra = ['é', '例', '\u{85}'];
        let mut rng = XorShift::new(0xadd5);
        for _ in 0..20_000 {
            let bytes = rng.bytes_from(alphabet, 24);
            let mut mailbox: String = bytes.iter().map(|&b| char::from(b)).collect();
            if rng.below(4) == 0 {
                let position = mailbox.chars().count();
                let at = rng.below(position + 1);
                let byte_index = mailbox
                    .char_indices()
                    .nth(at)
                    .map_or(mailbox.len(), |(i, _)| i);
                mailbox.insert(byte_index, extra[rng.below(extra.len())]);
            }

            let result = validate_mailbox(&mailbox);
            if result.is_ok() {
                assert!(
                    !mailbox.chars().any(char::is_control),
                    "mailbox {mailbox:?}"
                );
                assert!(mailbox.contains('@'), "mailbox {mailbox:?}");
                // Angle brackets may only appear inside a quoted local part.
                if mailbox.contains(['<', '>']) {
                    assert!(mailbox.starts_with('"'), "mailbox {mailbox:?}");
                }
            }
            if mailbox.contains(['\r', '\n', '\0']) {
                assert_eq!(result, Err(AddressError::Control), "mailbox {mailbox:?}");
            }
            let _ = validate_domain(&mailbox);
        }
    }
}
