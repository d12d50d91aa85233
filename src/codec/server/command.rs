//! Server-side parsing of command lines (RFC 5321 section 4.1) and of the
//! MAIL parameters this server offers: SIZE (RFC 1870), BODY (RFC 6152)
//! and SMTPUTF8 (RFC 6531).

use core::fmt;

use super::path::{PathError, parse_path};
use crate::codec::address::{AddressError, validate_domain};

/// One parsed command line. Text fields borrow from the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command<'a> {
    /// `EHLO domain`: the client asks for extensions. The name is an ASCII
    /// domain or address literal (RFC 5321 section 4.1.1.1).
    Ehlo(&'a str),
    /// `HELO domain`: a plain SMTP session, no extensions. The name is
    /// checked as for EHLO.
    Helo(&'a str),
    /// `MAIL FROM:<reverse-path> [parameters]`. The path is empty for the
    /// null reverse-path `<>`.
    Mail {
        /// Mailbox without angle brackets or source route.
        path: &'a str,
        /// Text after the path, without the leading space.
        parameters: Parameters<'a>,
    },
    /// `RCPT TO:<forward-path> [parameters]`.
    Rcpt {
        /// Mailbox without angle brackets or source route; `Postmaster`
        /// is accepted without a domain.
        path: &'a str,
        /// Text after the path, without the leading space.
        parameters: Parameters<'a>,
    },
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP [string]`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY string`.
    Vrfy(&'a str),
    /// `HELP [string]`.
    Help,
    /// `EXPN string`; the argument is not parsed.
    Expn,
    /// `STARTTLS`.
    Starttls,
    /// `AUTH mechanism [initial-response]`; the arguments are not parsed and
    /// never logged.
    Auth,
}

/// Error from [`parse_command`], with the reply it calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CommandError {
    /// The verb is not a command this server implements (reply 500).
    Unrecognized,
    /// The command needs an argument and has none (reply 501).
    MissingArgument,
    /// The command takes no argument but has one (reply 501).
    UnexpectedArgument,
    /// `MAIL` without `FROM:` or `RCPT` without `TO:` (reply 501).
    InvalidSyntax,
    /// The argument is not UTF-8 or contains a control character
    /// (reply 501).
    InvalidText,
    /// The path is malformed (reply 501 or 553).
    InvalidPath(PathError),
    /// EHLO or HELO has more than one argument (reply 501).
    TooManyArguments,
    /// The EHLO or HELO argument is neither a domain nor an address literal
    /// (reply 501, RFC 5321 section 4.1.2).
    InvalidDomain(AddressError),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unrecognized => f.write_str("command not recognized"),
            Self::MissingArgument => f.write_str("missing argument"),
            Self::UnexpectedArgument => f.write_str("command takes no argument"),
            Self::InvalidSyntax => {
                f.write_str("invalid syntax: expected MAIL FROM:<path> or RCPT TO:<path>")
            }
            Self::InvalidText => {
                f.write_str("argument is not UTF-8 text without control characters")
            }
            Self::InvalidPath(e) => write!(f, "invalid path: {e}"),
            Self::TooManyArguments => {
                f.write_str("expected one domain or address literal, found more than one argument")
            }
            Self::InvalidDomain(AddressError::Syntax) => f.write_str(
                "invalid domain: expected a domain such as client.example \
                 or an address literal such as [192.0.2.1]",
            ),
            Self::InvalidDomain(AddressError::Utf8NotAllowed) => {
                f.write_str("invalid domain: non-ASCII names must be sent as A-labels (xn--)")
            }
            Self::InvalidDomain(e) => write!(f, "invalid domain: {e}"),
        }
    }
}

impl core::error::Error for CommandError {}

/// Parses one command line, given without its line ending.
///
/// Verbs and the `FROM:` / `TO:` keywords are case-insensitive (RFC 5321
/// section 2.4), and spaces between the colon and the path are tolerated.
pub fn parse_command(line: &[u8]) -> Result<Command<'_>, CommandError> {
    let verb_len = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let (verb, rest) = line.split_at(verb_len);
    let argument = match rest.split_first() {
        Some((_, argument)) => argument,
        None => rest,
    };
    let argument = core::str::from_utf8(argument).map_err(|_| CommandError::InvalidText)?;

    let command = if verb.eq_ignore_ascii_case(b"EHLO") {
        Command::Ehlo(parse_domain_argument(argument)?)
    } else if verb.eq_ignore_ascii_case(b"HELO") {
        Command::Helo(parse_domain_argument(argument)?)
    } else if verb.eq_ignore_ascii_case(b"MAIL") {
        let (path, parameters) = parse_path_argument(argument, "FROM:", false)?;
        Command::Mail { path, parameters }
    } else if verb.eq_ignore_ascii_case(b"RCPT") {
        let (path, parameters) = parse_path_argument(argument, "TO:", true)?;
        Command::Rcpt { path, parameters }
    } else if verb.eq_ignore_ascii_case(b"DATA") {
        no_argument(argument, Command::Data)?
    } else if verb.eq_ignore_ascii_case(b"RSET") {
        no_argument(argument, Command::Rset)?
    } else if verb.eq_ignore_ascii_case(b"QUIT") {
        no_argument(argument, Command::Quit)?
    } else if verb.eq_ignore_ascii_case(b"STARTTLS") {
        no_argument(argument, Command::Starttls)?
    } else if verb.eq_ignore_ascii_case(b"NOOP") {
        check_text(argument)?;
        Command::Noop
    } else if verb.eq_ignore_ascii_case(b"HELP") {
        check_text(argument)?;
        Command::Help
    } else if verb.eq_ignore_ascii_case(b"VRFY") {
        let argument = argument.trim_matches(' ');
        check_text(argument)?;
        if argument.is_empty() {
            return Err(CommandError::MissingArgument);
        }
        Command::Vrfy(argument)
    } else if verb.eq_ignore_ascii_case(b"EXPN") {
        Command::Expn
    } else if verb.eq_ignore_ascii_case(b"AUTH") {
        Command::Auth
    } else {
        return Err(CommandError::Unrecognized);
    };
    Ok(command)
}

fn check_text(text: &str) -> Result<(), CommandError> {
    if text.chars().any(|c| c.is_control()) {
        return Err(CommandError::InvalidText);
    }
    Ok(())
}

fn no_argument<'a>(argument: &str, command: Command<'a>) -> Result<Command<'a>, CommandError> {
    check_text(argument)?;
    // Trailing spaces are common and harmless.
    if argument.trim_matches(' ').is_empty() {
        Ok(command)
    } else {
        Err(CommandError::UnexpectedArgument)
    }
}

/// Parses the EHLO/HELO argument: one domain or address literal
/// (RFC 5321 section 4.1.1.1), in ASCII because SMTPUTF8 is offered only
/// in the EHLO reply.
///
/// RFC 5321 section 4.1.2 asks for 501 when a label has a character other
/// than a letter, digit or hyphen, so host names with `_` are rejected
/// although some clients send them. Section 4.1.4 forbids refusing a name
/// only for not matching the client's address, which this does not check.
fn parse_domain_argument(argument: &str) -> Result<&str, CommandError> {
    let name = argument.trim_matches(' ');
    check_text(name)?;
    if name.is_empty() {
        return Err(CommandError::MissingArgument);
    }
    if name.contains(' ') {
        return Err(CommandError::TooManyArguments);
    }
    if !name.is_ascii() {
        return Err(CommandError::InvalidDomain(AddressError::Utf8NotAllowed));
    }
    validate_domain(name).map_err(CommandError::InvalidDomain)?;
    Ok(name)
}

/// Parses `FROM:<path> params` or `TO:<path> params`.
fn parse_path_argument<'a>(
    argument: &'a str,
    keyword: &str,
    forward: bool,
) -> Result<(&'a str, Parameters<'a>), CommandError> {
    check_text(argument)?;
    if argument.trim_matches(' ').is_empty() {
        return Err(CommandError::MissingArgument);
    }
    let keyword_matches = argument
        .get(..keyword.len())
        .is_some_and(|k| k.eq_ignore_ascii_case(keyword));
    if !keyword_matches {
        return Err(CommandError::InvalidSyntax);
    }
    let rest = argument.get(keyword.len()..).unwrap_or("");
    let rest = rest.trim_start_matches(' ');
    let (path, consumed) = parse_path(rest, forward).map_err(CommandError::InvalidPath)?;
    let after = rest.get(consumed..).unwrap_or("");
    if !after.is_empty() && !after.starts_with(' ') {
        return Err(CommandError::InvalidPath(PathError::MissingBracket));
    }
    Ok((path, Parameters(after.trim_matches(' '))))
}

/// The `esmtp-param` list after a path, not yet interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Parameters<'a>(pub &'a str);

impl<'a> Parameters<'a> {
    /// Returns true if there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over `keyword[=value]` items separated by spaces.
    pub fn iter(&self) -> impl Iterator<Item = Result<Parameter<'a>, ParameterError>> + 'a {
        self.0
            .split(' ')
            .filter(|item| !item.is_empty())
            .map(parse_parameter)
    }
}

/// One `esmtp-param` (RFC 5321 section 4.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Parameter<'a> {
    /// Keyword, case-insensitive.
    pub keyword: &'a str,
    /// Value after `=`, if any.
    pub value: Option<&'a str>,
}

fn parse_parameter(item: &str) -> Result<Parameter<'_>, ParameterError> {
    let (keyword, value) = match item.split_once('=') {
        Some((keyword, value)) => (keyword, Some(value)),
        None => (item, None),
    };
    // esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    let keyword_valid = keyword
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && keyword
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    // esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under RFC 6531.
    let value_valid = value.is_none_or(|v| {
        !v.is_empty() && v.chars().all(|c| c != '=' && !c.is_control() && c != ' ')
    });
    if keyword_valid && value_valid {
        Ok(Parameter { keyword, value })
    } else {
        Err(ParameterError::Malformed)
    }
}

/// Error from [`MailParameters::parse`], with the reply it calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ParameterError {
    /// A keyword this server does not offer (reply 555, RFC 5321
    /// section 4.1.1.11).
    Unknown,
    /// A known keyword with a missing or invalid value, a repeated keyword,
    /// or an item that is not `keyword[=value]` (reply 501).
    Malformed,
    /// A defined value that this server does not implement (reply 555,
    /// RFC 5321 section 4.1.1.11): `BODY=BINARYMIME` (RFC 3030), which
    /// needs the CHUNKING extension that is not offered.
    NotImplemented,
}

impl fmt::Display for ParameterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown => f.write_str("parameter not recognized"),
            Self::Malformed => f.write_str("malformed parameter"),
            Self::NotImplemented => f.write_str("parameter value not implemented"),
        }
    }
}

impl core::error::Error for ParameterError {}

/// Body type declared with `BODY=` (RFC 6152).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyType {
    /// `BODY=7BIT`.
    SevenBit,
    /// `BODY=8BITMIME`.
    EightBitMime,
}

/// The MAIL parameters this server offers, interpreted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MailParameters {
    /// `SIZE=` in octets (RFC 1870 section 6). A value of up to 20 digits
    /// above `u64::MAX` is valid syntax and is stored as `u64::MAX`.
    pub size: Option<u64>,
    /// `BODY=`.
    pub body: Option<BodyType>,
    /// `SMTPUTF8` was given (RFC 6531 section 3.4).
    pub smtputf8: bool,
}

impl MailParameters {
    /// Interprets the parameters of a MAIL command. Keywords are
    /// case-insensitive; each may appear once.
    pub fn parse(parameters: Parameters<'_>) -> Result<Self, ParameterError> {
        let mut result = Self::default();
        for parameter in parameters.iter() {
            let Parameter { keyword, value } = parameter?;
            if keyword.eq_ignore_ascii_case("SIZE") {
                let value = value.ok_or(ParameterError::Malformed)?;
                if result.size.is_some() {
                    return Err(ParameterError::Malformed);
                }
                result.size = Some(parse_size(value)?);
            } else if keyword.eq_ignore_ascii_case("BODY") {
                let value = value.ok_or(ParameterError::Malformed)?;
                if result.body.is_some() {
                    return Err(ParameterError::Malformed);
                }
                let body = if value.eq_ignore_ascii_case("7BIT") {
                    BodyType::SevenBit
                } else if value.eq_ignore_ascii_case("8BITMIME") {
                    BodyType::EightBitMime
                } else if value.eq_ignore_ascii_case("BINARYMIME") {
                    return Err(ParameterError::NotImplemented);
                } else {
                    return Err(ParameterError::Malformed);
                };
                result.body = Some(body);
            } else if keyword.eq_ignore_ascii_case("SMTPUTF8") {
                if value.is_some() || result.smtputf8 {
                    return Err(ParameterError::Malformed);
                }
                result.smtputf8 = true;
            } else {
                return Err(ParameterError::Unknown);
            }
        }
        Ok(result)
    }
}

/// Parses `size-value = 1*20DIGIT` (RFC 1870 section 6) into a u64. Twenty
/// digits can exceed `u64::MAX`; such a value saturates at `u64::MAX`, so
/// it is over any configured maximum and gets 552, not a syntax error.
fn parse_size(value: &str) -> Result<u64, ParameterError> {
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParameterError::Malformed);
    }
    Ok(value.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn mail(line: &str) -> (&str, &str) {
        match parse_command(line.as_bytes()) {
            Ok(Command::Mail { path, parameters }) => (path, parameters.0),
            other => panic!("expected MAIL, got {other:?}"),
        }
    }

    #[test]
    fn verbs_are_case_insensitive() {
        assert_eq!(
            parse_command(b"ehlo client.example"),
            Ok(Command::Ehlo("client.example"))
        );
        assert_eq!(parse_command(b"HeLo x"), Ok(Command::Helo("x")));
        assert_eq!(parse_command(b"data"), Ok(Command::Data));
        assert_eq!(parse_command(b"rSeT"), Ok(Command::Rset));
        assert_eq!(parse_command(b"quit"), Ok(Command::Quit));
        assert_eq!(parse_command(b"noop anything at all"), Ok(Command::Noop));
        assert_eq!(parse_command(b"help mail"), Ok(Command::Help));
        assert_eq!(parse_command(b"vrfy user"), Ok(Command::Vrfy("user")));
        assert_eq!(parse_command(b"expn list"), Ok(Command::Expn));
        assert_eq!(parse_command(b"starttls"), Ok(Command::Starttls));
        assert_eq!(parse_command(b"auth plain AGEAYg=="), Ok(Command::Auth));
    }

    #[test]
    fn unknown_verbs() {
        assert_eq!(parse_command(b""), Err(CommandError::Unrecognized));
        assert_eq!(
            parse_command(b"MAILX FROM:<>"),
            Err(CommandError::Unrecognized)
        );
        assert_eq!(
            parse_command(b" MAIL FROM:<>"),
            Err(CommandError::Unrecognized)
        );
        assert_eq!(
            parse_command(b"BDAT 10 LAST"),
            Err(CommandError::Unrecognized)
        );
        assert_eq!(parse_command(b"\xff\xfe"), Err(CommandError::Unrecognized));
    }

    #[test]
    fn greeting_needs_one_name() {
        assert_eq!(parse_command(b"EHLO"), Err(CommandError::MissingArgument));
        assert_eq!(parse_command(b"EHLO "), Err(CommandError::MissingArgument));
        assert_eq!(
            parse_command(b"HELO   "),
            Err(CommandError::MissingArgument)
        );
        assert_eq!(
            parse_command(b"EHLO a b"),
            Err(CommandError::TooManyArguments)
        );
        assert_eq!(
            parse_command(b"HELO x y"),
            Err(CommandError::TooManyArguments)
        );
        assert_eq!(
            parse_command(b"EHLO [127.0.0.1]"),
            Ok(Command::Ehlo("[127.0.0.1]"))
        );
        assert_eq!(parse_command(b"EHLO a\0b"), Err(CommandError::InvalidText));
        assert_eq!(
            parse_command(b"EHLO a\xffb"),
            Err(CommandError::InvalidText)
        );
    }

    #[test]
    fn greeting_names_checked_as_domains() {
        let longest_label = "d".repeat(63);
        let longest = std::format!(
            "{longest_label}.{longest_label}.{longest_label}.{}",
            "e".repeat(63)
        );
        for name in [
            "client.example",
            "x",
            "localhost",
            "xn--bcher-kva.example",
            "[192.0.2.1]",
            "[IPv6:2001:db8::1]",
            longest.as_str(),
        ] {
            let line = std::format!("EHLO {name}");
            assert_eq!(
                parse_command(line.as_bytes()),
                Ok(Command::Ehlo(name)),
                "{name:?}"
            );
        }

        let too_long = std::format!("{longest}e");
        let long_label = std::format!("{}.example", "d".repeat(64));
        let cases: &[(&str, AddressError)] = &[
            ("x;by-evil.example", AddressError::Syntax),
            ("x(comment)", AddressError::Syntax),
            ("trusted.example)by(mx.bank.example;", AddressError::Syntax),
            ("-bad-", AddressError::Syntax),
            ("under_score.example", AddressError::Syntax),
            ("host.", AddressError::Syntax),
            ("a..b", AddressError::Syntax),
            ("user@host", AddressError::Syntax),
            ("[192.0.2.1", AddressError::Syntax),
            ("[300.0.0.1]", AddressError::Syntax),
            ("ü.example", AddressError::Utf8NotAllowed),
            (too_long.as_str(), AddressError::DomainTooLong),
            (long_label.as_str(), AddressError::LabelTooLong),
        ];
        for &(name, expected) in cases {
            let line = std::format!("HELO {name}");
            assert_eq!(
                parse_command(line.as_bytes()),
                Err(CommandError::InvalidDomain(expected)),
                "{name:?}"
            );
        }
    }

    #[test]
    fn greeting_error_texts() {
        assert_eq!(
            CommandError::TooManyArguments.to_string(),
            "expected one domain or address literal, found more than one argument"
        );
        assert_eq!(
            CommandError::InvalidDomain(AddressError::Syntax).to_string(),
            "invalid domain: expected a domain such as client.example \
             or an address literal such as [192.0.2.1]"
        );
    }

    #[test]
    fn commands_without_arguments() {
        assert_eq!(
            parse_command(b"DATA x"),
            Err(CommandError::UnexpectedArgument)
        );
        assert_eq!(
            parse_command(b"RSET x"),
            Err(CommandError::UnexpectedArgument)
        );
        assert_eq!(
            parse_command(b"QUIT now"),
            Err(CommandError::UnexpectedArgument)
        );
        assert_eq!(parse_command(b"DATA "), Ok(Command::Data));
        assert_eq!(parse_command(b"VRFY"), Err(CommandError::MissingArgument));
    }

    #[test]
    fn mail_paths() {
        assert_eq!(mail("MAIL FROM:<a@b>"), ("a@b", ""));
        assert_eq!(mail("mail from:<a@b>"), ("a@b", ""));
        assert_eq!(mail("MAIL FROM: <a@b>"), ("a@b", ""));
        assert_eq!(mail("MAIL FROM:<>"), ("", ""));
        assert_eq!(
            mail("MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME"),
            ("a@b", "SIZE=10 BODY=8BITMIME")
        );
        assert_eq!(mail("MAIL FROM:<@relay.example:a@b>"), ("a@b", ""));
        assert_eq!(mail("MAIL FROM:<\"x> y\"@b>"), ("\"x> y\"@b", ""));
    }

    #[test]
    fn mail_syntax_errors() {
        assert_eq!(parse_command(b"MAIL"), Err(CommandError::MissingArgument));
        assert_eq!(
            parse_command(b"MAIL TO:<a@b>"),
            Err(CommandError::InvalidSyntax)
        );
        assert_eq!(
            parse_command(b"MAIL FROM"),
            Err(CommandError::InvalidSyntax)
        );
        assert_eq!(
            parse_command(b"MAIL FROM:a@b"),
            Err(CommandError::InvalidPath(PathError::MissingBracket))
        );
        assert_eq!(
            parse_command(b"MAIL FROM:<a@b>x"),
            Err(CommandError::InvalidPath(PathError::MissingBracket))
        );
        assert_eq!(
            parse_command(b"MAIL FROM:<a@b>\r"),
            Err(CommandError::InvalidText)
        );
    }

    #[test]
    fn rcpt_paths() {
        assert_eq!(
            parse_command(b"RCPT TO:<c@d>"),
            Ok(Command::Rcpt {
                path: "c@d",
                parameters: Parameters("")
            })
        );
        assert_eq!(
            parse_command(b"rcpt to: <Postmaster>"),
            Ok(Command::Rcpt {
                path: "Postmaster",
                parameters: Parameters("")
            })
        );
        assert_eq!(
            parse_command(b"RCPT TO:<>"),
            Err(CommandError::InvalidPath(PathError::Empty))
        );
    }

    #[test]
    fn mail_parameters_interpreted() {
        let parse = |s| MailParameters::parse(Parameters(s));
        assert_eq!(parse(""), Ok(MailParameters::default()));
        assert_eq!(
            parse("size=10 body=8bitmime SMTPUTF8"),
            Ok(MailParameters {
                size: Some(10),
                body: Some(BodyType::EightBitMime),
                smtputf8: true,
            })
        );
        assert_eq!(
            parse("BODY=7BIT").map(|p| p.body),
            Ok(Some(BodyType::SevenBit))
        );
        assert_eq!(
            parse("SIZE=18446744073709551615").map(|p| p.size),
            Ok(Some(u64::MAX))
        );
        // Valid 20-digit values above u64::MAX saturate.
        for value in ["18446744073709551616", "99999999999999999999"] {
            let parameter = std::format!("SIZE={value}");
            assert_eq!(
                MailParameters::parse(Parameters(&parameter)).map(|p| p.size),
                Ok(Some(u64::MAX)),
                "{value}"
            );
        }
    }

    #[test]
    fn mail_parameter_errors() {
        let parse = |s| MailParameters::parse(Parameters(s));
        assert_eq!(parse("RET=FULL"), Err(ParameterError::Unknown));
        assert_eq!(parse("X-FOO"), Err(ParameterError::Unknown));
        assert_eq!(parse("SIZE"), Err(ParameterError::Malformed));
        assert_eq!(parse("SIZE="), Err(ParameterError::Malformed));
        assert_eq!(parse("SIZE=abc"), Err(ParameterError::Malformed));
        assert_eq!(parse("SIZE=-1"), Err(ParameterError::Malformed));
        assert_eq!(
            parse("SIZE=123456789012345678901"),
            Err(ParameterError::Malformed)
        );
        assert_eq!(parse("SIZE=1 SIZE=2"), Err(ParameterError::Malformed));
        assert_eq!(
            parse("BODY=BINARYMIME"),
            Err(ParameterError::NotImplemented)
        );
        assert_eq!(
            parse("body=binarymime"),
            Err(ParameterError::NotImplemented)
        );
        assert_eq!(parse("BODY=9BIT"), Err(ParameterError::Malformed));
        assert_eq!(parse("SMTPUTF8=yes"), Err(ParameterError::Malformed));
        assert_eq!(parse("=x"), Err(ParameterError::Malformed));
        assert_eq!(parse("SIZE=1=2"), Err(ParameterError::Malformed));
    }
}
