//! SMTP authentication (RFC 4954) on a client session.

use embedded_io_async::{Read, Write};

use super::error::{AuthFailure, Error, InputError, ProtocolError};
use super::session::{Client, State};
use crate::codec::auth::{AuthError, Authenticator, Credentials, Mechanism};
use crate::codec::command::CommandKind;
use crate::codec::ehlo::AuthMechanisms;
use crate::codec::reply::ReplyCode;

/// Mechanism choice and transport policy of [`Client::authenticate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthOptions {
    /// Mechanisms the client may choose from. Default: all four. CRAM-MD5
    /// is chosen only when the `cram-md5` feature is enabled.
    pub enabled: AuthMechanisms,
    /// Use this mechanism and no other, even when it is not in `enabled`;
    /// authentication fails when the server does not offer it.
    pub mechanism: Option<Mechanism>,
    /// Send credentials over a transport that is not encrypted. PLAIN and
    /// LOGIN then expose the password to anyone on the path, because base64
    /// is no protection. Default: false.
    pub allow_plaintext: bool,
}

impl AuthOptions {
    /// Creates the default options: every mechanism enabled, none forced,
    /// plaintext not allowed.
    pub const fn new() -> Self {
        Self {
            enabled: AuthMechanisms::PLAIN
                .union(AuthMechanisms::LOGIN)
                .union(AuthMechanisms::CRAM_MD5)
                .union(AuthMechanisms::XOAUTH2),
            mechanism: None,
            allow_plaintext: false,
        }
    }
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Read + Write> Client<'_, T> {
    /// Authenticates with AUTH (RFC 4954) and returns the mechanism used.
    ///
    /// Without a forced mechanism the client takes the first mechanism of
    /// [`Mechanism::PREFERENCE`] (XOAUTH2, CRAM-MD5, PLAIN, LOGIN) that is
    /// enabled, offered in the EHLO reply, and compiled in. It must also
    /// suit the credentials: XOAUTH2 takes an access token, the others a
    /// password.
    ///
    /// PLAIN and XOAUTH2 send their response on the AUTH line when the line
    /// stays within 512 octets, and otherwise after the server's empty
    /// `334` challenge. LOGIN answers its two challenges by position,
    /// whatever their text. When the XOAUTH2 provider rejects the token
    /// with a `334` error challenge, the client answers with an empty line
    /// and reports the final `535` as [`AuthFailure::CredentialsInvalid`].
    ///
    /// The extensions from EHLO stay as they are after success: RFC 4954
    /// section 4 asks for a new EHLO only after a SASL security layer, and
    /// none of these mechanisms negotiates one. The trace log shows
    /// `C: AUTH PLAIN <redacted>` and `C: <redacted>` in place of every
    /// line that carries credentials.
    ///
    /// # Errors
    ///
    /// Rejected before anything is sent, as [`Error::Input`]: a transport
    /// that is not encrypted ([`Client::is_secure`]) without
    /// [`AuthOptions::allow_plaintext`]; no usable mechanism; a forced
    /// mechanism the server does not offer; credentials with CR, LF or NUL.
    /// [`Error::BufferTooSmall`] when a response line (a long access token)
    /// does not fit the transmit half of the session buffer.
    ///
    /// [`Error::Auth`] when the server rejects authentication, with the
    /// reason from the reply code: 535, 534, 538 and 504 are permanent,
    /// 454 is transient. A challenge the mechanism cannot answer is
    /// cancelled with `*` and returned as [`Error::Protocol`].
    pub async fn authenticate(
        &mut self,
        credentials: &Credentials<'_>,
        options: &AuthOptions,
    ) -> Result<Mechanism, Error<T::Error>> {
        self.ensure_open()?;
        // RFC 4954 section 9: an implementation of PLAIN must offer a
        // configuration that never uses it without TLS. Here it is the
        // default, and the check comes before any byte is sent.
        if !self.secure && !options.allow_plaintext {
            return Err(InputError::AuthNotEncrypted.into());
        }
        let mechanism = self.choose_mechanism(credentials, options)?;
        let mut authenticator =
            Authenticator::new(mechanism, credentials).map_err(InputError::Auth)?;
        self.check_response_fits(&authenticator)?;

        if self.tx_len > 0 {
            self.flush().await?;
        }
        let len = authenticator
            .encode_command(self.tx)
            .map_err(InputError::Auth)?;
        let redacted = if authenticator.initial_response_sent() {
            " <redacted>"
        } else {
            ""
        };
        trace!("C: AUTH {}{}", mechanism.name(), redacted);
        self.send_auth_line(len).await?;

        loop {
            let mut challenge = Ok(());
            let reply = self
                .read_reply_lines(CommandKind::Auth, |line| {
                    if line.last && line.code == ReplyCode::AUTH_CONTINUE {
                        challenge = authenticator.receive_challenge(line.text);
                    }
                })
                .await?;

            // RFC 4954 section 4: 235 and nothing else reports success;
            // any other 2yz code falls through to the protocol error below.
            if reply.code == ReplyCode::AUTH_SUCCEEDED {
                return Ok(mechanism);
            }
            if reply.code.is_transient() || reply.code.is_permanent() {
                return Err(Error::Auth {
                    mechanism,
                    failure: AuthFailure::from_reply(&reply),
                    reply,
                });
            }
            if reply.code != ReplyCode::AUTH_CONTINUE {
                // A success code other than 235, or a server waiting for
                // input that AUTH does not define.
                self.state = State::Closed;
                return Err(ProtocolError::UnexpectedCode {
                    command: CommandKind::Auth,
                    code: reply.code,
                }
                .into());
            }

            match challenge.and_then(|()| authenticator.encode_response(self.tx)) {
                Ok(len) => {
                    trace!("C: <redacted>");
                    self.send_auth_line(len).await?;
                }
                Err(error) => {
                    self.cancel_exchange().await?;
                    return Err(challenge_error(error, reply.code));
                }
            }
        }
    }

    /// Returns the forced mechanism, or the preferred one both sides
    /// support.
    fn choose_mechanism(
        &self,
        credentials: &Credentials<'_>,
        options: &AuthOptions,
    ) -> Result<Mechanism, InputError> {
        let offered = self.extensions().auth_mechanisms();
        let Some(mechanism) = options.mechanism else {
            return Mechanism::preferred(options.enabled, offered, credentials)
                .ok_or(InputError::NoCommonMechanism { offered });
        };

        // The caller's own mistakes come first: a mechanism not compiled
        // in, or a password where a token is needed.
        credentials.validate(mechanism).map_err(InputError::Auth)?;
        if !offered.contains(mechanism.as_set()) {
            return Err(InputError::MechanismNotOffered { mechanism, offered });
        }
        Ok(mechanism)
    }

    /// Rejects an exchange whose response lines cannot fit the transmit
    /// buffer, before the AUTH line is sent.
    fn check_response_fits(
        &self,
        authenticator: &Authenticator<'_>,
    ) -> Result<(), Error<T::Error>> {
        let needed = authenticator.max_response_len().map_err(InputError::Auth)?;
        if needed > self.tx.len() {
            // The transmit half is half of the caller's buffer.
            return Err(Error::BufferTooSmall {
                needed: needed.saturating_mul(2),
            });
        }
        Ok(())
    }

    /// Sends the first `len` bytes of the transmit buffer, an AUTH line, and
    /// overwrites them, so that no credentials stay in the caller's buffer.
    async fn send_auth_line(&mut self, len: usize) -> Result<(), Error<T::Error>> {
        self.tx_len = len;
        let result = self.flush().await;
        if let Some(sent) = self.tx.get_mut(..len) {
            sent.fill(0);
        }
        self.tx_len = 0;
        result
    }

    /// Cancels the exchange with `*` (RFC 4954 section 4) and reads the
    /// server's reply, which is 501 when the server follows the RFC.
    async fn cancel_exchange(&mut self) -> Result<(), Error<T::Error>> {
        const CANCEL: &[u8] = b"*\r\n";
        let Some(line) = self.tx.get_mut(..CANCEL.len()) else {
            self.state = State::Closed;
            return Err(Error::BufferTooSmall {
                needed: super::MIN_BUFFER_LEN,
            });
        };
        line.copy_from_slice(CANCEL);
        trace!("C: *");
        self.tx_len = CANCEL.len();
        self.flush().await?;
        self.read_reply(CommandKind::Auth).await?;
        Ok(())
    }
}

/// Converts the error of a `334` challenge into the session error.
fn challenge_error<E>(error: AuthError, code: ReplyCode) -> Error<E> {
    match error {
        AuthError::UnexpectedChallenge => ProtocolError::UnexpectedCode {
            command: CommandKind::Auth,
            code,
        }
        .into(),
        AuthError::InvalidChallenge => ProtocolError::InvalidAuthChallenge.into(),
        AuthError::BufferTooSmall { needed } => Error::BufferTooSmall {
            needed: needed.saturating_mul(2),
        },
        other => InputError::Auth(other).into(),
    }
}
