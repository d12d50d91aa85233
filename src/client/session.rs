//! Connection setup, reply reading and command writing.

use embedded_io_async::{Read, Write};

use super::error::{Error, InputError, ProtocolError, REPLY_TEXT_LEN, Reply};
use super::{Config, MIN_BUFFER_LEN, Protocol};
use crate::codec::Status;
use crate::codec::address::validate_domain;
use crate::codec::command::{Command, CommandKind, EncodeError};
use crate::codec::ehlo::Extensions;
use crate::codec::reply::{ReplyCode, ReplyLine, ReplyParser};
use crate::fmt::Bytes;

/// Whether the session can still send commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Ready,
    /// The server sent 421, the transport failed, or the data phase was
    /// aborted: no further command, QUIT included, may be sent.
    Closed,
}

/// An SMTP or LMTP client session over a transport `T`.
///
/// Create it with [`Client::connect`], send messages with the `send_*`
/// methods, and end it with [`Client::quit`], or use [`with_session`], which
/// always sends QUIT.
pub struct Client<'b, T> {
    pub(super) io: T,
    rx: &'b mut [u8],
    pub(super) rx_start: usize,
    pub(super) rx_end: usize,
    pub(super) tx: &'b mut [u8],
    pub(super) tx_len: usize,
    pub(super) parser: ReplyParser,
    pub(super) extensions: Extensions,
    pub(super) protocol: Protocol,
    pub(super) state: State,
    /// The transport is encrypted, so AUTH may send credentials: implicit
    /// TLS declared in [`Config::secure`], or a successful STARTTLS.
    pub(super) secure: bool,
}

impl<T> core::fmt::Debug for Client<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("protocol", &self.protocol)
            .field("extensions", &self.extensions)
            .field("state", &self.state)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl<'b, T: Read + Write> Client<'b, T> {
    /// Reads the server greeting and greets with EHLO (or LHLO for LMTP).
    ///
    /// When the server replies to EHLO with 500 or 502 (command not
    /// recognised), the client falls back to HELO and uses no extensions.
    /// `buf` must hold at least [`MIN_BUFFER_LEN`] bytes.
    ///
    /// # Errors
    ///
    /// A 554 or 421 greeting, a refused EHLO/HELO, an invalid `client_id`, a
    /// transport failure or a malformed reply. After a 554 greeting or a
    /// refused EHLO/HELO the client sends QUIT before returning; after 421 or a transport failure it sends nothing.
    pub async fn connect(
        io: T,
        buf: &'b mut [u8],
        config: &Config<'_>,
    ) -> Result<Self, Error<T::Error>> {
        if buf.len() < MIN_BUFFER_LEN {
            return Err(Error::BufferTooSmall {
                needed: MIN_BUFFER_LEN,
            });
        }
        validate_domain(config.client_id)
            .map_err(|e| InputError::Encode(EncodeError::InvalidDomain(e)))?;

        let (rx, tx) = buf.split_at_mut(buf.len() / 2);
        let mut client = Client {
            io,
            rx,
            rx_start: 0,
            rx_end: 0,
            tx,
            tx_len: 0,
            parser: ReplyParser::new(),
            extensions: Extensions::new(),
            protocol: config.protocol,
            state: State::Ready,
            secure: config.secure,
        };

        let greeting = client.read_reply(CommandKind::Greeting).await?;
        if greeting.code != ReplyCode::SERVICE_READY {
            if !is_negative(greeting.code) {
                return Err(client.unexpected(CommandKind::Greeting, &greeting));
            }
            if greeting.code.is_permanent() {
                // RFC 5321 section 3.1: a server that greets with 554 waits
                // for QUIT before it closes the connection. The caller gets
                // the greeting error whatever QUIT returns.
                let _ = client.quit_inner().await;
            }
            return Err(Error::Reply {
                command: CommandKind::Greeting,
                reply: greeting,
            });
        }

        if let Err(e) = client.greet(config.client_id).await {
            // End the session cleanly unless the server already closed it.
            let _ = client.quit_inner().await;
            return Err(e);
        }
        Ok(client)
    }

    /// Sends EHLO (or LHLO) and records the extensions; falls back to HELO.
    pub(super) async fn greet(&mut self, client_id: &str) -> Result<(), Error<T::Error>> {
        let command = match self.protocol {
            Protocol::Smtp => Command::Ehlo(client_id),
            Protocol::Lmtp => Command::Lhlo(client_id),
        };
        self.write_command(&command).await?;
        self.flush().await?;

        let mut extensions = Extensions::new();
        let mut first = true;
        let reply = self
            .read_reply_lines(command.kind(), |line| {
                // The first line carries the server's name; every further
                // line is one extension keyword with its parameters.
                if !first {
                    extensions.parse_line(line.text);
                }
                first = false;
            })
            .await?;

        if reply.code.is_positive_completion() {
            self.extensions = extensions;
            return Ok(());
        }

        let not_recognised = matches!(reply.code.get(), 500 | 502);
        if self.protocol == Protocol::Lmtp || !not_recognised {
            return Err(self.refusal(command.kind(), reply));
        }

        // RFC 5321 section 3.2: a server without extensions replies 500 or
        // 502 to EHLO, and the client falls back to HELO.
        self.extensions = Extensions::new();
        self.write_command(&Command::Helo(client_id)).await?;
        self.flush().await?;
        self.expect(CommandKind::Helo, ReplyCode::is_positive_completion)
            .await
            .map(|_| ())
    }

    /// Returns the extensions the server advertised in its EHLO or LHLO
    /// reply; empty after a HELO fallback.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// Returns true when the transport is encrypted (implicit TLS declared
    /// in [`Config::secure`], or STARTTLS succeeded), which
    /// [`Client::authenticate`] requires unless plaintext is allowed.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Returns true while the session can send commands, and false after a
    /// 421 reply, a transport failure or an aborted data phase.
    pub fn is_open(&self) -> bool {
        self.state == State::Ready
    }

    /// Sends NOOP and returns the server's reply.
    pub async fn noop(&mut self) -> Result<Reply, Error<T::Error>> {
        self.simple_command(Command::Noop).await
    }

    /// Sends RSET, which aborts the current transaction on the server.
    pub async fn rset(&mut self) -> Result<Reply, Error<T::Error>> {
        self.simple_command(Command::Rset).await
    }

    /// Sends QUIT, waits for the reply and returns the transport.
    ///
    /// When the session is already closed (after 421 or a transport
    /// failure) no QUIT is sent and the transport is returned as it is.
    pub async fn quit(mut self) -> Result<T, Error<T::Error>> {
        self.quit_inner().await?;
        Ok(self.io)
    }

    /// Returns the transport without sending QUIT.
    pub fn into_inner(self) -> T {
        self.io
    }

    pub(super) async fn quit_inner(&mut self) -> Result<(), Error<T::Error>> {
        if self.state == State::Closed {
            return Ok(());
        }
        let result = self.simple_command(Command::Quit).await;
        // After QUIT, whatever its reply, the session is over.
        self.state = State::Closed;
        result.map(|_| ())
    }

    async fn simple_command(&mut self, command: Command<'_>) -> Result<Reply, Error<T::Error>> {
        self.ensure_open()?;
        self.write_command(&command).await?;
        self.flush().await?;
        self.expect(command.kind(), ReplyCode::is_positive_completion)
            .await
    }

    pub(super) fn ensure_open(&self) -> Result<(), Error<T::Error>> {
        match self.state {
            State::Ready => Ok(()),
            State::Closed => Err(Error::Closed),
        }
    }

    /// Reads a reply and turns a code that `accept` rejects into an error.
    pub(super) async fn expect(
        &mut self,
        command: CommandKind,
        accept: fn(ReplyCode) -> bool,
    ) -> Result<Reply, Error<T::Error>> {
        let reply = self.read_reply(command).await?;
        if accept(reply.code) {
            Ok(reply)
        } else {
            Err(self.refusal(command, reply))
        }
    }

    /// Turns a reply that does not fit `command` into an error: a 4yz or
    /// 5yz reply is a refusal, any other code breaks the protocol.
    pub(super) fn refusal(&mut self, command: CommandKind, reply: Reply) -> Error<T::Error> {
        if is_negative(reply.code) {
            Error::Reply { command, reply }
        } else {
            self.unexpected(command, &reply)
        }
    }

    /// Closes the session after a positive or intermediate reply that does
    /// not fit the command, such as 354 to MAIL or 250 to DATA: client and
    /// server no longer agree on the state of the dialog.
    pub(super) fn unexpected(&mut self, command: CommandKind, reply: &Reply) -> Error<T::Error> {
        debug!("unexpected reply code {} to {}", reply.code, command);
        self.state = State::Closed;
        Error::Protocol(ProtocolError::UnexpectedCode {
            command,
            code: reply.code,
        })
    }

    /// Reads one complete reply.
    ///
    /// A 421 reply closes the session and is returned as an error, whatever
    /// the command: RFC 5321 section 3.8 lets a server send it at any time
    /// before it closes the connection.
    pub(super) async fn read_reply(
        &mut self,
        command: CommandKind,
    ) -> Result<Reply, Error<T::Error>> {
        self.read_reply_lines(command, |_| {}).await
    }

    /// Reads one complete reply, passing every line to `on_line`.
    pub(super) async fn read_reply_lines<F>(
        &mut self,
        command: CommandKind,
        mut on_line: F,
    ) -> Result<Reply, Error<T::Error>>
    where
        F: FnMut(&ReplyLine<'_>),
    {
        let mut first: Option<Reply> = None;
        loop {
            let input = &self.rx[self.rx_start..self.rx_end];
            let parsed = match self.parser.parse_line(input) {
                Ok(parsed) => parsed,
                Err(e) => {
                    debug!("malformed reply to {}: {}", command, e);
                    self.state = State::Closed;
                    return Err(Error::Protocol(ProtocolError::Reply(e)));
                }
            };
            let Status::Complete((line, consumed)) = parsed else {
                self.fill().await?;
                continue;
            };

            trace!("S: {}", Bytes(trim_line_end(&input[..consumed])));
            on_line(&line);
            let last = line.last;
            let reply = match first.take() {
                Some(reply) => reply,
                None => reply_from_line(&line),
            };
            self.rx_start += consumed;
            if !last {
                first = Some(reply);
                continue;
            }

            if reply.code == ReplyCode::SERVICE_NOT_AVAILABLE {
                self.state = State::Closed;
                return Err(Error::Reply { command, reply });
            }
            return Ok(reply);
        }
    }

    /// Reads more bytes into the receive buffer, moving the unconsumed part
    /// to its front first.
    async fn fill(&mut self) -> Result<(), Error<T::Error>> {
        if self.rx_start > 0 {
            self.rx.copy_within(self.rx_start..self.rx_end, 0);
            self.rx_end -= self.rx_start;
            self.rx_start = 0;
        }
        if self.rx_end == self.rx.len() {
            self.state = State::Closed;
            return Err(Error::Protocol(ProtocolError::LineTooLong {
                max: self.rx.len(),
            }));
        }
        match self.io.read(&mut self.rx[self.rx_end..]).await {
            Ok(0) => {
                self.state = State::Closed;
                Err(Error::UnexpectedEof)
            }
            Ok(n) => {
                self.rx_end += n;
                Ok(())
            }
            Err(e) => {
                self.state = State::Closed;
                Err(Error::Io(e))
            }
        }
    }

    /// Appends a command to the transmit buffer, flushing first when it does
    /// not fit. Commands are validated before any byte is queued.
    pub(super) async fn write_command(
        &mut self,
        command: &Command<'_>,
    ) -> Result<(), Error<T::Error>> {
        self.ensure_open()?;
        let written = match command.encode(&mut self.tx[self.tx_len..]) {
            Ok(n) => n,
            Err(EncodeError::BufferTooSmall { .. }) if self.tx_len > 0 => {
                self.flush().await?;
                command
                    .encode(&mut self.tx[self.tx_len..])
                    .map_err(InputError::Encode)?
            }
            Err(e) => return Err(InputError::Encode(e).into()),
        };
        let line = &self.tx[self.tx_len..self.tx_len + written];
        trace!("C: {}", Bytes(trim_line_end(line)));
        self.tx_len += written;
        Ok(())
    }

    /// Writes out the transmit buffer.
    pub(super) async fn flush(&mut self) -> Result<(), Error<T::Error>> {
        let mut sent = 0;
        while sent < self.tx_len {
            match self.io.write(&self.tx[sent..self.tx_len]).await {
                Ok(0) => {
                    self.state = State::Closed;
                    return Err(Error::UnexpectedEof);
                }
                Ok(n) => sent += n,
                Err(e) => {
                    self.state = State::Closed;
                    return Err(Error::Io(e));
                }
            }
        }
        self.tx_len = 0;
        if let Err(e) = self.io.flush().await {
            self.state = State::Closed;
            return Err(Error::Io(e));
        }
        Ok(())
    }
}

/// Runs `f` over a new session and sends QUIT afterwards on every path:
/// success, an SMTP error or an early return. QUIT is skipped only when the
/// session is already closed (421 or a transport failure).
///
/// Returns `f`'s result; an error from QUIT is returned only when `f`
/// succeeded.
///
/// ```no_run
/// # async fn example<T: embedded_io_async::Read + embedded_io_async::Write>(socket: T) {
/// use embedded_smtp::client::{Config, Envelope, RecipientResult, with_session};
///
/// let mut buf = [0u8; 2048];
/// let mut results = [RecipientResult::NotAttempted; 1];
/// let config = Config::new("pump-7.example.net");
/// let envelope = Envelope::new("pump-7@example.net", &["ops@example.net"]);
/// let body = b"Subject: pressure alarm\r\n\r\nPressure above 6 bar.\r\n";
/// let sent = with_session(socket, &mut buf, &config, async |client| {
///     client.send_slice(&envelope, body, &mut results).await
/// })
/// .await;
/// # }
/// ```
pub async fn with_session<'b, T, F, R>(
    io: T,
    buf: &'b mut [u8],
    config: &Config<'_>,
    f: F,
) -> Result<R, Error<T::Error>>
where
    T: Read + Write,
    F: for<'c> AsyncFnOnce(&'c mut Client<'b, T>) -> Result<R, Error<T::Error>>,
{
    let mut client = Client::connect(io, buf, config).await?;
    let result = f(&mut client).await;
    let quit = client.quit_inner().await;
    match (result, quit) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), _) => Err(e),
    }
}

/// Returns true for 4yz and 5yz replies.
pub(super) fn is_negative(code: ReplyCode) -> bool {
    code.is_transient() || code.is_permanent()
}

/// Builds the kept form of a reply from its first line.
fn reply_from_line(line: &ReplyLine<'_>) -> Reply {
    let text = line.text_after_enhanced();
    let kept = &text[..text.len().min(REPLY_TEXT_LEN)];
    let mut reply = Reply::new(line.code);
    reply.enhanced = line.enhanced;
    // `kept` is at most REPLY_TEXT_LEN bytes, so this always fits.
    let _ = reply.text.extend_from_slice(kept);
    reply
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}
