//! STARTTLS (RFC 3207) and the TLS policies of session setup.

use embedded_io::ErrorType;
use embedded_io_async::{Read, Write};

use super::Config;
use super::error::{Error, ProtocolError};
use super::session::{Client, State};
use crate::codec::command::{Command, CommandKind};
use crate::codec::ehlo::{Extension, Extensions};
use crate::codec::reply::{ReplyCode, ReplyParser};
use crate::tls::{MaybeTls, MaybeTlsError, TlsPolicy, TlsUpgrade};

/// Session error over a [`MaybeTls`] transport.
type TlsSessionError<P, S> = Error<MaybeTlsError<<P as ErrorType>::Error, <S as ErrorType>::Error>>;

impl<'b, P, S> Client<'b, MaybeTls<P, S>>
where
    P: Read + Write,
    S: Read + Write,
{
    /// Connects with the given TLS policy: reads the greeting and greets
    /// like [`Client::connect`], upgrading with `upgrade` where the policy
    /// asks for it.
    ///
    /// - [`TlsPolicy::None`]: plaintext; `upgrade` is dropped unused.
    /// - [`TlsPolicy::Opportunistic`]: STARTTLS when the EHLO reply offers
    ///   it. When it is not offered, or the server rejects STARTTLS with a
    ///   negative reply, the session goes on in plaintext; check
    ///   [`Client::is_secure`] to learn which happened.
    /// - [`TlsPolicy::Required`]: STARTTLS, and an error when it is not
    ///   offered or rejected. QUIT is sent in both cases; nothing else.
    /// - [`TlsPolicy::Implicit`]: the handshake runs before the greeting,
    ///   and the session is marked secure.
    ///
    /// `config.secure` is ignored: the policy decides.
    ///
    /// # Errors
    ///
    /// Those of [`Client::connect`] and [`Client::starttls`], and
    /// [`Error::TlsNotOffered`] under `Required`. A failed handshake cannot
    /// fall back to plaintext on the same connection: a caller that accepts
    /// plaintext reconnects with [`TlsPolicy::None`].
    pub async fn connect_with_tls<U>(
        io: P,
        buf: &'b mut [u8],
        config: &Config<'_>,
        policy: TlsPolicy,
        upgrade: U,
    ) -> Result<Self, TlsSessionError<P, S>>
    where
        U: TlsUpgrade<P, Stream = S>,
    {
        let plain_config = Config {
            secure: false,
            ..*config
        };
        let upgrade = match policy {
            TlsPolicy::Implicit => {
                let stream = upgrade
                    .upgrade(io)
                    .await
                    .map_err(|e| handshake_error::<P, U>(e))?;
                let secure_config = Config {
                    secure: true,
                    ..*config
                };
                return Client::connect(MaybeTls::Tls(stream), buf, &secure_config).await;
            }
            TlsPolicy::None => {
                return Client::connect(MaybeTls::Plain(io), buf, &plain_config).await;
            }
            TlsPolicy::Opportunistic | TlsPolicy::Required => upgrade,
        };

        let mut client = Client::connect(MaybeTls::Plain(io), buf, &plain_config).await?;
        let required = policy == TlsPolicy::Required;
        let result = client.starttls(config.client_id, upgrade).await;
        match result {
            Ok(()) => Ok(client),
            Err(Error::TlsNotOffered) if !required => {
                debug!("server does not offer STARTTLS; the session stays in plaintext");
                Ok(client)
            }
            Err(Error::Reply { command, reply })
                if !required && command == CommandKind::StartTls && client.is_open() =>
            {
                debug!(
                    "STARTTLS rejected with {}; the session stays in plaintext",
                    reply
                );
                Ok(client)
            }
            Err(e) => {
                // QUIT carries nothing worth protecting. It is skipped when
                // the session is closed, as after a failed handshake.
                let _ = client.quit_inner().await;
                Err(e)
            }
        }
    }

    /// Upgrades the session to TLS with STARTTLS (RFC 3207), then greets
    /// again with EHLO (or LHLO) as `client_id` over TLS.
    ///
    /// Does nothing when the session is already secure. Once the server
    /// accepts STARTTLS with 220, everything the client learned before TLS,
    /// the extension list included, is discarded (RFC 3207 section 4.2),
    /// and the new EHLO reply replaces it.
    ///
    /// # Errors
    ///
    /// - [`Error::TlsNotOffered`] when the EHLO reply does not list
    ///   STARTTLS; nothing is sent and the session stays usable.
    /// - [`Error::Reply`] when the server rejects STARTTLS, such as
    ///   `454 4.7.0` (transient) or `502` (permanent); the session stays
    ///   usable in plaintext.
    /// - [`ProtocolError::DataAfterStartTls`] when bytes beyond the 220
    ///   line arrived before the handshake. They were not protected by TLS,
    ///   so reading them as replies afterwards would let an attacker on the
    ///   path inject responses. The session is closed and nothing more is
    ///   sent.
    /// - [`Error::TlsHandshake`] when the handshake fails; the session is
    ///   closed.
    /// - The errors of the greeting over TLS.
    pub async fn starttls<U>(
        &mut self,
        client_id: &str,
        upgrade: U,
    ) -> Result<(), TlsSessionError<P, S>>
    where
        U: TlsUpgrade<P, Stream = S>,
    {
        if self.secure || self.io.is_tls() {
            return Ok(());
        }
        self.ensure_open()?;
        if !self.extensions.contains(Extension::StartTls) {
            return Err(Error::TlsNotOffered);
        }

        self.write_command(&Command::StartTls).await?;
        self.flush().await?;
        self.expect(CommandKind::StartTls, |code| {
            code == ReplyCode::SERVICE_READY
        })
        .await?;

        if self.rx_start != self.rx_end {
            debug!(
                "{} bytes after the STARTTLS reply, before the handshake",
                self.rx_end - self.rx_start
            );
            self.state = State::Closed;
            return Err(ProtocolError::DataAfterStartTls.into());
        }

        let MaybeTls::Plain(plain) = core::mem::replace(&mut self.io, MaybeTls::Upgrading) else {
            // `is_tls` was false above, and `Upgrading` is left behind only
            // by a handshake that failed, which closed the session.
            self.state = State::Closed;
            return Err(Error::Closed);
        };
        match upgrade.upgrade(plain).await {
            Ok(stream) => self.io = MaybeTls::Tls(stream),
            Err(e) => {
                self.state = State::Closed;
                return Err(handshake_error::<P, U>(e));
            }
        }
        trace!("TLS handshake complete");

        self.secure = true;
        self.extensions = Extensions::new();
        self.rx_start = 0;
        self.rx_end = 0;
        self.parser = ReplyParser::new();
        if let Err(e) = self.greet(client_id).await {
            let _ = self.quit_inner().await;
            return Err(e);
        }
        Ok(())
    }
}

fn handshake_error<P, U>(error: <U::Stream as ErrorType>::Error) -> TlsSessionError<P, U::Stream>
where
    P: ErrorType,
    U: TlsUpgrade<P>,
{
    Error::TlsHandshake {
        transient: U::is_transient(&error),
        error: MaybeTlsError::Tls(error),
    }
}
