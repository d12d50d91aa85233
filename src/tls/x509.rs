//! The certificate checks that embedded-tls 0.19 leaves out, on a strict
//! DER reader without heap.
//!
//! embedded-tls verifies each signature from the pinned CA down to the
//! server's certificate, but it does not check that an issuing certificate
//! is a CA, so any certificate the pinned CA issued could sign a
//! certificate for any host. [`check_chain`] adds the path checks of
//! RFC 5280 section 6.1 that do not need signatures:
//!
//! - every certificate above the server's own is a CA (basicConstraints
//!   with cA TRUE, section 4.2.1.9), allows keyCertSign when it has a
//!   keyUsage extension (section 4.2.1.3), and has its pathLenConstraint
//!   respected, as does the pinned CA;
//! - each issuer name equals the subject name of the certificate above it,
//!   compared byte for byte;
//! - no certificate in the chain has a critical extension that this module
//!   does not process (name constraints and policies included);
//! - the server's certificate allows digitalSignature when it has a
//!   keyUsage extension (RFC 8446 section 4.4.2.2) and serverAuth when it
//!   has an extendedKeyUsage extension (RFC 5280 section 4.2.1.12);
//! - validity dates, when a clock is available;
//! - the host name (RFC 6125 section 6.4, see [`match_server_name`]).
//!
//! Any input that is not DER as X.509 defines it is rejected: indefinite or
//! non-minimal lengths, high tag numbers, trailing bytes, and duplicate
//! extensions (RFC 5280 section 4.2).

use core::fmt;

/// Maximum number of DNS names embedded-tls 0.19 reads from a certificate.
const EMBEDDED_TLS_MAX_DNS_NAMES: usize = 3;
/// Maximum length of a DNS name or common name that embedded-tls 0.19 can
/// decode.
const EMBEDDED_TLS_MAX_NAME_LEN: usize = 64;
/// Maximum number of relative distinguished names in an issuer or subject
/// name that embedded-tls 0.19 can decode.
const EMBEDDED_TLS_MAX_NAME_COMPONENTS: usize = 7;
/// Maximum number of extensions that embedded-tls 0.19 can decode.
const EMBEDDED_TLS_MAX_EXTENSIONS: usize = 12;

const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_VERSION: u8 = 0xa0;
const TAG_ISSUER_UNIQUE_ID: u8 = 0x81;
const TAG_SUBJECT_UNIQUE_ID: u8 = 0x82;
const TAG_EXTENSIONS: u8 = 0xa3;

/// GeneralName tags (RFC 5280 section 4.2.1.6).
const TAG_OTHER_NAME: u8 = 0xa0;
const TAG_DNS_NAME: u8 = 0x82;
const TAG_URI: u8 = 0x86;

/// Content octets of the object identifiers used here.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_ANY_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25, 0x00];
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];

/// keyUsage bit numbers (RFC 5280 section 4.2.1.3).
const KEY_USAGE_DIGITAL_SIGNATURE: u16 = 1 << 0;
const KEY_USAGE_KEY_CERT_SIGN: u16 = 1 << 5;

/// Reason why the server's certificate chain was rejected.
///
/// A certificate `index` counts from the server's own certificate, which
/// is 0, in the order the server sent the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CertificateError {
    /// The server sent an empty Certificate message.
    EmptyChain,
    /// A certificate is not DER-encoded X.509, or is a raw public key.
    Malformed {
        /// Position of the certificate in the chain.
        index: usize,
    },
    /// The pinned CA certificate is not DER-encoded X.509.
    PinnedCaMalformed,
    /// The pinned certificate has basicConstraints with cA FALSE, so it
    /// cannot issue the server's chain.
    PinnedCaNotCa,
    /// A certificate's issuer name differs from the subject name of the
    /// certificate above it, or of the pinned CA for the last one.
    IssuerMismatch {
        /// Position of the certificate whose issuer does not match.
        index: usize,
        /// True when the issuer should have been the pinned CA.
        pinned: bool,
    },
    /// A certificate that issued another one is not a CA: it lacks
    /// basicConstraints or has cA FALSE (RFC 5280 section 4.2.1.9).
    NotCa {
        /// Position of the certificate used as a CA.
        index: usize,
    },
    /// A CA certificate's keyUsage does not allow keyCertSign.
    KeyCertSignMissing {
        /// Position of the CA certificate.
        index: usize,
    },
    /// More intermediate certificates follow a CA than its
    /// pathLenConstraint allows.
    PathLenExceeded {
        /// Position of the CA certificate, or `None` for the pinned CA.
        index: Option<usize>,
    },
    /// A certificate has a critical extension that is not checked here,
    /// such as name constraints or certificate policies.
    UnsupportedCriticalExtension {
        /// Position of the certificate.
        index: usize,
    },
    /// A certificate's notAfter date has passed.
    Expired {
        /// Position of the certificate.
        index: usize,
    },
    /// A certificate's notBefore date lies in the future.
    NotYetValid {
        /// Position of the certificate.
        index: usize,
    },
    /// The server's certificate has keyUsage without digitalSignature, so
    /// it cannot sign the handshake.
    DigitalSignatureMissing,
    /// The server's certificate has extendedKeyUsage without serverAuth.
    ServerAuthMissing,
    /// The server name is an IP address, which this verifier does not
    /// check against iPAddress names.
    ServerNameIsIpAddress,
    /// The server name is not a DNS host name (letters, digits, hyphens and
    /// dots, at most 253 bytes).
    ServerNameInvalid,
    /// The server name is not among the certificate's DNS names, or, when
    /// it has none, is not its common name.
    ServerNameMismatch,
    /// The server name matched only a DNS name after the first 3, and none
    /// of the first 3 can stand in for it in embedded-tls 0.19's own host
    /// name check, which reads only those.
    ServerNameBeyondEmbeddedTls,
    /// A certificate exceeds what embedded-tls 0.19 can decode: more than 7
    /// name components or multi-valued ones, more than 12 extensions, or a
    /// common name or one of the first 3 DNS names longer than 64 bytes.
    BeyondEmbeddedTlsLimits {
        /// Position of the certificate, or `None` for the pinned CA.
        index: Option<usize>,
    },
    /// A certificate signature does not verify: the chain was not signed
    /// by the pinned CA.
    NotSignedByPinnedCa,
    /// A certificate or the handshake is signed with an algorithm that is
    /// not built in.
    UnsupportedSignatureAlgorithm,
    /// The chain is larger than the verifier's copy of it.
    ChainTooLarge {
        /// Bytes of DER in the chain, without TLS framing.
        len: usize,
    },
    /// The server's CertificateVerify signature over the handshake does
    /// not verify with its certificate's key.
    HandshakeSignatureInvalid,
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::EmptyChain => f.write_str("the server sent no certificate"),
            Self::Malformed { index } => {
                write!(f, "certificate {index} of the chain is not valid DER X.509")
            }
            Self::PinnedCaMalformed => {
                f.write_str("the pinned CA certificate is not valid DER X.509")
            }
            Self::PinnedCaNotCa => f.write_str(
                "the pinned certificate is not a CA (basicConstraints cA FALSE), so it \
                 cannot issue the server's certificate",
            ),
            Self::IssuerMismatch {
                index,
                pinned: true,
            } => write!(
                f,
                "certificate chain not signed by the pinned CA: the issuer of certificate \
                 {index}, the last one the server sends, is not the pinned CA's subject; \
                 pin the issuer of that certificate, usually the root"
            ),
            Self::IssuerMismatch {
                index,
                pinned: false,
            } => write!(
                f,
                "the issuer of certificate {index} of the chain is not the subject of \
                 the next certificate; the server sends its chain out of order"
            ),
            Self::NotCa { index } => write!(
                f,
                "certificate {index} of the chain issued another certificate but is not a \
                 CA (basic constraints: cA is not TRUE)"
            ),
            Self::KeyCertSignMissing { index } => write!(
                f,
                "CA certificate {index} of the chain does not allow keyCertSign in its key usage"
            ),
            Self::PathLenExceeded { index: Some(index) } => write!(
                f,
                "more intermediate CAs follow certificate {index} of the chain than its \
                 pathLenConstraint allows"
            ),
            Self::PathLenExceeded { index: None } => f.write_str(
                "more intermediate CAs follow the pinned CA than its pathLenConstraint allows",
            ),
            Self::UnsupportedCriticalExtension { index } => write!(
                f,
                "certificate {index} of the chain has a critical extension that this \
                 verifier does not process (such as name constraints)"
            ),
            Self::Expired { index } => {
                write!(f, "certificate {index} of the chain has expired")
            }
            Self::NotYetValid { index } => {
                write!(f, "certificate {index} of the chain is not valid yet")
            }
            Self::DigitalSignatureMissing => f.write_str(
                "the server's certificate does not allow digitalSignature in its key usage",
            ),
            Self::ServerAuthMissing => f.write_str(
                "the server's certificate does not allow serverAuth in its extended key usage",
            ),
            Self::ServerNameIsIpAddress => f.write_str(
                "the server name is an IP address, which embedded-tls does not check; \
                 connect by a DNS name from the certificate",
            ),
            Self::ServerNameInvalid => f.write_str("the server name is not a valid DNS host name"),
            Self::ServerNameMismatch => f.write_str(
                "host name not in the certificate (its DNS names, or its common name when \
                 it has no DNS names)",
            ),
            Self::ServerNameBeyondEmbeddedTls => f.write_str(
                "host name found only after the first 3 DNS names of the certificate, and \
                 none of those 3 can stand in for it in embedded-tls's own name check",
            ),
            Self::BeyondEmbeddedTlsLimits { index } => {
                match index {
                    Some(index) => write!(f, "certificate {index} of the chain")?,
                    None => f.write_str("the pinned CA certificate")?,
                }
                f.write_str(
                    " cannot be decoded by embedded-tls 0.19: more than 7 name components, \
                     more than 12 extensions, or a name longer than 64 bytes",
                )
            }
            Self::NotSignedByPinnedCa => f.write_str(
                "certificate chain not signed by the pinned CA (a signature does not verify)",
            ),
            Self::UnsupportedSignatureAlgorithm => f.write_str(
                "unsupported signature algorithm: only ECDSA P-256 is built in \
                 (P-384 and Ed25519 by feature, RSA not at all)",
            ),
            Self::ChainTooLarge { len } => write!(
                f,
                "the server's certificate chain of {len} bytes is larger than the {}-byte \
                 verifier buffer",
                super::embedded::CERT_CHAIN_LEN
            ),
            Self::HandshakeSignatureInvalid => {
                f.write_str("the server's handshake signature does not verify with its certificate")
            }
        }
    }
}

impl core::error::Error for CertificateError {}

/// Input that is not valid DER for the structure being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Reader of DER tag-length-value items from a byte slice.
#[derive(Debug, Clone)]
struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads one item and returns its tag and content octets.
    fn read_any(&mut self) -> Result<(u8, &'a [u8]), Malformed> {
        let (&tag, rest) = self.input.split_first().ok_or(Malformed)?;
        // Tag numbers of 31 and above take more octets; X.509 uses none.
        if tag & 0x1f == 0x1f {
            return Err(Malformed);
        }
        let (&first, mut rest) = rest.split_first().ok_or(Malformed)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // 0x80 is the indefinite length, which DER forbids. Three
            // length octets (16 MiB) are more than a TLS record can carry.
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 3 {
                return Err(Malformed);
            }
            let (octets, tail) = rest.split_at_checked(count).ok_or(Malformed)?;
            if octets.first() == Some(&0) {
                return Err(Malformed);
            }
            let len = octets
                .iter()
                .fold(0u32, |len, &octet| (len << 8) | u32::from(octet));
            if len < 0x80 {
                return Err(Malformed);
            }
            rest = tail;
            usize::try_from(len).map_err(|_| Malformed)?
        };
        let (content, tail) = rest.split_at_checked(len).ok_or(Malformed)?;
        self.input = tail;
        Ok((tag, content))
    }

    /// Reads one item with tag `tag` and returns its content octets.
    fn read(&mut self, tag: u8) -> Result<&'a [u8], Malformed> {
        match self.read_any()? {
            (found, content) if found == tag => Ok(content),
            _ => Err(Malformed),
        }
    }

    /// Reads an item with tag `tag` if the next item has that tag.
    fn read_optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, Malformed> {
        if self.peek_tag() == Some(tag) {
            self.read(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every octet was read.
    fn finish(&self) -> Result<(), Malformed> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Malformed)
        }
    }
}

/// Reads the content of `input` as exactly one item with tag `tag`.
fn read_single(input: &[u8], tag: u8) -> Result<&[u8], Malformed> {
    let mut reader = Reader::new(input);
    let content = reader.read(tag)?;
    reader.finish()?;
    Ok(content)
}

/// Checks the content octets of an OBJECT IDENTIFIER (X.690 section
/// 8.19): every subidentifier minimal and the last one complete.
fn check_oid(content: &[u8]) -> Result<(), Malformed> {
    let mut starts_subidentifier = true;
    for &octet in content {
        if starts_subidentifier && octet == 0x80 {
            return Err(Malformed);
        }
        starts_subidentifier = octet & 0x80 == 0;
    }
    if content.is_empty() || !starts_subidentifier {
        return Err(Malformed);
    }
    Ok(())
}

/// Checks the content octets of an INTEGER for minimal encoding and
/// returns whether it is negative.
fn check_integer(content: &[u8]) -> Result<bool, Malformed> {
    match content {
        [] => Err(Malformed),
        [0x00, next, ..] if next & 0x80 == 0 => Err(Malformed),
        [0xff, next, ..] if next & 0x80 != 0 => Err(Malformed),
        [first, ..] => Ok(first & 0x80 != 0),
    }
}

/// Reads a non-negative INTEGER, saturating at `u32::MAX`.
fn read_unsigned(content: &[u8]) -> Result<u32, Malformed> {
    if check_integer(content)? {
        return Err(Malformed);
    }
    let significant = match content {
        [0x00, rest @ ..] => rest,
        all => all,
    };
    if significant.len() > 4 {
        return Ok(u32::MAX);
    }
    Ok(significant
        .iter()
        .fold(0u32, |value, &octet| (value << 8) | u32::from(octet)))
}

/// Reads the content octets of a BOOLEAN. DER encodes TRUE as 0xFF only.
fn read_boolean(content: &[u8]) -> Result<bool, Malformed> {
    match content {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(Malformed),
    }
}

/// Reads the content octets of a BIT STRING and returns its first 16 bits,
/// bit 0 in the lowest position as RFC 5280 numbers named bits.
fn read_bits(content: &[u8]) -> Result<u16, Malformed> {
    let (&unused, bits) = content.split_first().ok_or(Malformed)?;
    if unused > 7 || (bits.is_empty() && unused != 0) {
        return Err(Malformed);
    }
    // DER sets the unused bits of the last octet to zero.
    if let Some(last) = bits.last()
        && last & ((1u8 << unused) - 1) != 0
    {
        return Err(Malformed);
    }
    let mut value = 0u16;
    for (octet_index, &octet) in bits.iter().take(2).enumerate() {
        for bit in 0..8 {
            if octet & (0x80 >> bit) != 0 {
                value |= 1 << (octet_index * 8 + bit);
            }
        }
    }
    Ok(value)
}

/// Checks an AlgorithmIdentifier: an OID and optional parameters.
fn check_algorithm(content: &[u8]) -> Result<(), Malformed> {
    let mut reader = Reader::new(content);
    check_oid(reader.read(TAG_OID)?)?;
    if !reader.is_empty() {
        reader.read_any()?;
    }
    reader.finish()
}

/// Summary of an issuer or subject Name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameInfo<'a> {
    /// The last common name attribute, as embedded-tls takes it.
    common_name: Option<&'a [u8]>,
    /// True when embedded-tls 0.19 cannot decode this name.
    beyond_embedded_tls: bool,
}

/// Reads the content of a Name: a SEQUENCE OF non-empty SETs of
/// attribute type and value pairs (RFC 5280 section 4.1.2.4).
fn read_name(content: &[u8]) -> Result<NameInfo<'_>, Malformed> {
    let mut info = NameInfo {
        common_name: None,
        beyond_embedded_tls: false,
    };
    let mut components = 0usize;
    let mut reader = Reader::new(content);
    while !reader.is_empty() {
        let mut set = Reader::new(reader.read(TAG_SET)?);
        let mut attributes = 0usize;
        while !set.is_empty() {
            let mut attribute = Reader::new(set.read(TAG_SEQUENCE)?);
            let oid = attribute.read(TAG_OID)?;
            check_oid(oid)?;
            let (_, value) = attribute.read_any()?;
            attribute.finish()?;
            if oid == OID_COMMON_NAME {
                info.common_name = Some(value);
                info.beyond_embedded_tls |= value.len() > EMBEDDED_TLS_MAX_NAME_LEN;
            }
            attributes = attributes.saturating_add(1);
        }
        if attributes == 0 {
            return Err(Malformed);
        }
        components = components.saturating_add(1);
        info.beyond_embedded_tls |= attributes > 1;
    }
    info.beyond_embedded_tls |= components > EMBEDDED_TLS_MAX_NAME_COMPONENTS;
    Ok(info)
}

/// Reads a UTCTime or GeneralizedTime in the forms RFC 5280 section
/// 4.1.2.5 allows and returns seconds since 1970-01-01T00:00:00Z.
fn read_time(tag: u8, content: &[u8]) -> Result<i64, Malformed> {
    let (year, rest) = match tag {
        TAG_UTC_TIME if content.len() == 13 => {
            // Two-digit years 50 to 99 are 1950 to 1999.
            let year = digits(content, 0, 2)?;
            (
                if year >= 50 { 1900 + year } else { 2000 + year },
                content.get(2..),
            )
        }
        TAG_GENERALIZED_TIME if content.len() == 15 => (digits(content, 0, 4)?, content.get(4..)),
        _ => return Err(Malformed),
    };
    let rest = rest.ok_or(Malformed)?;
    if rest.last() != Some(&b'Z') {
        return Err(Malformed);
    }
    let month = digits(rest, 0, 2)?;
    let day = digits(rest, 2, 2)?;
    let hour = digits(rest, 4, 2)?;
    let minute = digits(rest, 6, 2)?;
    let second = digits(rest, 8, 2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(Malformed);
    }
    let days = days_since_epoch(year, month, day);
    Ok(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second))
}

/// Reads `count` ASCII digits of `input` from `start` as a number.
fn digits(input: &[u8], start: usize, count: usize) -> Result<u32, Malformed> {
    let end = start.checked_add(count).ok_or(Malformed)?;
    input
        .get(start..end)
        .ok_or(Malformed)?
        .iter()
        .try_fold(0u32, |value, &digit| {
            if digit.is_ascii_digit() {
                Ok(value * 10 + u32::from(digit - b'0'))
            } else {
                Err(Malformed)
            }
        })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar, by
/// counting in 400-year eras that start on March 1.
fn days_since_epoch(year: u32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// basicConstraints (RFC 5280 section 4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BasicConstraints {
    /// The cA flag.
    pub(crate) ca: bool,
    /// pathLenConstraint, saturated at `u32::MAX`.
    pub(crate) path_len: Option<u32>,
}

/// The fields of one X.509 certificate that [`check_chain`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Certificate<'a> {
    /// Content octets of the issuer Name.
    pub(crate) issuer: &'a [u8],
    /// Content octets of the subject Name.
    pub(crate) subject: &'a [u8],
    /// Last common name attribute of the subject.
    pub(crate) common_name: Option<&'a [u8]>,
    /// notBefore in seconds since the Unix epoch.
    pub(crate) not_before: i64,
    /// notAfter in seconds since the Unix epoch.
    pub(crate) not_after: i64,
    pub(crate) basic_constraints: Option<BasicConstraints>,
    /// Named bits of keyUsage, bit 0 (digitalSignature) lowest.
    pub(crate) key_usage: Option<u16>,
    /// Content of extendedKeyUsage: a checked SEQUENCE OF OIDs.
    extended_key_usage: Option<&'a [u8]>,
    /// Content of subjectAltName: a checked SEQUENCE OF GeneralName.
    subject_alt_name: Option<&'a [u8]>,
    /// True when a critical extension is not one of the four above.
    pub(crate) unsupported_critical_extension: bool,
    /// True when embedded-tls 0.19 cannot decode this certificate.
    pub(crate) beyond_embedded_tls: bool,
}

impl<'a> Certificate<'a> {
    /// Parses a DER certificate (RFC 5280 section 4.1). Fails on anything
    /// that is not exactly one well-formed certificate.
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self, Malformed> {
        let mut certificate = Reader::new(read_single(der, TAG_SEQUENCE)?);
        let tbs = certificate.read(TAG_SEQUENCE)?;
        let signature_algorithm = certificate.read(TAG_SEQUENCE)?;
        check_algorithm(signature_algorithm)?;
        read_bits_len(certificate.read(TAG_BIT_STRING)?)?;
        certificate.finish()?;

        let mut tbs = Reader::new(tbs);
        let version = match tbs.read_optional(TAG_VERSION)? {
            Some(content) => read_unsigned(read_single(content, TAG_INTEGER)?)?,
            None => 0,
        };
        if version > 2 {
            return Err(Malformed);
        }
        check_integer(tbs.read(TAG_INTEGER)?)?;
        // RFC 5280 section 4.1.2.3: the same algorithm as outside.
        if tbs.read(TAG_SEQUENCE)? != signature_algorithm {
            return Err(Malformed);
        }
        let issuer = tbs.read(TAG_SEQUENCE)?;
        let issuer_info = read_name(issuer)?;
        let mut validity = Reader::new(tbs.read(TAG_SEQUENCE)?);
        let (tag, content) = validity.read_any()?;
        let not_before = read_time(tag, content)?;
        let (tag, content) = validity.read_any()?;
        let not_after = read_time(tag, content)?;
        validity.finish()?;
        let subject = tbs.read(TAG_SEQUENCE)?;
        let subject_info = read_name(subject)?;
        let mut key_info = Reader::new(tbs.read(TAG_SEQUENCE)?);
        check_algorithm(key_info.read(TAG_SEQUENCE)?)?;
        read_bits_len(key_info.read(TAG_BIT_STRING)?)?;
        key_info.finish()?;
        for tag in [TAG_ISSUER_UNIQUE_ID, TAG_SUBJECT_UNIQUE_ID] {
            if let Some(content) = tbs.read_optional(tag)? {
                if version < 1 {
                    return Err(Malformed);
                }
                read_bits_len(content)?;
            }
        }
        let mut parsed = Self {
            issuer,
            subject,
            common_name: subject_info.common_name,
            not_before,
            not_after,
            basic_constraints: None,
            key_usage: None,
            extended_key_usage: None,
            subject_alt_name: None,
            unsupported_critical_extension: false,
            beyond_embedded_tls: issuer_info.beyond_embedded_tls
                || subject_info.beyond_embedded_tls,
        };
        if let Some(content) = tbs.read_optional(TAG_EXTENSIONS)? {
            if version != 2 {
                return Err(Malformed);
            }
            parsed.read_extensions(read_single(content, TAG_SEQUENCE)?)?;
        }
        tbs.finish()?;
        Ok(parsed)
    }

    /// Reads the Extensions SEQUENCE content into `self`.
    fn read_extensions(&mut self, content: &'a [u8]) -> Result<(), Malformed> {
        let mut extensions = Reader::new(content);
        let mut count = 0usize;
        while !extensions.is_empty() {
            let mut extension = Reader::new(extensions.read(TAG_SEQUENCE)?);
            let oid = extension.read(TAG_OID)?;
            check_oid(oid)?;
            let critical = match extension.read_optional(TAG_BOOLEAN)? {
                Some(content) => read_boolean(content)?,
                None => false,
            };
            let value = extension.read(TAG_OCTET_STRING)?;
            extension.finish()?;
            if has_extension(content, oid, count)? {
                return Err(Malformed);
            }
            count = count.saturating_add(1);
            match oid {
                OID_BASIC_CONSTRAINTS => {
                    self.basic_constraints = Some(read_basic_constraints(value)?)
                }
                OID_KEY_USAGE => {
                    self.key_usage = Some(read_bits(read_single(value, TAG_BIT_STRING)?)?)
                }
                OID_SUBJECT_ALT_NAME => {
                    let names = read_single(value, TAG_SEQUENCE)?;
                    self.beyond_embedded_tls |= check_general_names(names)?;
                    self.subject_alt_name = Some(names);
                }
                OID_EXTENDED_KEY_USAGE => {
                    let purposes = read_single(value, TAG_SEQUENCE)?;
                    check_oid_list(purposes)?;
                    self.extended_key_usage = Some(purposes);
                }
                _ => self.unsupported_critical_extension |= critical,
            }
        }
        if count == 0 {
            return Err(Malformed);
        }
        self.beyond_embedded_tls |= count > EMBEDDED_TLS_MAX_EXTENSIONS;
        Ok(())
    }

    /// Iterates over the dNSName entries of subjectAltName.
    pub(crate) fn dns_names(&self) -> impl Iterator<Item = &'a [u8]> {
        general_names(self.subject_alt_name.unwrap_or_default())
            .filter_map(|(tag, value)| (tag == TAG_DNS_NAME).then_some(value))
    }

    /// Returns whether subjectAltName contains an identifier type that rules
    /// out matching the common name (RFC 6125 section 6.4.4): a DNS name,
    /// a URI, or an otherName such as an SRV-ID.
    fn has_name_identifiers(&self) -> bool {
        general_names(self.subject_alt_name.unwrap_or_default())
            .any(|(tag, _)| matches!(tag, TAG_DNS_NAME | TAG_URI | TAG_OTHER_NAME))
    }

    /// Returns whether the certificate may authenticate a TLS server:
    /// true without extendedKeyUsage, else it lists serverAuth or
    /// anyExtendedKeyUsage.
    pub(crate) fn allows_server_auth(&self) -> bool {
        let Some(purposes) = self.extended_key_usage else {
            return true;
        };
        let mut reader = Reader::new(purposes);
        while let Ok(oid) = reader.read(TAG_OID) {
            if oid == OID_SERVER_AUTH || oid == OID_ANY_EXTENDED_KEY_USAGE {
                return true;
            }
        }
        false
    }
}

/// Checks a BIT STRING and discards its value.
fn read_bits_len(content: &[u8]) -> Result<(), Malformed> {
    read_bits(content).map(|_| ())
}

/// Returns whether one of the first `count` extensions in `content` has
/// the identifier `oid`.
fn has_extension(content: &[u8], oid: &[u8], count: usize) -> Result<bool, Malformed> {
    let mut extensions = Reader::new(content);
    for _ in 0..count {
        let mut extension = Reader::new(extensions.read(TAG_SEQUENCE)?);
        if extension.read(TAG_OID)? == oid {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Reads the extnValue of basicConstraints.
fn read_basic_constraints(value: &[u8]) -> Result<BasicConstraints, Malformed> {
    let mut fields = Reader::new(read_single(value, TAG_SEQUENCE)?);
    let ca = match fields.read_optional(TAG_BOOLEAN)? {
        Some(content) => read_boolean(content)?,
        None => false,
    };
    let path_len = match fields.read_optional(TAG_INTEGER)? {
        Some(content) => Some(read_unsigned(content)?),
        None => None,
    };
    fields.finish()?;
    Ok(BasicConstraints { ca, path_len })
}

/// Checks a non-empty SEQUENCE OF OBJECT IDENTIFIER content.
fn check_oid_list(content: &[u8]) -> Result<(), Malformed> {
    if content.is_empty() {
        return Err(Malformed);
    }
    let mut reader = Reader::new(content);
    while !reader.is_empty() {
        check_oid(reader.read(TAG_OID)?)?;
    }
    Ok(())
}

/// Checks GeneralNames content (RFC 5280 section 4.2.1.6): at least one
/// context-specific item, and dNSName entries in ASCII. Returns whether
/// embedded-tls 0.19 fails on a DNS name longer than 64 bytes among those
/// it reads.
fn check_general_names(content: &[u8]) -> Result<bool, Malformed> {
    if content.is_empty() {
        return Err(Malformed);
    }
    let mut reader = Reader::new(content);
    let mut dns_names = 0usize;
    let mut beyond_embedded_tls = false;
    while !reader.is_empty() {
        let (tag, value) = reader.read_any()?;
        // Context-specific class, tag numbers 0 to 8, and only otherName,
        // x400Address, directoryName and ediPartyName are constructed.
        let number = tag & 0x1f;
        let constructed = tag & 0x20 != 0;
        let expect_constructed = matches!(number, 0 | 3 | 4 | 5);
        if tag & 0xc0 != 0x80 || number > 8 || constructed != expect_constructed {
            return Err(Malformed);
        }
        if tag == TAG_DNS_NAME {
            if !value.is_ascii() {
                return Err(Malformed);
            }
            if dns_names < EMBEDDED_TLS_MAX_DNS_NAMES {
                beyond_embedded_tls |= value.len() > EMBEDDED_TLS_MAX_NAME_LEN;
            }
            dns_names = dns_names.saturating_add(1);
        }
    }
    Ok(beyond_embedded_tls)
}

/// Iterates over GeneralNames content that [`check_general_names`]
/// accepted, as (tag, value) pairs.
fn general_names(content: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut reader = Reader::new(content);
    core::iter::from_fn(move || reader.read_any().ok())
}

/// Presented identifier that matched the server name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameMatch {
    /// The dNSName at this position among the certificate's DNS names.
    DnsName(usize),
    /// The common name, because the certificate has no DNS names.
    CommonName,
}

/// Matches `server_name` against the certificate (RFC 6125 section 6.4).
///
/// When subjectAltName contains DNS names (or URIs or otherNames), only the
/// DNS names count, all of them. Otherwise the last common name counts.
/// Comparison ignores ASCII case. A wildcard matches only as the whole
/// left-most label of a name with at least three labels, and stands for
/// exactly one non-empty label (`*.example.com` matches
/// `mail.example.com`, not `example.com` or `a.b.example.com`).
pub(crate) fn match_server_name(
    certificate: &Certificate<'_>,
    server_name: &str,
) -> Result<NameMatch, CertificateError> {
    let host = server_name.as_bytes();
    if is_ip_address(server_name) {
        return Err(CertificateError::ServerNameIsIpAddress);
    }
    if !is_host_name(host) {
        return Err(CertificateError::ServerNameInvalid);
    }
    if certificate.has_name_identifiers() {
        return certificate
            .dns_names()
            .position(|pattern| name_matches(pattern, host))
            .map(NameMatch::DnsName)
            .ok_or(CertificateError::ServerNameMismatch);
    }
    match certificate.common_name {
        Some(name) if name_matches(name, host) => Ok(NameMatch::CommonName),
        _ => Err(CertificateError::ServerNameMismatch),
    }
}

/// Returns whether `name` is an IPv4 or IPv6 address literal.
fn is_ip_address(name: &str) -> bool {
    name.parse::<core::net::IpAddr>().is_ok()
}

/// Returns whether `name` is a DNS host name: dot-separated labels of 1
/// to 63 letters, digits and hyphens, at most 253 bytes in all.
pub(crate) fn is_host_name(name: &[u8]) -> bool {
    name.len() <= 253
        && name.split(|&byte| byte == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .iter()
                    .all(|&byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

/// Returns whether the presented identifier `pattern` matches the host
/// name `host`, which [`is_host_name`] accepted.
fn name_matches(pattern: &[u8], host: &[u8]) -> bool {
    match pattern.strip_prefix(b"*.") {
        Some(suffix) => {
            // The wildcard stands for the host's first label, and the
            // suffix must name a domain below a top-level one.
            let Some(dot) = host.iter().position(|&byte| byte == b'.') else {
                return false;
            };
            let host_suffix = host.get(dot.saturating_add(1)..).unwrap_or_default();
            is_host_name(suffix)
                && suffix.contains(&b'.')
                && suffix.eq_ignore_ascii_case(host_suffix)
        }
        None => is_host_name(pattern) && pattern.eq_ignore_ascii_case(host),
    }
}

/// Checks the server's chain (DER, `chain[0]` first) against the pinned
/// CA `anchor` (DER), at time `now` in seconds since the Unix epoch when
/// known, and matches `server_name`. Signatures are left to embedded-tls.
///
/// Returns the parsed server certificate and which of its names matched.
/// Certificates are parsed again where needed instead of being kept, so
/// the stack holds only a few of them at a time.
pub(crate) fn check_chain<'c>(
    chain: &[&'c [u8]],
    anchor: &[u8],
    server_name: &str,
    now: Option<u64>,
) -> Result<(Certificate<'c>, NameMatch), CertificateError> {
    let anchor_certificate =
        Certificate::parse(anchor).map_err(|_| CertificateError::PinnedCaMalformed)?;
    if anchor_certificate.beyond_embedded_tls {
        return Err(CertificateError::BeyondEmbeddedTlsLimits { index: None });
    }
    let parse = |index: usize| {
        let der = chain.get(index).ok_or(CertificateError::EmptyChain)?;
        Certificate::parse(der).map_err(|_| CertificateError::Malformed { index })
    };
    let leaf = parse(0)?;

    for index in 0..chain.len() {
        let certificate = parse(index)?;
        if certificate.unsupported_critical_extension {
            return Err(CertificateError::UnsupportedCriticalExtension { index });
        }
        if let Some(now) = now {
            let now = i64::try_from(now).unwrap_or(i64::MAX);
            if now > certificate.not_after {
                return Err(CertificateError::Expired { index });
            }
            if now < certificate.not_before {
                return Err(CertificateError::NotYetValid { index });
            }
        }
        if certificate.beyond_embedded_tls {
            return Err(CertificateError::BeyondEmbeddedTlsLimits { index: Some(index) });
        }
    }

    // A pinned copy of the server's own certificate issues nothing.
    let anchor_is_leaf = matches!(chain, [only] if *only == anchor);
    check_path(chain.len(), parse, &anchor_certificate, anchor_is_leaf)?;

    if leaf
        .key_usage
        .is_some_and(|bits| bits & KEY_USAGE_DIGITAL_SIGNATURE == 0)
    {
        return Err(CertificateError::DigitalSignatureMissing);
    }
    if !leaf.allows_server_auth() {
        return Err(CertificateError::ServerAuthMissing);
    }
    let matched = match_server_name(&leaf, server_name)?;
    Ok((leaf, matched))
}

/// Walks a chain of `len` certificates, which `certificate` returns by
/// position, from the pinned CA `anchor` down (RFC 5280 section 6.1.4,
/// steps (k) to (n)). Issuer names must chain, every issuing certificate
/// must be a CA that may sign certificates, and path length constraints
/// must hold. Self-issued intermediates do not count toward a path
/// length, as in step (l).
fn check_path<'c>(
    len: usize,
    certificate: impl Fn(usize) -> Result<Certificate<'c>, CertificateError>,
    anchor: &Certificate<'_>,
    anchor_is_leaf: bool,
) -> Result<(), CertificateError> {
    let last = len.checked_sub(1).ok_or(CertificateError::EmptyChain)?;
    if certificate(last)?.issuer != anchor.subject {
        return Err(CertificateError::IssuerMismatch {
            index: last,
            pinned: true,
        });
    }
    if anchor_is_leaf {
        return Ok(());
    }
    if anchor
        .basic_constraints
        .is_some_and(|constraints| !constraints.ca)
    {
        return Err(CertificateError::PinnedCaNotCa);
    }
    // `None` means no limit. `limited_by` is the CA that set the current
    // limit, `None` for the pinned CA.
    let mut max_path_len = anchor
        .basic_constraints
        .and_then(|constraints| constraints.path_len);
    let mut limited_by = None;
    for index in (1..len).rev() {
        let issuer = certificate(index)?;
        if certificate(index - 1)?.issuer != issuer.subject {
            return Err(CertificateError::IssuerMismatch {
                index: index - 1,
                pinned: false,
            });
        }
        if !issuer
            .basic_constraints
            .is_some_and(|constraints| constraints.ca)
        {
            return Err(CertificateError::NotCa { index });
        }
        if issuer.issuer != issuer.subject {
            max_path_len = match max_path_len {
                Some(0) => return Err(CertificateError::PathLenExceeded { index: limited_by }),
                Some(remaining) => Some(remaining - 1),
                None => None,
            };
        }
        if let Some(path_len) = issuer
            .basic_constraints
            .and_then(|constraints| constraints.path_len)
            && max_path_len.is_none_or(|remaining| path_len < remaining)
        {
            max_path_len = Some(path_len);
            limited_by = Some(index);
        }
        if issuer
            .key_usage
            .is_some_and(|bits| bits & KEY_USAGE_KEY_CERT_SIGN == 0)
        {
            return Err(CertificateError::KeyCertSignMissing { index });
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;

    // Certificates made once with OpenSSL 3 (ECDSA P-256, valid from
    // 2026-12-04 for 100 years):
    // - CA: self-signed "CN=Fixture CA", CA:TRUE, keyCertSign and cRLSign;
    // - LEAF: "CN=leaf.example" from CA, CA:FALSE, digitalSignature,
    //   serverAuth, DNS:leaf.example;
    // - BARE: "CN=bare.example" from CA, version 1 without extensions;
    // - INT: "O=Fixture, CN=Fixture Intermediate" from CA, CA:TRUE with
    //   pathlen 0, keyCertSign;
    // - SAN: "CN=cn.example" from INT, subjectAltName DNS:mail.example.org,
    //   IP:192.0.2.1, DNS:*.example.net, DNS:smtp.example.com,
    //   DNS:Relay.Example.COM, email:ops@example.org, and clientAuth only;
    // - FORGED: "CN=victim.example" signed with LEAF's key, DNS:victim.example;
    // - CA_TWIN: like CA, with the same subject name but another key.
    pub(crate) const CA: &str = "\
        3082019130820137a00302010202140a9fc6f975805ccc4e2013f87c5ebceee4928f0f300a06082a8648ce3d\
        04030230153113301106035504030c0a466978747572652043413020170d3236313230343232303131315a18\
        0f32313236313131303232303131315a30153113301106035504030c0a466978747572652043413059301306\
        072a8648ce3d020106082a8648ce3d0301070342000487e1dd803dfac5796f2ea3e7f649c078ff1dbdd7e927\
        c1e53951052b090548b54d325254e039db24aea7fe194b0fa89b44f5aee54f3960a88ff561cddd9a8131a363\
        3061301d0603551d0e04160414e9628a8a3c36442ec20366c5e157dd2c1c1318e9301f0603551d2304183016\
        8014e9628a8a3c36442ec20366c5e157dd2c1c1318e9300f0603551d130101ff040530030101ff300e060355\
        1d0f0101ff040403020106300a06082a8648ce3d040302034800304502210083e2b0d1a7a4a2d19cbb0b5110\
        e3b0897c10c31d1223840ef060fb422a510df80220105bfad70b5cea0f0028a3c19b2b07338ca8b325671fec\
        4d341fae0fdfd463f7";

    pub(crate) const LEAF: &str = "\
        308201ae30820153a003020102020102300a06082a8648ce3d04030230153113301106035504030c0a466978\
        747572652043413020170d3236313230343232303131315a180f32313236313131303232303131315a301731\
        15301306035504030c0c6c6561662e6578616d706c653059301306072a8648ce3d020106082a8648ce3d0301\
        070342000496062475b32c107fbf450e0e8b4d3325025b885e6641b8b1848141e14f77682a803f87cb9e4da8\
        ec37525065486a3032beb790303adb889201729874b30ecf5da3818f30818c300c0603551d130101ff040230\
        00300e0603551d0f0101ff04040302078030130603551d25040c300a06082b0601050507030130170603551d\
        110410300e820c6c6561662e6578616d706c65301d0603551d0e041604141461709f3c83f2ed354bbfc239a2\
        634f74792b57301f0603551d23041830168014e9628a8a3c36442ec20366c5e157dd2c1c1318e9300a06082a\
        8648ce3d04030203490030460221008ac898d5107e3645aadfd65c710f5ea8c945c0f90a70dc070b50dd8e3f\
        7a0828022100d6762fc49aa34b75c220a81999598b42095c6430e3868c256e3f3fb858feaec1";

    pub(crate) const BARE: &str = "\
        308201153081bc020103300a06082a8648ce3d04030230153113301106035504030c0a466978747572652043\
        413020170d3236313230343232303131315a180f32313236313131303232303131315a301731153013060355\
        04030c0c626172652e6578616d706c653059301306072a8648ce3d020106082a8648ce3d03010703420004c9\
        e191cf6563b5aa06788310bdba465dfdd9fbef10b2f2dbbcf54da33a08c3d8909d11ca6124e0a01493ec046f\
        9fb29b72ddd7143952ef2d9b127c560eb789e7300a06082a8648ce3d04030203480030450220446efbbd6b4b\
        d192acd06a040cc89f79a9570b857c6b7cbf4a64282aa246d001022100d50af28f3b3e80c894c95ff40c1bd9\
        3d1bd03df3f41fe5a8503652e1cd720d36";

    pub(crate) const INT: &str = "\
        3082019c30820143a003020102020104300a06082a8648ce3d04030230153113301106035504030c0a466978\
        747572652043413020170d3236313230343232303131315a180f32313236313131303232303131315a303131\
        10300e060355040a0c0746697874757265311d301b06035504030c144669787475726520496e7465726d6564\
        696174653059301306072a8648ce3d020106082a8648ce3d030107034200046be5225a5bf84cac912d202fd7\
        8438500fbf2362705dc49ce33faf004a00d8029e167516f6fbcaf4b1f37abf4f77098d84bc05d4e0e041cc35\
        a6a1697b9886e3a366306430120603551d130101ff040830060101ff020100300e0603551d0f0101ff040403\
        020204301d0603551d0e04160414e48bd706312f37883ceb24ef2c6cb459146731fc301f0603551d23041830\
        168014e9628a8a3c36442ec20366c5e157dd2c1c1318e9300a06082a8648ce3d04030203470030440220358f\
        71112d53e8fc6f1d9a0abd1ef3d4de123d362fb73f76a5e5433ba35eceda02204ba5b36a7ad276427322695b\
        769ed3f1466b87d958b7f6e80089809e51ce9df7";

    pub(crate) const SAN: &str = "\
        308201f83082019ea003020102020105300a06082a8648ce3d04030230313110300e060355040a0c07466978\
        74757265311d301b06035504030c144669787475726520496e7465726d6564696174653020170d3236313230\
        343232303131315a180f32313236313131303232303131315a30153113301106035504030c0a636e2e657861\
        6d706c653059301306072a8648ce3d020106082a8648ce3d03010703420004e256fbc9bc90607f4ee33121e6\
        0ef45f14492f62926a5886a409a1efa8227d29ec3d107fe38171a5895e358fb138520d67da5865529227a218\
        86b2cf0aae9f82a381c03081bd30660603551d11045f305d82106d61696c2e6578616d706c652e6f72678704\
        c0000201820d2a2e6578616d706c652e6e65748210736d74702e6578616d706c652e636f6d821152656c6179\
        2e4578616d706c652e434f4d810f6f7073406578616d706c652e6f726730130603551d25040c300a06082b06\
        010505070302301d0603551d0e041604146b47d96056ec20fdf8fbf00c5512ce3f812f1c8b301f0603551d23\
        041830168014e48bd706312f37883ceb24ef2c6cb459146731fc300a06082a8648ce3d040302034800304502\
        2100dfb173533475a25924b8624400fd902a7d7ef387ef2d3576871c3ebee342ff00022051c56a535be2230e\
        1769c7f3edd01763ace29142235fa1f232d60823d7f6b74c";

    pub(crate) const FORGED: &str = "\
        3082017d30820124a003020102020106300a06082a8648ce3d04030230173115301306035504030c0c6c6561\
        662e6578616d706c653020170d3236313230343232303132335a180f32313236313131303232303132335a30\
        193117301506035504030c0e76696374696d2e6578616d706c653059301306072a8648ce3d020106082a8648\
        ce3d03010703420004c32f34fca46cdc722870ce1d57d70c99ee23697d11dfd6fdb70cc5cacbcaa918ecbc74\
        43eff0818d35a171c99fa391babe253f8afe02fa3b954483af6d30b622a35d305b30190603551d1104123010\
        820e76696374696d2e6578616d706c65301d0603551d0e0416041417bd5879855055de867b47f01a53dba46a\
        1fc5aa301f0603551d230418301680141461709f3c83f2ed354bbfc239a2634f74792b57300a06082a8648ce\
        3d04030203470030440220263ad6370362368832c73f278f265f470154e9f35f41568f3def1f6cf7b4344c02\
        2030e43ae95ea92514c8ee1aa91f07cc29d1667fa359024c671e7ce8e9af8c5884";

    pub(crate) const CA_TWIN: &str = "\
        3082019230820137a003020102021478105ff123b1df65e87a6af67e872fc37238dcb5300a06082a8648ce3d\
        04030230153113301106035504030c0a466978747572652043413020170d3236313230343232303433305a18\
        0f32313236313131303232303433305a30153113301106035504030c0a466978747572652043413059301306\
        072a8648ce3d020106082a8648ce3d03010703420004a42e2976c72d2574589266c754e8536bf8312fb147a8\
        59437b4510602986744bc7c43b120c17133b62de555f4bc92bf9cc73c0a4d3a0c1e71b050f0eb17ae379a363\
        3061301d0603551d0e041604149a4fc16f8dd4b887084986513034c4dd2f4ce78a301f0603551d2304183016\
        80149a4fc16f8dd4b887084986513034c4dd2f4ce78a300f0603551d130101ff040530030101ff300e060355\
        1d0f0101ff040403020106300a06082a8648ce3d0403020349003046022100e3ceb476b3e7a4a9042f6d6fa4\
        d4857eb1dff0a98044be73f4faf5a529e72acb022100eacdaedf2397d8cd76891911b7c8b91e0e0d0c7146ab\
        f3e508b11a321a95540a";

    const NOT_BEFORE: i64 = 1_796_421_671;
    const NOT_AFTER: i64 = 4_950_021_671;

    /// Decodes a fixture from hexadecimal.
    pub(crate) fn der(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    fn all_fixtures() -> [Vec<u8>; 6] {
        [
            der(CA),
            der(LEAF),
            der(BARE),
            der(INT),
            der(SAN),
            der(FORGED),
        ]
    }

    /// Runs [`check_path`] on certificates that are already parsed.
    fn path(
        chain: &[Certificate<'_>],
        anchor: &Certificate<'_>,
        anchor_is_leaf: bool,
    ) -> Result<(), CertificateError> {
        let certificate = |index: usize| {
            chain
                .get(index)
                .copied()
                .ok_or(CertificateError::EmptyChain)
        };
        check_path(chain.len(), certificate, anchor, anchor_is_leaf)
    }

    fn dns_names<'a>(certificate: &Certificate<'a>) -> Vec<&'a [u8]> {
        certificate.dns_names().collect()
    }

    #[test]
    fn ca_fixture_fields() {
        let der = der(CA);
        let ca = Certificate::parse(&der).unwrap();
        assert_eq!(
            ca.basic_constraints,
            Some(BasicConstraints {
                ca: true,
                path_len: None
            })
        );
        let key_usage = ca.key_usage.unwrap();
        assert_ne!(key_usage & KEY_USAGE_KEY_CERT_SIGN, 0);
        assert_eq!(key_usage & KEY_USAGE_DIGITAL_SIGNATURE, 0);
        assert_eq!(ca.issuer, ca.subject);
        assert_eq!(ca.common_name, Some(&b"Fixture CA"[..]));
        assert_eq!(ca.not_before, NOT_BEFORE);
        assert_eq!(ca.not_after, NOT_AFTER);
        assert!(dns_names(&ca).is_empty());
        assert!(!ca.unsupported_critical_extension);
        assert!(!ca.beyond_embedded_tls);
    }

    #[test]
    fn leaf_fixture_fields() {
        let ca_der = der(CA);
        let leaf_der = der(LEAF);
        let ca = Certificate::parse(&ca_der).unwrap();
        let leaf = Certificate::parse(&leaf_der).unwrap();
        assert_eq!(
            leaf.basic_constraints,
            Some(BasicConstraints {
                ca: false,
                path_len: None
            })
        );
        assert_eq!(leaf.key_usage, Some(KEY_USAGE_DIGITAL_SIGNATURE));
        assert!(leaf.allows_server_auth());
        assert_eq!(leaf.issuer, ca.subject);
        assert_eq!(dns_names(&leaf), [&b"leaf.example"[..]]);
    }

    #[test]
    fn certificate_without_extensions() {
        let der = der(BARE);
        let bare = Certificate::parse(&der).unwrap();
        assert_eq!(bare.basic_constraints, None);
        assert_eq!(bare.key_usage, None);
        assert!(bare.allows_server_auth());
        assert!(dns_names(&bare).is_empty());
        assert_eq!(bare.common_name, Some(&b"bare.example"[..]));
        assert_eq!(
            match_server_name(&bare, "BARE.example"),
            Ok(NameMatch::CommonName)
        );
        assert_eq!(
            match_server_name(&bare, "other.example"),
            Err(CertificateError::ServerNameMismatch)
        );
    }

    #[test]
    fn intermediate_with_path_len_zero() {
        let der = der(INT);
        let intermediate = Certificate::parse(&der).unwrap();
        assert_eq!(
            intermediate.basic_constraints,
            Some(BasicConstraints {
                ca: true,
                path_len: Some(0)
            })
        );
        assert_eq!(intermediate.key_usage, Some(KEY_USAGE_KEY_CERT_SIGN));
        assert_eq!(intermediate.common_name, Some(&b"Fixture Intermediate"[..]));
    }

    #[test]
    fn several_dns_names() {
        let der = der(SAN);
        let san = Certificate::parse(&der).unwrap();
        let expected: [&[u8]; 4] = [
            b"mail.example.org",
            b"*.example.net",
            b"smtp.example.com",
            b"Relay.Example.COM",
        ];
        assert_eq!(dns_names(&san), expected);
        assert!(!san.allows_server_auth());
        let cases = [
            ("mail.example.org", Ok(NameMatch::DnsName(0))),
            ("MAIL.example.ORG", Ok(NameMatch::DnsName(0))),
            ("a.example.net", Ok(NameMatch::DnsName(1))),
            ("relay.example.com", Ok(NameMatch::DnsName(3))),
            ("example.net", Err(CertificateError::ServerNameMismatch)),
            ("a.b.example.net", Err(CertificateError::ServerNameMismatch)),
            // The common name does not count once DNS names exist.
            ("cn.example", Err(CertificateError::ServerNameMismatch)),
            ("192.0.2.1", Err(CertificateError::ServerNameIsIpAddress)),
            ("::1", Err(CertificateError::ServerNameIsIpAddress)),
            ("bad_name.example", Err(CertificateError::ServerNameInvalid)),
            (
                "mail.example.org.",
                Err(CertificateError::ServerNameInvalid),
            ),
            ("", Err(CertificateError::ServerNameInvalid)),
        ];
        for (host, expected) in cases {
            assert_eq!(match_server_name(&san, host), expected, "{host}");
        }
    }

    #[test]
    fn wildcard_rules() {
        let cases: [(&[u8], &[u8], bool); 10] = [
            (b"*.example.com", b"mail.example.com", true),
            (b"*.EXAMPLE.com", b"Mail.example.COM", true),
            (b"*.example.com", b"example.com", false),
            (b"*.example.com", b"a.mail.example.com", false),
            (b"*.com", b"example.com", false),
            (b"m*.example.com", b"mail.example.com", false),
            (b"mail.*.com", b"mail.example.com", false),
            (b"*.*.com", b"a.example.com", false),
            (b"*", b"localhost", false),
            (b"mail.example.com", b"mail.example.com", true),
        ];
        for (pattern, host, expected) in cases {
            assert_eq!(
                name_matches(pattern, host),
                expected,
                "{}",
                std::string::String::from_utf8_lossy(pattern)
            );
        }
    }

    #[test]
    fn chain_through_intermediate() {
        let [ca, _, _, intermediate, san, _] = all_fixtures();
        let ca_certificate = Certificate::parse(&ca).unwrap();
        let chain = [
            Certificate::parse(&san).unwrap(),
            Certificate::parse(&intermediate).unwrap(),
        ];
        // The path checks pass, but the leaf allows only clientAuth.
        assert_eq!(path(&chain, &ca_certificate, false), Ok(()));
        assert_eq!(
            check_chain(&[&san, &intermediate], &ca, "smtp.example.com", None),
            Err(CertificateError::ServerAuthMissing)
        );
    }

    #[test]
    fn end_entity_as_issuer_rejected() {
        let [ca, leaf, _, _, _, forged] = all_fixtures();
        assert_eq!(
            check_chain(&[&forged, &leaf], &ca, "victim.example", None).map(|(_, m)| m),
            Err(CertificateError::NotCa { index: 1 })
        );
        // The leaf itself passes. Pinning it works only for a self-signed
        // certificate, because embedded-tls checks its signature with the
        // pinned key.
        assert_eq!(
            check_chain(&[&leaf], &ca, "leaf.example", None).map(|(_, m)| m),
            Ok(NameMatch::DnsName(0))
        );
        assert_eq!(
            check_chain(&[&leaf], &leaf, "leaf.example", None).map(|(_, m)| m),
            Err(CertificateError::IssuerMismatch {
                index: 0,
                pinned: true
            })
        );
        // A self-signed certificate may be pinned as the server's own, but
        // this one allows only keyCertSign.
        assert_eq!(
            check_chain(&[&ca], &ca, "leaf.example", None).map(|(_, m)| m),
            Err(CertificateError::DigitalSignatureMissing)
        );
        assert_eq!(
            check_chain(&[&forged, &leaf], &leaf, "victim.example", None).map(|(_, m)| m),
            Err(CertificateError::IssuerMismatch {
                index: 1,
                pinned: true
            })
        );
    }

    #[test]
    fn certificate_without_basic_constraints_is_no_ca() {
        let [ca, _, bare, _, _, _] = all_fixtures();
        let ca = Certificate::parse(&ca).unwrap();
        let bare = Certificate::parse(&bare).unwrap();
        let mut child = bare;
        child.issuer = bare.subject;
        assert_eq!(
            path(&[child, bare], &ca, false),
            Err(CertificateError::NotCa { index: 1 })
        );
    }

    #[test]
    fn issuer_names_must_chain() {
        let [ca, leaf, _, intermediate, san, _] = all_fixtures();
        let ca = Certificate::parse(&ca).unwrap();
        let leaf = Certificate::parse(&leaf).unwrap();
        let intermediate = Certificate::parse(&intermediate).unwrap();
        let san = Certificate::parse(&san).unwrap();
        // Pinning the intermediate that the server also sends.
        assert_eq!(
            path(&[san, intermediate], &intermediate, false),
            Err(CertificateError::IssuerMismatch {
                index: 1,
                pinned: true
            })
        );
        assert_eq!(
            path(&[leaf, intermediate], &ca, false),
            Err(CertificateError::IssuerMismatch {
                index: 0,
                pinned: false
            })
        );
        assert_eq!(path(&[san], &intermediate, false), Ok(()));
    }

    /// Builds a CA certificate named `name`, issued by `issuer`, from
    /// the fields of `template`.
    fn synthetic<'a>(
        template: &Certificate<'a>,
        name: &'a [u8],
        issuer: &'a [u8],
        path_len: Option<u32>,
    ) -> Certificate<'a> {
        Certificate {
            subject: name,
            issuer,
            basic_constraints: Some(BasicConstraints { ca: true, path_len }),
            ..*template
        }
    }

    #[test]
    fn path_len_constraints() {
        let der = der(INT);
        let template = Certificate::parse(&der).unwrap();
        let root = synthetic(&template, b"root", b"root", None);
        let root_zero = synthetic(&template, b"root", b"root", Some(0));
        let upper = synthetic(&template, b"upper", b"root", Some(0));
        let upper_one = synthetic(&template, b"upper", b"root", Some(1));
        let lower = synthetic(&template, b"lower", b"upper", None);
        let leaf = Certificate {
            basic_constraints: None,
            ..synthetic(&template, b"leaf", b"lower", None)
        };
        let direct = Certificate {
            issuer: b"upper",
            ..leaf
        };
        assert_eq!(path(&[direct, upper], &root, false), Ok(()));
        assert_eq!(
            path(&[leaf, lower, upper], &root, false),
            Err(CertificateError::PathLenExceeded { index: Some(2) })
        );
        assert_eq!(path(&[leaf, lower, upper_one], &root, false), Ok(()));
        assert_eq!(
            path(&[direct, upper_one], &root_zero, false),
            Err(CertificateError::PathLenExceeded { index: None })
        );
        // A self-issued copy of the root does not count.
        assert_eq!(
            path(&[direct, upper, root_zero], &root_zero, false),
            Err(CertificateError::PathLenExceeded { index: None })
        );
        let leaf_of_root = Certificate {
            issuer: b"root",
            ..leaf
        };
        assert_eq!(path(&[leaf_of_root, root_zero], &root_zero, false), Ok(()));
    }

    #[test]
    fn key_cert_sign_required() {
        let der = der(INT);
        let template = Certificate::parse(&der).unwrap();
        let root = synthetic(&template, b"root", b"root", None);
        let signer = Certificate {
            key_usage: Some(KEY_USAGE_DIGITAL_SIGNATURE),
            ..synthetic(&template, b"signer", b"root", None)
        };
        let leaf = synthetic(&template, b"leaf", b"signer", None);
        assert_eq!(
            path(&[leaf, signer], &root, false),
            Err(CertificateError::KeyCertSignMissing { index: 1 })
        );
        let pinned_leaf = Certificate {
            basic_constraints: Some(BasicConstraints {
                ca: false,
                path_len: None,
            }),
            ..root
        };
        assert_eq!(
            path(&[leaf], &pinned_leaf, false),
            Err(CertificateError::IssuerMismatch {
                index: 0,
                pinned: true
            })
        );
        let child_of_pinned_leaf = Certificate {
            issuer: b"root",
            ..leaf
        };
        assert_eq!(
            path(&[child_of_pinned_leaf], &pinned_leaf, false),
            Err(CertificateError::PinnedCaNotCa)
        );
        assert_eq!(path(&[child_of_pinned_leaf], &pinned_leaf, true), Ok(()));
    }

    #[test]
    fn validity_dates_checked_with_clock() {
        let [ca, leaf, _, _, _, _] = all_fixtures();
        let at = |now: u64| check_chain(&[&leaf], &ca, "leaf.example", Some(now)).map(|(_, m)| m);
        assert_eq!(at(NOT_BEFORE as u64), Ok(NameMatch::DnsName(0)));
        assert_eq!(at(NOT_AFTER as u64), Ok(NameMatch::DnsName(0)));
        assert_eq!(
            at(NOT_BEFORE as u64 - 1),
            Err(CertificateError::NotYetValid { index: 0 })
        );
        assert_eq!(
            at(NOT_AFTER as u64 + 1),
            Err(CertificateError::Expired { index: 0 })
        );
        assert_eq!(at(u64::MAX), Err(CertificateError::Expired { index: 0 }));
    }

    #[test]
    fn times() {
        let utc = |text: &[u8]| read_time(TAG_UTC_TIME, text);
        let generalized = |text: &[u8]| read_time(TAG_GENERALIZED_TIME, text);
        assert_eq!(utc(b"700101000000Z"), Ok(0));
        assert_eq!(utc(b"500101000000Z"), Ok(-631_152_000));
        assert_eq!(utc(b"491231235959Z"), Ok(2_524_607_999));
        assert_eq!(generalized(b"20000229120000Z"), Ok(951_825_600));
        assert_eq!(generalized(b"21000228000000Z"), Ok(4_107_456_000));
        for bad in [
            &b"19000229000000Z"[..],
            b"20230431000000Z",
            b"20231301000000Z",
            b"20230101240000Z",
            b"20230101006000Z",
            b"20230101000060Z",
            b"2023010100000Z",
            b"20230101000000+",
            b"2023010100000aZ",
        ] {
            assert_eq!(generalized(bad), Err(Malformed), "{bad:?}");
        }
        assert_eq!(utc(b"20230101000000Z"), Err(Malformed));
        assert_eq!(
            read_time(TAG_OCTET_STRING, b"700101000000Z"),
            Err(Malformed)
        );
    }

    #[test]
    fn lengths_must_be_minimal_der() {
        type Item<'a> = Result<(u8, &'a [u8]), Malformed>;
        let cases: [(&[u8], Item<'_>); 9] = [
            (&[0x04, 0x01, 0xaa], Ok((0x04, &[0xaa]))),
            (&[0x04, 0x00], Ok((0x04, &[]))),
            (&[0x04, 0x80, 0x00, 0x00], Err(Malformed)),
            (&[0x04, 0x81, 0x01, 0xaa], Err(Malformed)),
            (&[0x04, 0x82, 0x00, 0x81], Err(Malformed)),
            (&[0x04, 0x84, 0x00, 0x00, 0x00, 0x01], Err(Malformed)),
            (&[0x1f, 0x01, 0x00], Err(Malformed)),
            (&[0x04, 0x02, 0xaa], Err(Malformed)),
            (&[0x04], Err(Malformed)),
        ];
        for (input, expected) in cases {
            assert_eq!(Reader::new(input).read_any(), expected, "{input:02x?}");
        }
        let mut long = std::vec![0x04, 0x81, 0x80];
        long.extend([0u8; 0x80]);
        assert_eq!(
            Reader::new(&long).read_any().map(|(_, c)| c.len()),
            Ok(0x80)
        );
    }

    #[test]
    fn primitive_encodings() {
        assert_eq!(check_oid(&[0x55, 0x1d, 0x13]), Ok(()));
        assert_eq!(check_oid(&[0x55, 0x80, 0x01]), Err(Malformed));
        assert_eq!(check_oid(&[0x55, 0x81]), Err(Malformed));
        assert_eq!(check_oid(&[]), Err(Malformed));
        assert_eq!(read_unsigned(&[0x00, 0x80]), Ok(0x80));
        assert_eq!(read_unsigned(&[0x00, 0x01]), Err(Malformed));
        assert_eq!(read_unsigned(&[0xff]), Err(Malformed));
        assert_eq!(read_unsigned(&[0x01, 0, 0, 0, 0]), Ok(u32::MAX));
        assert_eq!(read_boolean(&[0x01]), Err(Malformed));
        assert_eq!(read_bits(&[0x07, 0x80]), Ok(1));
        assert_eq!(read_bits(&[0x01, 0x84]), Ok(1 | 1 << 5));
        assert_eq!(read_bits(&[0x01, 0x01]), Err(Malformed));
        assert_eq!(read_bits(&[0x08, 0x00]), Err(Malformed));
        assert_eq!(read_bits(&[0x01]), Err(Malformed));
        assert_eq!(read_bits(&[0x00, 0x00, 0x80]), Ok(1 << 8));
    }

    #[test]
    fn truncated_and_extended_inputs_fail() {
        for der in all_fixtures() {
            assert!(Certificate::parse(&der).is_ok());
            for len in 0..der.len() {
                assert_eq!(Certificate::parse(&der[..len]), Err(Malformed), "{len}");
            }
            let mut longer = der.clone();
            longer.push(0);
            assert_eq!(Certificate::parse(&longer), Err(Malformed));
            // Two pieces at every split point: the second alone never parses
            // and the first only when it is the whole certificate.
            for split in 1..der.len() {
                let (head, tail) = der.split_at(split);
                assert!(Certificate::parse(head).is_err(), "{split}");
                assert!(Certificate::parse(tail).is_err(), "{split}");
            }
        }
    }

    /// Runs every function a handshake runs on a parsed certificate, to
    /// show that none panics.
    fn exercise(input: &[u8], anchor: &[u8]) {
        if let Ok(certificate) = Certificate::parse(input) {
            let _ = dns_names(&certificate);
            let _ = certificate.allows_server_auth();
        }
        let _ = check_chain(&[input], anchor, "leaf.example", Some(0));
        let _ = check_chain(&[input, anchor], anchor, "a.example.net", None);
        let _ = check_chain(&[anchor, input], anchor, "leaf.example", None);
        let _ = check_chain(&[input], input, "192.0.2.1", None);
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let fixtures = all_fixtures();
        let anchor = der(CA);
        for der in &fixtures {
            for index in 0..der.len() {
                for replacement in [0x00, 0x7f, 0x80, 0x81, 0xff, der[index] ^ 0x01] {
                    let mut mutated = der.clone();
                    mutated[index] = replacement;
                    exercise(&mutated, &anchor);
                }
            }
        }
        // xorshift64, seeded for repeatable runs: 20,000 inputs of random
        // edits to the fixtures, and 2,000 of random bytes.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000 {
            let mut mutated = fixtures[round % fixtures.len()].clone();
            for _ in 0..1 + next() % 4 {
                let position = (next() % mutated.len() as u64) as usize;
                match next() % 3 {
                    0 => mutated[position] = next() as u8,
                    1 => mutated.truncate(position),
                    _ => mutated.insert(position, next() as u8),
                }
                if mutated.is_empty() {
                    break;
                }
            }
            exercise(&mutated, &anchor);
        }
        for _ in 0..2_000 {
            let len = (next() % 600) as usize;
            let mut random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(first) = random.first_mut() {
                *first = TAG_SEQUENCE;
            }
            exercise(&random, &anchor);
        }
    }
}
