//! SASL mechanisms for the SMTP AUTH command (RFC 4954): PLAIN (RFC 4616),
//! LOGIN, XOAUTH2 and, with the `cram-md5` feature, CRAM-MD5 (RFC 2195).
//!
//! An [`Authenticator`] writes the `AUTH` command line and the base64 lines
//! that answer the server's `334` challenges into caller buffers. It never
//! allocates, and every write is all-or-nothing: the length is computed and
//! the credentials are validated before the first byte is written.
//!
//! LOGIN has no specification. Servers send `334 VXNlcm5hbWU6`
//! ("Username:"), `334 VXNlciBOYW1lAA==` ("User Name\0") and other texts, so
//! the client answers by position: the first challenge gets the user name
//! and the second the password, whatever the text says.
//!
//! XOAUTH2 is Google's SASL mechanism for OAuth 2.0 bearer tokens, also
//! offered by Microsoft and Yahoo. Its payload is `user=` name `^A`
//! `auth=Bearer ` token `^A^A`. When the provider rejects the token, it
//! sends a `334` challenge with a base64 JSON error, which the client
//! answers with an empty line, and then the final `535` reply.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::ehlo::AuthMechanisms;

/// Maximum length in octets of an `AUTH` command line with its initial
/// response, CRLF included: the command line limit of RFC 5321
/// section 4.5.3.1.4, which RFC 4954 section 4 applies to AUTH. A longer
/// initial response is sent after an empty `334` challenge instead.
pub const MAX_AUTH_COMMAND_LEN: usize = 512;

/// A SASL mechanism that the client implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): authorization identity, user name and password
    /// in one response.
    Plain,
    /// `LOGIN`: user name and password in two responses.
    Login,
    /// `CRAM-MD5` (RFC 2195): an HMAC-MD5 of the server's challenge keyed
    /// with the password, so the password itself is never sent. Needs the
    /// `cram-md5` feature.
    CramMd5,
    /// `XOAUTH2`: an OAuth 2.0 access token instead of a password.
    XOAuth2,
}

impl Mechanism {
    /// Every mechanism, in the order that [`Mechanism::preferred`] tries
    /// them: XOAUTH2 (a short-lived token), CRAM-MD5 (the password is not
    /// sent), then PLAIN and LOGIN (the password is sent, readable after
    /// base64 decoding, so only over TLS).
    pub const PREFERENCE: [Self; 4] = [Self::XOAuth2, Self::CramMd5, Self::Plain, Self::Login];

    /// Returns the mechanism name as sent on the `AUTH` line.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
            Self::CramMd5 => "CRAM-MD5",
            Self::XOAuth2 => "XOAUTH2",
        }
    }

    /// Returns the one-element set of this mechanism, to compare with what
    /// a server offers.
    pub const fn as_set(self) -> AuthMechanisms {
        match self {
            Self::Plain => AuthMechanisms::PLAIN,
            Self::Login => AuthMechanisms::LOGIN,
            Self::CramMd5 => AuthMechanisms::CRAM_MD5,
            Self::XOAuth2 => AuthMechanisms::XOAUTH2,
        }
    }

    /// Returns whether this build implements the mechanism: CRAM-MD5 needs
    /// the `cram-md5` feature, the others are always available.
    pub const fn is_available(self) -> bool {
        match self {
            Self::CramMd5 => cfg!(feature = "cram-md5"),
            Self::Plain | Self::Login | Self::XOAuth2 => true,
        }
    }

    /// Returns the first mechanism of [`Mechanism::PREFERENCE`] that is in
    /// both `enabled` and `offered`, is available in this build and fits the
    /// kind of secret in `credentials`.
    pub fn preferred(
        enabled: AuthMechanisms,
        offered: AuthMechanisms,
        credentials: &Credentials<'_>,
    ) -> Option<Self> {
        Self::PREFERENCE.into_iter().find(|&mechanism| {
            enabled.contains(mechanism.as_set())
                && offered.contains(mechanism.as_set())
                && mechanism.is_available()
                && credentials.fits(mechanism)
        })
    }

    /// Whether the first response goes on the `AUTH` line (RFC 4954
    /// section 4). LOGIN's first response is not sent there, because the
    /// mechanism was never specified with one and servers differ; CRAM-MD5
    /// needs the server's challenge first.
    const fn has_initial_response(self) -> bool {
        matches!(self, Self::Plain | Self::XOAuth2)
    }

    /// Responses in order, one per challenge, including the initial one.
    fn responses(self) -> &'static [Response] {
        match self {
            Self::Plain => &[Response::Plain],
            Self::Login => &[Response::Username, Response::Password],
            Self::CramMd5 => &[Response::CramMd5],
            Self::XOAuth2 => &[Response::XOAuth2],
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The secret half of [`Credentials`].
#[derive(Clone, Copy)]
enum Secret<'a> {
    Password(&'a str),
    AccessToken(&'a str),
}

/// User name and password, or user name and OAuth 2.0 access token.
///
/// `Debug` shows the user name and hides the secret, so credentials can sit
/// in structures that are logged.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    authorization_id: &'a str,
    username: &'a str,
    secret: Secret<'a>,
}

impl<'a> Credentials<'a> {
    /// Creates credentials for PLAIN, LOGIN and CRAM-MD5.
    pub const fn new(username: &'a str, password: &'a str) -> Self {
        Self {
            authorization_id: "",
            username,
            secret: Secret::Password(password),
        }
    }

    /// Creates credentials for XOAUTH2 from an OAuth 2.0 access token that
    /// the caller obtained from the provider.
    pub const fn oauth2(username: &'a str, access_token: &'a str) -> Self {
        Self {
            authorization_id: "",
            username,
            secret: Secret::AccessToken(access_token),
        }
    }

    /// Sets the authorization identity of PLAIN (RFC 4616 section 2): the
    /// user to act as, when it differs from the user who authenticates.
    /// Other mechanisms ignore it. Empty by default.
    pub const fn with_authorization_id(mut self, authorization_id: &'a str) -> Self {
        self.authorization_id = authorization_id;
        self
    }

    /// Returns the user name.
    pub const fn username(&self) -> &'a str {
        self.username
    }

    /// Returns true when the secret is an OAuth 2.0 access token rather
    /// than a password.
    pub const fn has_access_token(&self) -> bool {
        matches!(self.secret, Secret::AccessToken(_))
    }

    /// Returns whether the kind of secret suits `mechanism`: an access token
    /// for XOAUTH2, a password for the others.
    pub const fn fits(&self, mechanism: Mechanism) -> bool {
        matches!(mechanism, Mechanism::XOAuth2) == self.has_access_token()
    }

    /// Checks that `mechanism` can carry these credentials.
    ///
    /// CR and LF are rejected everywhere, because a response line would end
    /// early and the rest would reach the server as a command. NUL is
    /// rejected because it separates PLAIN's fields (RFC 4616 section 2
    /// forbids it inside them). XOAUTH2 also rejects `^A` in the user name,
    /// its field separator, and any control character or space in the
    /// token (the `b64token` syntax of RFC 6750 section 2.1 has none).
    pub fn validate(&self, mechanism: Mechanism) -> Result<(), AuthError> {
        if !mechanism.is_available() {
            return Err(AuthError::Unavailable { mechanism });
        }
        if !self.fits(mechanism) {
            return Err(AuthError::SecretMismatch { mechanism });
        }

        let line_breaking = |b: u8| matches!(b, b'\r' | b'\n' | 0);
        check_field(self.username, CredentialField::Username, |b| {
            line_breaking(b) || (mechanism == Mechanism::XOAuth2 && b == 0x01)
        })?;
        if mechanism == Mechanism::Plain && !self.authorization_id.is_empty() {
            check_field(
                self.authorization_id,
                CredentialField::AuthorizationId,
                line_breaking,
            )?;
        }
        match self.secret {
            Secret::Password(password) => {
                check_field(password, CredentialField::Password, line_breaking)
            }
            Secret::AccessToken(token) => check_field(token, CredentialField::AccessToken, |b| {
                b.is_ascii_control() || b == b' '
            }),
        }
    }

    fn secret_bytes(&self) -> &'a [u8] {
        match self.secret {
            Secret::Password(secret) | Secret::AccessToken(secret) => secret.as_bytes(),
        }
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = match self.secret {
            Secret::Password(_) => "<redacted password>",
            Secret::AccessToken(_) => "<redacted access token>",
        };
        f.debug_struct("Credentials")
            .field("authorization_id", &self.authorization_id)
            .field("username", &self.username)
            .field("secret", &format_args!("{secret}"))
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Credentials<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Credentials {{ authorization_id: {=str}, username: {=str}, secret: <redacted> }}",
            self.authorization_id,
            self.username
        );
    }
}

/// Rejects an empty field and a field with a byte that `forbidden` matches.
fn check_field(
    value: &str,
    field: CredentialField,
    forbidden: impl Fn(u8) -> bool,
) -> Result<(), AuthError> {
    if value.is_empty() {
        return Err(AuthError::Empty { field });
    }
    if value.bytes().any(forbidden) {
        return Err(AuthError::InvalidCharacter { field });
    }
    Ok(())
}

/// A field of [`Credentials`], named in errors instead of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CredentialField {
    /// The authorization identity of PLAIN.
    AuthorizationId,
    /// The user name.
    Username,
    /// The password.
    Password,
    /// The OAuth 2.0 access token.
    AccessToken,
}

impl fmt::Display for CredentialField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AuthorizationId => "authorization identity",
            Self::Username => "user name",
            Self::Password => "password",
            Self::AccessToken => "access token",
        })
    }
}

/// Error of an [`Authenticator`]. Never contains a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AuthError {
    /// A credential field contains a byte that the mechanism cannot carry;
    /// see [`Credentials::validate`].
    InvalidCharacter {
        /// The field with the byte.
        field: CredentialField,
    },
    /// A credential field is empty. RFC 4616 section 2 requires a user name
    /// and a password of at least one character, and the other mechanisms
    /// cannot work without them either.
    Empty {
        /// The empty field.
        field: CredentialField,
    },
    /// The mechanism needs the other kind of secret: XOAUTH2 takes an
    /// access token, the other mechanisms a password.
    SecretMismatch {
        /// The mechanism requested.
        mechanism: Mechanism,
    },
    /// The mechanism is not compiled in: CRAM-MD5 needs the `cram-md5`
    /// feature.
    Unavailable {
        /// The mechanism requested.
        mechanism: Mechanism,
    },
    /// The output buffer is too small. Nothing was written.
    BufferTooSmall {
        /// Number of bytes the line needs.
        needed: usize,
    },
    /// The server sent a challenge after the mechanism's last response.
    UnexpectedChallenge,
    /// The CRAM-MD5 challenge is not valid base64.
    InvalidChallenge,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCharacter { field } => write!(
                f,
                "the {field} contains a character that AUTH cannot send \
                 (CR, LF, NUL, or a control character in an access token)"
            ),
            Self::Empty { field } => write!(f, "the {field} is empty"),
            Self::SecretMismatch { mechanism } => match mechanism {
                Mechanism::XOAuth2 => {
                    f.write_str("XOAUTH2 needs an OAuth 2.0 access token, not a password")
                }
                _ => write!(f, "{mechanism} needs a password, not an access token"),
            },
            Self::Unavailable { mechanism } => write!(
                f,
                "{mechanism} is not compiled in; enable the `cram-md5` feature"
            ),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::UnexpectedChallenge => {
                f.write_str("server sent an AUTH challenge after the last response")
            }
            Self::InvalidChallenge => f.write_str("CRAM-MD5 challenge is not valid base64"),
        }
    }
}

impl core::error::Error for AuthError {}

/// Content of a response line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Response {
    /// authzid NUL authcid NUL passwd (RFC 4616 section 2).
    Plain,
    /// LOGIN's first response.
    Username,
    /// LOGIN's second response.
    Password,
    /// User name, a space and the hex HMAC-MD5 digest (RFC 2195 section 2).
    CramMd5,
    /// `user=` name `^A` `auth=Bearer ` token `^A^A`.
    XOAuth2,
    /// An empty line: XOAUTH2's answer to the provider's error challenge.
    Empty,
}

/// Client side of one SASL exchange: encodes the `AUTH` line and the
/// answers to the server's `334` challenges.
///
/// Call [`encode_command`](Self::encode_command) once, then for every `334`
/// reply [`receive_challenge`](Self::receive_challenge) with the text after
/// `334 ` and [`encode_response`](Self::encode_response). A `235` reply ends
/// the exchange with success, a `4yz` or `5yz` reply with failure.
#[derive(Clone)]
pub struct Authenticator<'a> {
    mechanism: Mechanism,
    credentials: Credentials<'a>,
    initial_response_sent: bool,
    /// Number of `334` challenges received.
    challenges: u8,
    /// HMAC-MD5 of the CRAM-MD5 challenge, once it has arrived.
    #[cfg(feature = "cram-md5")]
    digest: [u8; 16],
}

impl fmt::Debug for Authenticator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("mechanism", &self.mechanism)
            .field("username", &self.credentials.username)
            .field("initial_response_sent", &self.initial_response_sent)
            .field("challenges", &self.challenges)
            .finish_non_exhaustive()
    }
}

impl<'a> Authenticator<'a> {
    /// Starts an exchange with `mechanism`, after checking that it can
    /// carry `credentials` (see [`Credentials::validate`]).
    pub fn new(mechanism: Mechanism, credentials: &Credentials<'a>) -> Result<Self, AuthError> {
        credentials.validate(mechanism)?;
        Ok(Self {
            mechanism,
            credentials: *credentials,
            initial_response_sent: false,
            challenges: 0,
            #[cfg(feature = "cram-md5")]
            digest: [0; 16],
        })
    }

    /// Returns the mechanism of this exchange.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// Returns whether the `AUTH` line carried the first response.
    pub fn initial_response_sent(&self) -> bool {
        self.initial_response_sent
    }

    /// Writes `AUTH <mechanism>` and, for PLAIN and XOAUTH2, the initial
    /// response (RFC 4954 section 4), ending in CRLF, and returns the
    /// length.
    ///
    /// The initial response is left out when the line would exceed
    /// [`MAX_AUTH_COMMAND_LEN`]; the server then sends an empty `334`
    /// challenge and [`encode_response`](Self::encode_response) writes the
    /// response on a line of its own, which RFC 4954 section 4 does not
    /// limit to 512 octets.
    pub fn encode_command(&mut self, out: &mut [u8]) -> Result<usize, AuthError> {
        let name = self.mechanism.name().as_bytes();
        let bare_len = b"AUTH ".len() + name.len() + b"\r\n".len();

        // The first response rides on the AUTH line when the line stays
        // within the limit. An empty response would be sent as "=".
        let mut initial = None;
        if self.mechanism.has_initial_response()
            && let Some(&response) = self.mechanism.responses().first()
        {
            let encoded = self.encoded_len(response)?;
            let line_len = bare_len.saturating_add(1).saturating_add(encoded.max(1));
            if line_len <= MAX_AUTH_COMMAND_LEN {
                initial = Some((response, line_len));
            }
        }

        let needed = initial.map_or(bare_len, |(_, line_len)| line_len);
        let line = out
            .get_mut(..needed)
            .ok_or(AuthError::BufferTooSmall { needed })?;

        let mut writer = Base64Writer::new(line);
        writer.put_raw(b"AUTH ")?;
        writer.put_raw(name)?;
        if let Some((response, _)) = initial {
            writer.put_raw(b" ")?;
            let start = writer.len;
            self.write_payload(response, &mut writer)?;
            writer.finish()?;
            // RFC 4954 section 4: an empty initial response is sent as "=".
            if writer.len == start {
                writer.put_raw(b"=")?;
            }
        }
        writer.put_raw(b"\r\n")?;
        self.initial_response_sent = initial.is_some();
        Ok(writer.len)
    }

    /// Returns the length of the longest response line this exchange can
    /// send after the `AUTH` line, CRLF included, so that a caller can check
    /// its buffer before the exchange starts.
    pub fn max_response_len(&self) -> Result<usize, AuthError> {
        let mut max = 0;
        for &response in self.mechanism.responses() {
            max = max.max(self.encoded_len(response)?.saturating_add(2));
        }
        Ok(max)
    }

    /// Takes the text of a `334` challenge: the bytes after `334 `, base64
    /// encoded, possibly empty.
    ///
    /// Only CRAM-MD5 reads the text. LOGIN answers by position, and XOAUTH2
    /// answers the provider's error challenge with an empty line whatever
    /// it contains.
    ///
    /// # Errors
    ///
    /// [`AuthError::UnexpectedChallenge`] when the mechanism has already
    /// sent its last response, [`AuthError::InvalidChallenge`] when a
    /// CRAM-MD5 challenge is not base64.
    pub fn receive_challenge(&mut self, text: &[u8]) -> Result<(), AuthError> {
        self.challenges = self.challenges.saturating_add(1);
        let response = self.pending_response()?;
        if response == Response::CramMd5 {
            self.absorb_cram_md5_challenge(trim_spaces(text))?;
        }
        Ok(())
    }

    /// Writes the base64 line, ending in CRLF, that answers the last
    /// challenge passed to [`receive_challenge`](Self::receive_challenge),
    /// and returns its length.
    pub fn encode_response(&self, out: &mut [u8]) -> Result<usize, AuthError> {
        let response = self.pending_response()?;
        let needed = self.encoded_len(response)?.saturating_add(2);
        let line = out
            .get_mut(..needed)
            .ok_or(AuthError::BufferTooSmall { needed })?;

        let mut writer = Base64Writer::new(line);
        self.write_payload(response, &mut writer)?;
        writer.finish()?;
        writer.put_raw(b"\r\n")?;
        Ok(writer.len)
    }

    /// Returns the response due for the last challenge.
    fn pending_response(&self) -> Result<Response, AuthError> {
        let index = usize::from(self.challenges)
            .checked_sub(1)
            .ok_or(AuthError::UnexpectedChallenge)?
            + usize::from(self.initial_response_sent);
        let responses = self.mechanism.responses();
        match responses.get(index) {
            Some(&response) => Ok(response),
            // The provider's error challenge comes after XOAUTH2's only
            // response and is answered with an empty line.
            None if self.mechanism == Mechanism::XOAuth2 && index == responses.len() => {
                Ok(Response::Empty)
            }
            None => Err(AuthError::UnexpectedChallenge),
        }
    }

    /// Returns the base64 length of a response's payload.
    fn encoded_len(&self, response: Response) -> Result<usize, AuthError> {
        let mut counter = Base64Writer::counter();
        self.write_payload(response, &mut counter)?;
        counter.finish()?;
        Ok(counter.len)
    }

    /// Writes a response's payload through the base64 encoder.
    fn write_payload(
        &self,
        response: Response,
        writer: &mut Base64Writer<'_>,
    ) -> Result<(), AuthError> {
        let credentials = &self.credentials;
        let username = credentials.username.as_bytes();
        let secret = credentials.secret_bytes();
        match response {
            Response::Plain => {
                writer.put(credentials.authorization_id.as_bytes())?;
                writer.put(&[0])?;
                writer.put(username)?;
                writer.put(&[0])?;
                writer.put(secret)
            }
            Response::Username => writer.put(username),
            Response::Password => writer.put(secret),
            Response::CramMd5 => {
                writer.put(username)?;
                writer.put(b" ")?;
                writer.put(&self.cram_md5_hex()?)
            }
            Response::XOAuth2 => {
                writer.put(b"user=")?;
                writer.put(username)?;
                writer.put(b"\x01auth=Bearer ")?;
                writer.put(secret)?;
                writer.put(b"\x01\x01")
            }
            Response::Empty => Ok(()),
        }
    }

    #[cfg(feature = "cram-md5")]
    fn absorb_cram_md5_challenge(&mut self, text: &[u8]) -> Result<(), AuthError> {
        use hmac::Mac as _;

        // HMAC takes keys of any length (RFC 2104 section 2), so this
        // never fails.
        let mut mac = hmac::Hmac::<md5::Md5>::new_from_slice(self.credentials.secret_bytes())
            .map_err(|_| AuthError::Unavailable {
                mechanism: Mechanism::CramMd5,
            })?;
        let mut decoder = Base64Decoder::new();
        decoder.feed(text, |bytes| mac.update(bytes))?;
        decoder.finish()?;
        self.digest = mac.finalize().into_bytes().into();
        Ok(())
    }

    #[cfg(not(feature = "cram-md5"))]
    fn absorb_cram_md5_challenge(&mut self, _text: &[u8]) -> Result<(), AuthError> {
        Err(AuthError::Unavailable {
            mechanism: Mechanism::CramMd5,
        })
    }

    /// Returns the digest in lower-case hex, as RFC 2195 section 2 requires.
    #[cfg(feature = "cram-md5")]
    fn cram_md5_hex(&self) -> Result<[u8; 32], AuthError> {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 32];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0x0f)];
        }
        Ok(hex)
    }

    #[cfg(not(feature = "cram-md5"))]
    fn cram_md5_hex(&self) -> Result<[u8; 32], AuthError> {
        Err(AuthError::Unavailable {
            mechanism: Mechanism::CramMd5,
        })
    }
}

fn trim_spaces(text: &[u8]) -> &[u8] {
    let start = text.iter().take_while(|&&b| b == b' ').count();
    let text = text.get(start..).unwrap_or_default();
    let end = text.len() - text.iter().rev().take_while(|&&b| b == b' ').count();
    text.get(..end).unwrap_or_default()
}

/// Number of input bytes the base64 writer collects before encoding them.
/// A multiple of 3, so only the last group of a payload gets padding.
const BASE64_CHUNK: usize = 48;

/// Output line that takes raw bytes and base64 bytes, for input that
/// arrives in pieces. With an empty buffer it only counts, so one function
/// describes a line for both the length check and the write.
struct Base64Writer<'o> {
    out: &'o mut [u8],
    counting: bool,
    len: usize,
    chunk: [u8; BASE64_CHUNK],
    chunk_len: usize,
}

impl<'o> Base64Writer<'o> {
    fn new(out: &'o mut [u8]) -> Self {
        Self {
            out,
            counting: false,
            len: 0,
            chunk: [0; BASE64_CHUNK],
            chunk_len: 0,
        }
    }

    fn counter() -> Base64Writer<'static> {
        Base64Writer {
            out: &mut [],
            counting: true,
            len: 0,
            chunk: [0; BASE64_CHUNK],
            chunk_len: 0,
        }
    }

    /// Appends bytes without encoding them. Call [`finish`](Self::finish)
    /// first when base64 bytes precede them.
    fn put_raw(&mut self, bytes: &[u8]) -> Result<(), AuthError> {
        let end = self.len.checked_add(bytes.len()).ok_or(overflow())?;
        if !self.counting {
            let target = self
                .out
                .get_mut(self.len..end)
                .ok_or(AuthError::BufferTooSmall { needed: end })?;
            target.copy_from_slice(bytes);
        }
        self.len = end;
        Ok(())
    }

    /// Appends bytes to be base64 encoded.
    fn put(&mut self, mut bytes: &[u8]) -> Result<(), AuthError> {
        while !bytes.is_empty() {
            let room = BASE64_CHUNK - self.chunk_len;
            let (head, tail) = bytes.split_at(room.min(bytes.len()));
            self.chunk[self.chunk_len..self.chunk_len + head.len()].copy_from_slice(head);
            self.chunk_len += head.len();
            bytes = tail;
            if self.chunk_len == BASE64_CHUNK {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    /// Encodes the collected bytes, with padding when their number is not a
    /// multiple of 3.
    fn finish(&mut self) -> Result<(), AuthError> {
        self.flush_chunk()
    }

    fn flush_chunk(&mut self) -> Result<(), AuthError> {
        let input = &self.chunk[..self.chunk_len];
        let encoded = base64::encoded_len(input.len(), true).ok_or(overflow())?;
        let end = self.len.checked_add(encoded).ok_or(overflow())?;
        if !self.counting {
            let target = self
                .out
                .get_mut(self.len..end)
                .ok_or(AuthError::BufferTooSmall { needed: end })?;
            STANDARD
                .encode_slice(input, target)
                .map_err(|_| AuthError::BufferTooSmall { needed: end })?;
        }
        self.len = end;
        self.chunk_len = 0;
        Ok(())
    }
}

/// Length overflow: a line longer than memory can hold.
const fn overflow() -> AuthError {
    AuthError::BufferTooSmall { needed: usize::MAX }
}

/// Streaming decoder for standard base64 with padding, which passes the
/// decoded bytes on in groups of up to 3 and keeps no more than one
/// 4-character group, whatever the input length.
#[cfg(any(feature = "cram-md5", test))]
struct Base64Decoder {
    group: [u8; 4],
    group_len: usize,
    /// A padded group has ended the input; nothing may follow.
    ended: bool,
}

#[cfg(any(feature = "cram-md5", test))]
impl Base64Decoder {
    fn new() -> Self {
        Self {
            group: [0; 4],
            group_len: 0,
            ended: false,
        }
    }

    /// Decodes `input` and passes the bytes to `sink`.
    fn feed(&mut self, input: &[u8], mut sink: impl FnMut(&[u8])) -> Result<(), AuthError> {
        for &b in input {
            if self.ended {
                return Err(AuthError::InvalidChallenge);
            }
            self.group[self.group_len] = b;
            self.group_len += 1;
            if self.group_len < self.group.len() {
                continue;
            }
            self.group_len = 0;
            let mut decoded = [0u8; 3];
            let n = STANDARD
                .decode_slice(self.group, &mut decoded)
                .map_err(|_| AuthError::InvalidChallenge)?;
            self.ended = n < decoded.len();
            sink(&decoded[..n]);
        }
        Ok(())
    }

    /// Checks that the input ended on a whole group.
    fn finish(&self) -> Result<(), AuthError> {
        if self.group_len == 0 {
            Ok(())
        } else {
            Err(AuthError::InvalidChallenge)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::assert_same_at_every_split;
    use std::string::String;
    use std::vec::Vec;

    fn command(mechanism: Mechanism, credentials: &Credentials<'_>) -> Result<String, AuthError> {
        let mut authenticator = Authenticator::new(mechanism, credentials)?;
        let mut out = [0u8; 1024];
        let n = authenticator.encode_command(&mut out)?;
        Ok(String::from_utf8(out[..n].to_vec()).unwrap())
    }

    fn respond(
        authenticator: &mut Authenticator<'_>,
        challenge: &[u8],
    ) -> Result<String, AuthError> {
        authenticator.receive_challenge(challenge)?;
        let mut out = [0u8; 4096];
        let n = authenticator.encode_response(&mut out)?;
        Ok(String::from_utf8(out[..n].to_vec()).unwrap())
    }

    fn base64(bytes: &[u8]) -> String {
        let mut out = [0u8; 4096];
        let n = STANDARD.encode_slice(bytes, &mut out).unwrap();
        String::from_utf8(out[..n].to_vec()).unwrap()
    }

    #[test]
    fn plain_rfc4616_examples() {
        // RFC 4616 section 4: "tim" with password "tanstaaftanstaaf" and
        // no authorization identity, then "Kurt" acting as "Ursel".
        let tim = Credentials::new("tim", "tanstaaftanstaaf");
        assert_eq!(
            command(Mechanism::Plain, &tim).unwrap(),
            "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"
        );
        let kurt = Credentials::new("Kurt", "xipj3plmq").with_authorization_id("Ursel");
        assert_eq!(
            command(Mechanism::Plain, &kurt).unwrap(),
            "AUTH PLAIN VXJzZWwAS3VydAB4aXBqM3BsbXE=\r\n"
        );
    }

    #[test]
    fn plain_after_empty_challenge() {
        // A payload that pushes the line over 512 octets waits for `334 `.
        let password = "p".repeat(400);
        let credentials = Credentials::new("tim", &password);
        let mut authenticator = Authenticator::new(Mechanism::Plain, &credentials).unwrap();
        let mut out = [0u8; 1024];
        let n = authenticator.encode_command(&mut out).unwrap();
        assert_eq!(&out[..n], b"AUTH PLAIN\r\n");
        assert!(!authenticator.initial_response_sent());

        let expected = std::format!(
            "{}\r\n",
            base64(std::format!("\0tim\0{password}").as_bytes())
        );
        assert_eq!(respond(&mut authenticator, b"").unwrap(), expected);
        assert_eq!(
            respond(&mut authenticator, b""),
            Err(AuthError::UnexpectedChallenge)
        );
    }

    #[test]
    fn initial_response_limit_exact() {
        // "AUTH PLAIN " (11) + base64 + CRLF (2) = 512 needs 499 base64
        // characters, so 496 (a payload of 372 bytes) is the longest that
        // fits and 500 (373 to 375 bytes) the shortest that does not.
        for (password_len, fits) in [(372 - 2 - 3, true), (373 - 2 - 3, false)] {
            let password = "p".repeat(password_len);
            let credentials = Credentials::new("tim", &password);
            let line = command(Mechanism::Plain, &credentials).unwrap();
            assert_eq!(
                line != "AUTH PLAIN\r\n",
                fits,
                "password length {password_len}"
            );
            assert!(line.len() <= MAX_AUTH_COMMAND_LEN);
        }
    }

    #[test]
    fn login_answers_by_position() {
        let credentials = Credentials::new("pump", "s3cret");
        for (first, second) in [
            (&b"VXNlcm5hbWU6"[..], &b"UGFzc3dvcmQ6"[..]),
            (b"VXNlciBOYW1lAA==", b"UGFzc3dvcmQA"),
            // Swapped texts and text that is not base64 change nothing.
            (b"UGFzc3dvcmQ6", b"VXNlcm5hbWU6"),
            (b"", b"not base64!"),
        ] {
            let mut authenticator = Authenticator::new(Mechanism::Login, &credentials).unwrap();
            let mut out = [0u8; 64];
            let n = authenticator.encode_command(&mut out).unwrap();
            assert_eq!(&out[..n], b"AUTH LOGIN\r\n");
            assert_eq!(respond(&mut authenticator, first).unwrap(), "cHVtcA==\r\n");
            assert_eq!(respond(&mut authenticator, second).unwrap(), "czNjcmV0\r\n");
            assert_eq!(
                respond(&mut authenticator, b"VXNlcm5hbWU6"),
                Err(AuthError::UnexpectedChallenge)
            );
        }
    }

    #[test]
    fn xoauth2_google_example() {
        // The example of Google's XOAUTH2 protocol description.
        let credentials = Credentials::oauth2(
            "someuser@example.com",
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
        );
        assert_eq!(
            command(Mechanism::XOAuth2, &credentials).unwrap(),
            "AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n"
        );
    }

    #[test]
    fn xoauth2_error_challenge_gets_empty_line() {
        let credentials = Credentials::oauth2("pump@example.net", "ya29.token");
        let mut authenticator = Authenticator::new(Mechanism::XOAuth2, &credentials).unwrap();
        let mut out = [0u8; 512];
        authenticator.encode_command(&mut out).unwrap();
        // {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}
        let error = b"eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
        assert_eq!(respond(&mut authenticator, error).unwrap(), "\r\n");
        assert_eq!(
            respond(&mut authenticator, error),
            Err(AuthError::UnexpectedChallenge)
        );
    }

    #[test]
    fn xoauth2_long_token_after_empty_challenge() {
        let token = "t".repeat(1500);
        let credentials = Credentials::oauth2("pump@example.net", &token);
        let mut authenticator = Authenticator::new(Mechanism::XOAuth2, &credentials).unwrap();
        let mut out = [0u8; 64];
        let n = authenticator.encode_command(&mut out).unwrap();
        assert_eq!(&out[..n], b"AUTH XOAUTH2\r\n");

        let payload = std::format!("user=pump@example.net\x01auth=Bearer {token}\x01\x01");
        let expected = std::format!("{}\r\n", base64(payload.as_bytes()));
        assert_eq!(authenticator.max_response_len(), Ok(expected.len()));
        assert_eq!(respond(&mut authenticator, b"").unwrap(), expected);
        // Then the error challenge.
        assert_eq!(respond(&mut authenticator, b"e30=").unwrap(), "\r\n");
    }

    #[cfg(feature = "cram-md5")]
    #[test]
    fn cram_md5_rfc2195_example() {
        let credentials = Credentials::new("tim", "tanstaaftanstaaf");
        let mut authenticator = Authenticator::new(Mechanism::CramMd5, &credentials).unwrap();
        let mut out = [0u8; 64];
        let n = authenticator.encode_command(&mut out).unwrap();
        assert_eq!(&out[..n], b"AUTH CRAM-MD5\r\n");
        // <1896.697170952@postoffice.reston.mci.net>
        let challenge = b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
        assert_eq!(
            respond(&mut authenticator, challenge).unwrap(),
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"
        );
        assert_eq!(
            respond(&mut authenticator, challenge),
            Err(AuthError::UnexpectedChallenge)
        );
    }

    #[cfg(feature = "cram-md5")]
    #[test]
    fn cram_md5_invalid_challenge() {
        let credentials = Credentials::new("tim", "tanstaaftanstaaf");
        for challenge in [&b"PDE4OTY"[..], b"PDE4=Y", b"PD==PDE4", b"!!!!"] {
            let mut authenticator = Authenticator::new(Mechanism::CramMd5, &credentials).unwrap();
            authenticator.encode_command(&mut [0u8; 64]).unwrap();
            assert_eq!(
                authenticator.receive_challenge(challenge),
                Err(AuthError::InvalidChallenge),
                "challenge {challenge:?}"
            );
        }
    }

    #[cfg(not(feature = "cram-md5"))]
    #[test]
    fn cram_md5_unavailable_without_feature() {
        let credentials = Credentials::new("tim", "tanstaaftanstaaf");
        assert_eq!(
            Authenticator::new(Mechanism::CramMd5, &credentials).unwrap_err(),
            AuthError::Unavailable {
                mechanism: Mechanism::CramMd5
            }
        );
    }

    #[test]
    fn line_breaks_rejected_in_every_field() {
        let cases: [(Credentials<'_>, Mechanism, CredentialField); 8] = [
            (
                Credentials::new("a\rb", "x"),
                Mechanism::Plain,
                CredentialField::Username,
            ),
            (
                Credentials::new("ab", "x\ny"),
                Mechanism::Login,
                CredentialField::Password,
            ),
            (
                Credentials::new("a\0b", "x"),
                Mechanism::Plain,
                CredentialField::Username,
            ),
            (
                Credentials::new("ab", "x\0"),
                Mechanism::Plain,
                CredentialField::Password,
            ),
            (
                Credentials::new("ab", "x").with_authorization_id("c\r\nd"),
                Mechanism::Plain,
                CredentialField::AuthorizationId,
            ),
            (
                Credentials::oauth2("a\x01b", "tok"),
                Mechanism::XOAuth2,
                CredentialField::Username,
            ),
            (
                Credentials::oauth2("ab", "t\x01k"),
                Mechanism::XOAuth2,
                CredentialField::AccessToken,
            ),
            (
                Credentials::oauth2("ab", "t k"),
                Mechanism::XOAuth2,
                CredentialField::AccessToken,
            ),
        ];
        for (credentials, mechanism, field) in cases {
            assert_eq!(
                Authenticator::new(mechanism, &credentials).unwrap_err(),
                AuthError::InvalidCharacter { field },
                "{credentials:?} with {mechanism}"
            );
        }
    }

    #[test]
    fn empty_fields_rejected() {
        assert_eq!(
            Authenticator::new(Mechanism::Plain, &Credentials::new("", "x")).unwrap_err(),
            AuthError::Empty {
                field: CredentialField::Username
            }
        );
        assert_eq!(
            Authenticator::new(Mechanism::Login, &Credentials::new("a", "")).unwrap_err(),
            AuthError::Empty {
                field: CredentialField::Password
            }
        );
        assert_eq!(
            Authenticator::new(Mechanism::XOAuth2, &Credentials::oauth2("a", "")).unwrap_err(),
            AuthError::Empty {
                field: CredentialField::AccessToken
            }
        );
    }

    #[test]
    fn secret_kind_must_fit_mechanism() {
        assert_eq!(
            Authenticator::new(Mechanism::XOAuth2, &Credentials::new("a", "pw")).unwrap_err(),
            AuthError::SecretMismatch {
                mechanism: Mechanism::XOAuth2
            }
        );
        assert_eq!(
            Authenticator::new(Mechanism::Plain, &Credentials::oauth2("a", "tok")).unwrap_err(),
            AuthError::SecretMismatch {
                mechanism: Mechanism::Plain
            }
        );
    }

    #[test]
    fn small_buffer_writes_nothing() {
        let credentials = Credentials::new("tim", "tanstaaftanstaaf");
        let full = command(Mechanism::Plain, &credentials).unwrap();
        for len in 0..full.len() {
            let mut authenticator = Authenticator::new(Mechanism::Plain, &credentials).unwrap();
            let mut out = std::vec![0xaau8; len];
            assert_eq!(
                authenticator.encode_command(&mut out),
                Err(AuthError::BufferTooSmall { needed: full.len() })
            );
            assert!(
                out.iter().all(|&b| b == 0xaa),
                "buffer of {len} bytes written"
            );
        }

        let mut authenticator = Authenticator::new(Mechanism::Login, &credentials).unwrap();
        authenticator.encode_command(&mut [0u8; 64]).unwrap();
        authenticator.receive_challenge(b"").unwrap();
        let mut out = [0xaau8; 5];
        assert_eq!(
            authenticator.encode_response(&mut out),
            Err(AuthError::BufferTooSmall { needed: 6 })
        );
        assert_eq!(out, [0xaa; 5]);
    }

    #[test]
    fn response_before_challenge_rejected() {
        let credentials = Credentials::new("tim", "pw");
        let authenticator = Authenticator::new(Mechanism::Login, &credentials).unwrap();
        assert_eq!(
            authenticator.encode_response(&mut [0u8; 64]),
            Err(AuthError::UnexpectedChallenge)
        );
    }

    #[test]
    fn secrets_absent_from_debug_and_errors() {
        let credentials = Credentials::new("pump", "s3cret").with_authorization_id("ops");
        let text = std::format!("{credentials:?}");
        assert!(text.contains("pump"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        let token = Credentials::oauth2("pump", "ya29.secret-token");
        let text = std::format!("{token:?}");
        assert!(!text.contains("ya29"), "{text}");

        let authenticator = Authenticator::new(Mechanism::Plain, &credentials).unwrap();
        let text = std::format!("{authenticator:?}");
        assert!(!text.contains("s3cret"), "{text}");

        let bad = Credentials::new("pump", "s3cret\r\nRCPT TO:<x@y>");
        let error = Authenticator::new(Mechanism::Plain, &bad).unwrap_err();
        for text in [std::format!("{error}"), std::format!("{error:?}")] {
            assert!(!text.contains("s3cret"), "{text}");
            assert!(!text.contains("RCPT"), "{text}");
        }
    }

    #[test]
    fn preferred_mechanism_order() {
        let password = Credentials::new("a", "b");
        let token = Credentials::oauth2("a", "b");
        let all = AuthMechanisms::PLAIN
            .union(AuthMechanisms::LOGIN)
            .union(AuthMechanisms::CRAM_MD5)
            .union(AuthMechanisms::XOAUTH2);
        let expected = if cfg!(feature = "cram-md5") {
            Mechanism::CramMd5
        } else {
            Mechanism::Plain
        };
        assert_eq!(Mechanism::preferred(all, all, &password), Some(expected));
        assert_eq!(
            Mechanism::preferred(all, all, &token),
            Some(Mechanism::XOAuth2)
        );
        assert_eq!(
            Mechanism::preferred(all, AuthMechanisms::LOGIN, &password),
            Some(Mechanism::Login)
        );
        assert_eq!(
            Mechanism::preferred(AuthMechanisms::LOGIN, all, &password),
            Some(Mechanism::Login)
        );
        assert_eq!(
            Mechanism::preferred(all, AuthMechanisms::PLAIN, &token),
            None
        );
        assert_eq!(
            Mechanism::preferred(all, AuthMechanisms::NONE, &password),
            None
        );
    }

    /// Encodes `pieces` through one writer, the way a payload arrives as
    /// several fields.
    fn encode_pieces(pieces: &[&[u8]]) -> Vec<u8> {
        let mut out = std::vec![0u8; 4096];
        let mut writer = Base64Writer::new(&mut out);
        for piece in pieces {
            writer.put(piece).unwrap();
        }
        writer.finish().unwrap();
        let len = writer.len;
        out.truncate(len);
        out
    }

    #[test]
    fn base64_writer_same_at_every_split() {
        let inputs: [&[u8]; 6] = [
            b"",
            b"a",
            b"ab",
            b"\0tim\0tanstaaftanstaaf",
            &[0xffu8; 47],
            &[0x5au8; 145],
        ];
        for input in inputs {
            let encoded = assert_same_at_every_split(input, encode_pieces);
            assert_eq!(String::from_utf8(encoded).unwrap(), base64(input));
        }
    }

    #[test]
    fn base64_writer_counts_what_it_writes() {
        for len in 0..200 {
            let input = std::vec![0x41u8; len];
            let mut counter = Base64Writer::counter();
            counter.put(&input).unwrap();
            counter.finish().unwrap();
            assert_eq!(counter.len, base64(&input).len(), "input of {len} bytes");
        }
    }

    fn decode_pieces(pieces: &[&[u8]]) -> Result<Vec<u8>, AuthError> {
        let mut decoder = Base64Decoder::new();
        let mut decoded = Vec::new();
        for piece in pieces {
            decoder.feed(piece, |bytes| decoded.extend_from_slice(bytes))?;
        }
        decoder.finish()?;
        Ok(decoded)
    }

    #[test]
    fn base64_decoder_same_at_every_split() {
        for input in [
            &b""[..],
            b"YQ==",
            b"YWI=",
            b"YWJj",
            b"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
        ] {
            let decoded = assert_same_at_every_split(input, decode_pieces).unwrap();
            let mut expected = [0u8; 64];
            let n = STANDARD.decode_slice(input, &mut expected).unwrap();
            assert_eq!(decoded, &expected[..n]);
        }
    }

    #[test]
    fn base64_decoder_rejects_invalid_input() {
        for input in [&b"YQ"[..], b"YQ==YQ==", b"Y===", b"YW!j", b"YWJj\r\n"] {
            let result = assert_same_at_every_split(input, decode_pieces);
            assert_eq!(result, Err(AuthError::InvalidChallenge), "input {input:?}");
        }
    }
}
