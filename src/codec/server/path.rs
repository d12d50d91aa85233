//! Reverse-path and forward-path syntax (RFC 5321 section 4.1.2), with the
//! UTF-8 extension of RFC 6531 section 3.3 and the length limits of
//! RFC 5321 section 4.5.3.1.
//!
//! NOTE: this mailbox check repeats the grammar of
//! `crate::codec::address::validate_mailbox`, which the client uses. The two
//! differ: this one accepts any `dcontent` address literal and reports which
//! part failed (local part, domain, missing `@`), which the server's 501
//! texts use; the shared one accepts only IPv4 and `IPv6:` literals and has
//! one syntax error. Merging them needs those errors in the shared parser.

use core::fmt;

/// Maximum length of a path including the angle brackets (RFC 5321
/// section 4.5.3.1.3).
pub const MAX_PATH: usize = 256;
/// Maximum length of a local part (RFC 5321 section 4.5.3.1.1).
pub const MAX_LOCAL_PART: usize = 64;
/// Maximum length of a domain (RFC 5321 section 4.5.3.1.2).
pub const MAX_DOMAIN: usize = 255;

/// Error in a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathError {
    /// The path does not start with `<` or has no closing `>` followed by a
    /// space or the end of the line.
    MissingBracket,
    /// `<>` where a forward-path is required.
    Empty,
    /// The path is longer than [`MAX_PATH`] octets.
    TooLong,
    /// The source route before `:` is malformed.
    InvalidRoute,
    /// The mailbox has no `@`.
    MissingAt,
    /// The local part is neither a dot-string nor a quoted string.
    InvalidLocalPart,
    /// The local part is longer than [`MAX_LOCAL_PART`] octets.
    LocalPartTooLong,
    /// The domain is neither a host name nor an address literal.
    InvalidDomain,
    /// The domain is longer than [`MAX_DOMAIN`] octets.
    DomainTooLong,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::MissingBracket => "path must be enclosed in angle brackets",
            Self::Empty => "empty path",
            Self::TooLong => "path longer than 256 octets",
            Self::InvalidRoute => "invalid source route",
            Self::MissingAt => "mailbox has no @",
            Self::InvalidLocalPart => "invalid local part",
            Self::LocalPartTooLong => "local part longer than 64 octets",
            Self::InvalidDomain => "invalid domain",
            Self::DomainTooLong => "domain longer than 255 octets",
        };
        f.write_str(text)
    }
}

impl core::error::Error for PathError {}

/// Parses a path at the start of `input` and returns the mailbox (without
/// brackets and source route) and the number of bytes the path takes.
///
/// `forward` selects a forward-path: `<>` is rejected and `<Postmaster>`
/// (any case) is accepted without a domain. A source route is accepted
/// and dropped, because RFC 5321 section 4.1.1.3 has servers accept it and
/// ignore it.
pub fn parse_path(input: &str, forward: bool) -> Result<(&str, usize), PathError> {
    if !input.starts_with('<') {
        return Err(PathError::MissingBracket);
    }
    let end = closing_bracket(input).ok_or(PathError::MissingBracket)?;
    let consumed = end.saturating_add(1);
    if consumed > MAX_PATH {
        return Err(PathError::TooLong);
    }
    let inner = input.get(1..end).ok_or(PathError::MissingBracket)?;
    if inner.is_empty() {
        return if forward {
            Err(PathError::Empty)
        } else {
            Ok(("", consumed))
        };
    }
    if forward && inner.eq_ignore_ascii_case("postmaster") {
        return Ok((inner, consumed));
    }

    let mailbox = match inner.strip_prefix('@') {
        Some(_) => {
            let (route, mailbox) = inner.split_once(':').ok_or(PathError::InvalidRoute)?;
            validate_route(route)?;
            mailbox
        }
        None => inner,
    };
    validate_mailbox(mailbox)?;
    Ok((mailbox, consumed))
}

/// Finds the `>` that closes the path, skipping quoted strings.
fn closing_bracket(input: &str) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, b) in input.bytes().enumerate().skip(1) {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_quotes => escaped = true,
            b'"' => in_quotes = !in_quotes,
            b'>' if !in_quotes => return Some(i),
            _ => {}
        }
    }
    None
}

/// Validates `A-d-l = At-domain *( "," At-domain )`.
fn validate_route(route: &str) -> Result<(), PathError> {
    for at_domain in route.split(',') {
        let domain = at_domain.strip_prefix('@').ok_or(PathError::InvalidRoute)?;
        validate_domain(domain).map_err(|_| PathError::InvalidRoute)?;
    }
    Ok(())
}

/// Validates `Mailbox = Local-part "@" ( Domain / address-literal )`.
pub fn validate_mailbox(mailbox: &str) -> Result<(), PathError> {
    // A domain never contains `@`, so the last one separates the parts.
    let (local, domain) = mailbox.rsplit_once('@').ok_or(PathError::MissingAt)?;
    validate_local_part(local)?;
    validate_domain(domain)
}

fn validate_local_part(local: &str) -> Result<(), PathError> {
    if local.len() > MAX_LOCAL_PART {
        return Err(PathError::LocalPartTooLong);
    }
    let valid = match local.strip_prefix('"') {
        Some(quoted) => is_quoted_content(quoted),
        None => is_dot_string(local),
    };
    if valid {
        Ok(())
    } else {
        Err(PathError::InvalidLocalPart)
    }
}

/// Checks `*QcontentSMTP DQUOTE` (the text after the opening quote).
fn is_quoted_content(quoted: &str) -> bool {
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return chars.next().is_none(),
            // quoted-pairSMTP = %d92 %d32-126
            '\\' => match chars.next() {
                Some(' '..='~') => {}
                _ => return false,
            },
            // qtextSMTP = %d32-33 / %d35-91 / %d93-126, or UTF-8
            ' '..='~' => {}
            c if !c.is_ascii() => {}
            _ => return false,
        }
    }
    false
}

/// Checks `Dot-string = Atom *("." Atom)`.
fn is_dot_string(local: &str) -> bool {
    local.split('.').all(|atom| {
        !atom.is_empty()
            && atom.chars().all(|c| {
                c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
            })
    })
}

/// Validates `Domain / address-literal`.
fn validate_domain(domain: &str) -> Result<(), PathError> {
    if domain.len() > MAX_DOMAIN {
        return Err(PathError::DomainTooLong);
    }
    if let Some(literal) = domain.strip_prefix('[') {
        let content = literal.strip_suffix(']').ok_or(PathError::InvalidDomain)?;
        // dcontent = %d33-90 / %d94-126
        let valid = !content.is_empty() && content.bytes().all(|b| matches!(b, 33..=90 | 94..=126));
        return if valid {
            Ok(())
        } else {
            Err(PathError::InvalidDomain)
        };
    }
    let valid = !domain.is_empty() && domain.split('.').all(is_label);
    if valid {
        Ok(())
    } else {
        Err(PathError::InvalidDomain)
    }
}

/// Checks `sub-domain = Let-dig [Ldh-str]`, with U-labels allowed.
fn is_label(label: &str) -> bool {
    let let_dig = |c: char| c.is_ascii_alphanumeric() || !c.is_ascii();
    let first_last =
        label.chars().next().is_some_and(let_dig) && label.chars().next_back().is_some_and(let_dig);
    first_last && label.len() <= 63 && label.chars().all(|c| let_dig(c) || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_paths() {
        assert_eq!(parse_path("<a@b.example>", true), Ok(("a@b.example", 13)));
        assert_eq!(parse_path("<a@b> SIZE=1", false), Ok(("a@b", 5)));
        assert_eq!(parse_path("<>", false), Ok(("", 2)));
        assert_eq!(parse_path("<>", true), Err(PathError::Empty));
        assert_eq!(parse_path("<postMaster>", true), Ok(("postMaster", 12)));
        assert_eq!(parse_path("<postmaster>", false), Err(PathError::MissingAt));
    }

    #[test]
    fn source_route_dropped() {
        assert_eq!(
            parse_path("<@a.example,@b.example:x@c>", true),
            Ok(("x@c", 27))
        );
        assert_eq!(
            parse_path("<@a.example x@c>", true),
            Err(PathError::InvalidRoute)
        );
        assert_eq!(
            parse_path("<@-bad:x@c>", true),
            Err(PathError::InvalidRoute)
        );
    }

    #[test]
    fn local_parts() {
        assert!(validate_mailbox("first.last+tag@example.org").is_ok());
        assert!(validate_mailbox("\"with space\"@example.org").is_ok());
        assert!(validate_mailbox("\"a\\\"b\"@example.org").is_ok());
        assert!(validate_mailbox("\"a@b\"@example.org").is_ok());
        assert!(validate_mailbox("用户@例子.广告").is_ok());
        assert_eq!(
            validate_mailbox("a..b@example.org"),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(
            validate_mailbox(".a@example.org"),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(
            validate_mailbox("@example.org"),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(
            validate_mailbox("a b@example.org"),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(
            validate_mailbox("\"open@example.org"),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(
            validate_mailbox("\"a\"b@example.org"),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(validate_mailbox("a"), Err(PathError::MissingAt));
        let long = "a".repeat(65) + "@b";
        assert_eq!(validate_mailbox(&long), Err(PathError::LocalPartTooLong));
    }

    #[test]
    fn domains() {
        assert!(validate_mailbox("a@[192.0.2.1]").is_ok());
        assert!(validate_mailbox("a@[IPv6:2001:db8::1]").is_ok());
        assert!(validate_mailbox("a@x-y.example").is_ok());
        assert_eq!(validate_mailbox("a@"), Err(PathError::InvalidDomain));
        assert_eq!(
            validate_mailbox("a@-x.example"),
            Err(PathError::InvalidDomain)
        );
        assert_eq!(
            validate_mailbox("a@x-.example"),
            Err(PathError::InvalidDomain)
        );
        assert_eq!(
            validate_mailbox("a@x..example"),
            Err(PathError::InvalidDomain)
        );
        assert_eq!(
            validate_mailbox("a@x_y.example"),
            Err(PathError::InvalidDomain)
        );
        assert_eq!(validate_mailbox("a@[]"), Err(PathError::InvalidDomain));
        assert_eq!(
            validate_mailbox("a@[1.2.3.4"),
            Err(PathError::InvalidDomain)
        );
        assert_eq!(validate_mailbox("a@[a]b]"), Err(PathError::InvalidDomain));
        let long_label = std::format!("a@{}.example", "x".repeat(64));
        assert_eq!(validate_mailbox(&long_label), Err(PathError::InvalidDomain));
        let long_domain = std::format!("a@{}x", "x.".repeat(128));
        assert_eq!(
            validate_mailbox(&long_domain),
            Err(PathError::DomainTooLong)
        );
    }

    #[test]
    fn path_length_limit() {
        let domain = "x.".repeat(125) + "xy";
        let at_limit = std::format!("<a@{domain}>");
        assert_eq!(at_limit.len(), MAX_PATH);
        assert!(parse_path(&at_limit, true).is_ok());
        let over = std::format!("<ab@{domain}>");
        assert_eq!(parse_path(&over, true), Err(PathError::TooLong));
    }

    #[test]
    fn unclosed_bracket() {
        assert_eq!(parse_path("<a@b", true), Err(PathError::MissingBracket));
        assert_eq!(parse_path("a@b>", true), Err(PathError::MissingBracket));
        assert_eq!(parse_path("<\"a>b@c", true), Err(PathError::MissingBracket));
    }
}
