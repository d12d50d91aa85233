//! The command dialogue of RFC 5321 section 4.1 and the DATA phase of
//! section 4.5.2, one async method per step.

use core::fmt;

use embedded_io_async::{Read, Write};

use super::buffers::{Input, Line, Output, ReplyLine};
use super::{
    AbortReason, Config, Ended, Handler, MailRejection, REPLY_BUFFER_LEN, Reject, ServeError,
};
use crate::codec::server::{
    Command, CommandError, DataError, EnhancedCode, MailParameters, ParameterError, Parameters,
    Unstuffer, parse_command,
};
use crate::fmt::Bytes;

/// Greeting the client sent last.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Greeting {
    Ehlo,
    Helo,
}

/// The open mail transaction.
struct Transaction {
    recipients: usize,
    smtputf8: bool,
}

/// Next step of the command loop after a command.
enum Next {
    Command,
    Data,
    Quit,
}

/// Reason a message is refused at the end of data.
enum Refusal {
    TooLarge,
    Data(DataError),
    Handler(Reject),
}

impl Refusal {
    fn abort_reason(&self) -> AbortReason {
        match self {
            Self::TooLarge => AbortReason::TooLarge,
            Self::Data(DataError::LineTooLong) => AbortReason::LineTooLong,
            Self::Data(DataError::BareLf | DataError::BareCr) => AbortReason::BareLineEnding,
            Self::Handler(reject) => AbortReason::Rejected(*reject),
        }
    }
}

const fn code(class: u8, subject: u16, detail: u16) -> Option<EnhancedCode> {
    Some(EnhancedCode::new(class, subject, detail))
}

/// Replies to the commands that are recognized but not offered.
const NOT_OFFERED: Reject = Reject::new(502, code(5, 5, 1), "Command not implemented");

struct Session<'a, 'c, T, H> {
    transport: &'a mut T,
    output: Output<'a>,
    config: &'a Config<'c>,
    handler: &'a mut H,
    /// `None` before a successful EHLO or HELO.
    greeting: Option<Greeting>,
    transaction: Option<Transaction>,
    /// Protocol errors so far, compared against `Config::max_errors`.
    errors: u32,
}

pub(super) async fn run<T, H>(
    transport: &mut T,
    buffer: &mut [u8],
    config: &Config<'_>,
    handler: &mut H,
) -> Result<Ended, ServeError<T::Error>>
where
    T: Read + Write,
    H: Handler,
{
    let split = buffer.len().saturating_sub(REPLY_BUFFER_LEN);
    let (input_buffer, output_buffer) = buffer.split_at_mut(split);
    let mut input = Input::new(input_buffer);
    let mut session = Session {
        transport,
        output: Output::new(output_buffer),
        config,
        handler,
        greeting: None,
        transaction: None,
        errors: 0,
    };

    let result = session.dialogue(&mut input).await;

    // Covers QUIT, EOF, the error limit and I/O errors inside a
    // transaction. `serve` checks the buffer and host name before the
    // session starts, so every error here comes from the transport.
    if session.transaction.take().is_some() {
        let reason = match result {
            Ok(Ended::Quit) => AbortReason::Quit,
            Ok(Ended::Closed) => AbortReason::ConnectionClosed,
            Ok(Ended::TooManyErrors) => AbortReason::TooManyErrors,
            Err(_) => AbortReason::TransportError,
        };
        debug!(
            "session ended inside a transaction, aborting it: {}",
            reason
        );
        session.handler.abort(reason).await;
    }
    result
}

impl<T, H> Session<'_, '_, T, H>
where
    T: Read + Write,
    H: Handler,
{
    async fn dialogue(&mut self, input: &mut Input<'_>) -> Result<Ended, ServeError<T::Error>> {
        let hostname = self.config.hostname;
        self.reply(220, None, &format_args!("{hostname} ESMTP"))
            .await?;

        loop {
            let next = match input.next_line(self.transport, &mut self.output).await? {
                Line::Eof => {
                    debug!("client closed the connection without QUIT");
                    return Ok(Ended::Closed);
                }
                Line::TooLong => {
                    self.error(500, code(5, 5, 2), &"Line too long").await?;
                    Next::Command
                }
                Line::Complete(range) => {
                    let line = input.buf.get(range).unwrap_or(&[]);
                    self.command(line).await?
                }
            };

            if self.config.max_errors != 0 && self.errors >= self.config.max_errors {
                debug!("closing after {} protocol errors", self.errors);
                self.reply(
                    421,
                    code(4, 7, 0),
                    &format_args!("{hostname} Too many errors, closing connection"),
                )
                .await?;
                self.output.flush(self.transport).await?;
                return Ok(Ended::TooManyErrors);
            }
            match next {
                Next::Command => {}
                Next::Data => {
                    if !self.data(input).await? {
                        debug!("client closed the connection during DATA");
                        return Ok(Ended::Closed);
                    }
                }
                Next::Quit => {
                    self.output.flush(self.transport).await?;
                    return Ok(Ended::Quit);
                }
            }
        }
    }

    /// Parses one command line and queues its reply.
    async fn command(&mut self, line: &[u8]) -> Result<Next, ServeError<T::Error>> {
        if line.len() >= 4
            && line
                .get(..4)
                .is_some_and(|verb| verb.eq_ignore_ascii_case(b"AUTH"))
        {
            trace!("C: AUTH (arguments not logged)");
        } else {
            trace!("C: {}", Bytes(line));
        }

        let command = match parse_command(line) {
            Ok(command) => command,
            Err(error) => {
                debug!("invalid command: {}", error);
                self.command_error(line, error).await?;
                return Ok(Next::Command);
            }
        };

        match command {
            Command::Ehlo(name) => self.hello(name, Greeting::Ehlo).await?,
            Command::Helo(name) => self.hello(name, Greeting::Helo).await?,
            Command::Mail { path, parameters } => self.mail(path, parameters).await?,
            Command::Rcpt { path, parameters } => self.rcpt(path, parameters).await?,
            Command::Data => return self.data_command().await,
            Command::Rset => {
                self.abort_transaction(AbortReason::Reset).await;
                self.reply(250, code(2, 0, 0), &"OK").await?;
            }
            Command::Noop => self.reply(250, code(2, 0, 0), &"OK").await?,
            Command::Quit => {
                let hostname = self.config.hostname;
                self.reply(
                    221,
                    code(2, 0, 0),
                    &format_args!("{hostname} closing connection"),
                )
                .await?;
                return Ok(Next::Quit);
            }
            // RFC 5321 section 3.5.3: 252 when the server does not verify.
            Command::Vrfy(_) => {
                self.reply(
                    252,
                    code(2, 0, 0),
                    &"Not verified; send a message to try delivery",
                )
                .await?
            }
            Command::Help => {
                self.reply(
                    214,
                    code(2, 0, 0),
                    &"Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP",
                )
                .await?
            }
            Command::Expn | Command::Starttls | Command::Auth => self.reject(NOT_OFFERED).await?,
        }
        Ok(Next::Command)
    }

    async fn command_error(
        &mut self,
        line: &[u8],
        error: CommandError,
    ) -> Result<(), ServeError<T::Error>> {
        let verb = line.get(..4).unwrap_or(&[]);
        match error {
            CommandError::Unrecognized => {
                self.error(500, code(5, 5, 2), &"Command not recognized")
                    .await
            }
            // RFC 3463: X.1.7 is a bad sender address, X.1.3 a bad
            // recipient address.
            CommandError::InvalidPath(path) if verb.eq_ignore_ascii_case(b"MAIL") => {
                self.error(501, code(5, 1, 7), &format_args!("Invalid sender: {path}"))
                    .await
            }
            CommandError::InvalidPath(path) => {
                self.error(
                    501,
                    code(5, 1, 3),
                    &format_args!("Invalid recipient: {path}"),
                )
                .await
            }
            _ => {
                self.error(501, code(5, 5, 4), &format_args!("Syntax error: {error}"))
                    .await
            }
        }
    }

    /// EHLO or HELO: resets any transaction (RFC 5321 section 4.1.4).
    async fn hello(&mut self, name: &str, greeting: Greeting) -> Result<(), ServeError<T::Error>> {
        self.abort_transaction(AbortReason::NewGreeting).await;
        if let Err(reject) = self.handler.hello(name, greeting == Greeting::Ehlo).await {
            self.greeting = None;
            return self.reject(reject).await;
        }
        self.greeting = Some(greeting);

        let hostname = self.config.hostname;
        if greeting == Greeting::Helo {
            return self.reply(250, None, &hostname).await;
        }
        let size = self.config.max_size;
        let size_line = SizeKeyword(size);
        let lines = [
            ReplyLine {
                enhanced: None,
                text: &hostname,
            },
            ReplyLine {
                enhanced: None,
                text: &size_line,
            },
            ReplyLine {
                enhanced: None,
                text: &"8BITMIME",
            },
            ReplyLine {
                enhanced: None,
                text: &"PIPELINING",
            },
            ReplyLine {
                enhanced: None,
                text: &"ENHANCEDSTATUSCODES",
            },
            ReplyLine {
                enhanced: None,
                text: &"SMTPUTF8",
            },
        ];
        self.output.reply(self.transport, 250, &lines).await
    }

    async fn mail(
        &mut self,
        path: &str,
        parameters: Parameters<'_>,
    ) -> Result<(), ServeError<T::Error>> {
        if self.greeting.is_none() {
            return self
                .error(503, code(5, 5, 1), &"Send EHLO or HELO first")
                .await;
        }
        if self.transaction.is_some() {
            return self.error(503, code(5, 5, 1), &"Nested MAIL command").await;
        }
        let Some(parameters) = self.parameters(parameters).await? else {
            return Ok(());
        };
        let max_size = self.config.max_size;
        if let Some(size) = parameters.size
            && max_size != 0
            && size > max_size
        {
            debug!("MAIL with SIZE={} over the maximum of {}", size, max_size);
            self.handler
                .mail_rejected(path, &parameters, MailRejection::TooLarge)
                .await;
            return self
                .reply(
                    552,
                    code(5, 3, 4),
                    &format_args!("Message size exceeds the maximum of {max_size} octets"),
                )
                .await;
        }
        if !path.is_ascii() && !parameters.smtputf8 {
            self.handler
                .mail_rejected(path, &parameters, MailRejection::NeedsSmtputf8)
                .await;
            return self.reject(NEEDS_SMTPUTF8).await;
        }
        if let Err(reject) = self.handler.mail(path, &parameters).await {
            return self.reject(reject).await;
        }
        self.transaction = Some(Transaction {
            recipients: 0,
            smtputf8: parameters.smtputf8,
        });
        self.reply(250, code(2, 1, 0), &"Sender OK").await
    }

    /// Interprets MAIL parameters. Returns `None` after queuing the error
    /// reply when they are rejected.
    async fn parameters(
        &mut self,
        parameters: Parameters<'_>,
    ) -> Result<Option<MailParameters>, ServeError<T::Error>> {
        // RFC 5321 section 4.1.1.11: parameters belong to extensions, and
        // only EHLO enables extensions.
        if !parameters.is_empty() && self.greeting != Some(Greeting::Ehlo) {
            self.error(
                501,
                code(5, 5, 4),
                &"Parameters are allowed only after EHLO",
            )
            .await?;
            return Ok(None);
        }
        match MailParameters::parse(parameters) {
            Ok(parameters) => Ok(Some(parameters)),
            Err(ParameterError::Unknown) => {
                self.error(555, code(5, 5, 4), &"Parameter not recognized")
                    .await?;
                Ok(None)
            }
            Err(ParameterError::Malformed) => {
                self.error(501, code(5, 5, 4), &"Malformed parameter")
                    .await?;
                Ok(None)
            }
            Err(ParameterError::NotImplemented) => {
                self.error(
                    555,
                    code(5, 5, 4),
                    &"BODY=BINARYMIME needs CHUNKING, which this server does not offer",
                )
                .await?;
                Ok(None)
            }
        }
    }

    async fn rcpt(
        &mut self,
        path: &str,
        parameters: Parameters<'_>,
    ) -> Result<(), ServeError<T::Error>> {
        let Some(transaction) = &self.transaction else {
            return self.error(503, code(5, 5, 1), &"Send MAIL first").await;
        };
        let recipients = transaction.recipients;
        let smtputf8 = transaction.smtputf8;
        if !parameters.is_empty() {
            if self.greeting != Some(Greeting::Ehlo) {
                return self
                    .error(
                        501,
                        code(5, 5, 4),
                        &"Parameters are allowed only after EHLO",
                    )
                    .await;
            }
            // No RCPT parameter is offered: a well-formed one is unknown.
            return match parameters.iter().find_map(Result::err) {
                Some(_) => self.error(501, code(5, 5, 4), &"Malformed parameter").await,
                None => {
                    self.error(555, code(5, 5, 4), &"Parameter not recognized")
                        .await
                }
            };
        }
        let max_recipients = self.config.max_recipients;
        if max_recipients != 0 && recipients >= max_recipients {
            return self.reply(452, code(4, 5, 3), &"Too many recipients").await;
        }
        if !path.is_ascii() && !smtputf8 {
            return self.reject(NEEDS_SMTPUTF8).await;
        }
        if let Err(reject) = self.handler.rcpt(path).await {
            return self.reject(reject).await;
        }
        if let Some(transaction) = &mut self.transaction {
            transaction.recipients = recipients.saturating_add(1);
        }
        self.reply(250, code(2, 1, 5), &"Recipient OK").await
    }

    async fn data_command(&mut self) -> Result<Next, ServeError<T::Error>> {
        match &self.transaction {
            None => self.error(503, code(5, 5, 1), &"Send MAIL first").await?,
            Some(transaction) if transaction.recipients == 0 => {
                self.error(503, code(5, 5, 1), &"Send RCPT first").await?
            }
            Some(_) => {
                // RFC 2034 gives intermediate replies no enhanced code.
                self.reply(354, None, &"End data with <CR><LF>.<CR><LF>")
                    .await?;
                return Ok(Next::Data);
            }
        }
        Ok(Next::Command)
    }

    /// Receives the message data up to CRLF `.` CRLF and replies to it.
    /// Returns false if the client closed the connection first.
    async fn data(&mut self, input: &mut Input<'_>) -> Result<bool, ServeError<T::Error>> {
        // The 354 must reach the client before it sends the data.
        self.output.flush(self.transport).await?;

        let max_line = match self.config.max_line_length {
            0 => usize::MAX,
            limit => limit,
        };
        let mut decoder = Unstuffer::new(self.config.bare_line_endings, max_line);
        let mut size: u64 = 0;
        let mut refusal = None;
        loop {
            if input.pending().is_empty() && input.fill(self.transport).await? == 0 {
                return Ok(false);
            }
            let decoded = decoder.decode(input.pending());
            if refusal.is_none() {
                refusal = decoder.error().map(Refusal::Data);
            }
            if refusal.is_none() && !decoded.data.is_empty() {
                size = size.saturating_add(decoded.data.len() as u64);
                if self.config.max_size != 0 && size > self.config.max_size {
                    // Read through to the end without storing the rest.
                    refusal = Some(Refusal::TooLarge);
                } else if let Err(reject) = self.handler.data(decoded.data).await {
                    refusal = Some(Refusal::Handler(reject));
                }
            }
            let (consumed, end) = (decoded.consumed, decoded.end);
            input.consume(consumed);
            if end {
                break;
            }
        }
        trace!("C: <{} octets of message data>", size);

        // The transaction ends here whatever the outcome, so that the final
        // `abort` in `run` does not run for it again.
        if self.transaction.take().is_none() {
            return Ok(true);
        }
        match refusal {
            None => match self.handler.data_end().await {
                Ok(()) => self.reply(250, code(2, 0, 0), &"Message accepted").await?,
                Err(reject) => self.reject(reject).await?,
            },
            Some(refusal) => {
                self.handler.abort(refusal.abort_reason()).await;
                self.refuse_message(refusal).await?;
            }
        }
        Ok(true)
    }

    async fn refuse_message(&mut self, refusal: Refusal) -> Result<(), ServeError<T::Error>> {
        match refusal {
            Refusal::TooLarge => {
                let max_size = self.config.max_size;
                debug!("message larger than {} octets rejected", max_size);
                self.reply(
                    552,
                    code(5, 3, 4),
                    &format_args!("Message size exceeds the maximum of {max_size} octets"),
                )
                .await
            }
            Refusal::Data(DataError::LineTooLong) => {
                let max_line = self.config.max_line_length;
                debug!("message with a text line over {} octets rejected", max_line);
                self.reply(
                    500,
                    code(5, 5, 2),
                    &format_args!("Line too long: text lines are limited to {max_line} octets"),
                )
                .await
            }
            Refusal::Data(error) => {
                debug!("message rejected: {}", error);
                self.reply(
                    554,
                    code(5, 6, 0),
                    &format_args!("Message refused: {error}; lines must end with CRLF"),
                )
                .await
            }
            Refusal::Handler(reject) => self.reject(reject).await,
        }
    }

    async fn abort_transaction(&mut self, reason: AbortReason) {
        if self.transaction.take().is_some() {
            self.handler.abort(reason).await;
        }
    }

    /// Queues a reply. The enhanced code is sent only after EHLO, which
    /// offered ENHANCEDSTATUSCODES (RFC 2034).
    async fn reply(
        &mut self,
        code: u16,
        enhanced: Option<EnhancedCode>,
        text: &dyn fmt::Display,
    ) -> Result<(), ServeError<T::Error>> {
        let enhanced = enhanced.filter(|_| self.greeting == Some(Greeting::Ehlo));
        self.output
            .reply(self.transport, code, &[ReplyLine { enhanced, text }])
            .await
    }

    /// Queues a protocol error reply and counts it.
    async fn error(
        &mut self,
        code: u16,
        enhanced: Option<EnhancedCode>,
        text: &dyn fmt::Display,
    ) -> Result<(), ServeError<T::Error>> {
        self.errors = self.errors.saturating_add(1);
        self.reply(code, enhanced, text).await
    }

    /// Queues a handler's rejection, replacing a code that is not 4xx or 5xx.
    async fn reject(&mut self, reject: Reject) -> Result<(), ServeError<T::Error>> {
        let reject = if (400..=599).contains(&reject.code) {
            reject
        } else {
            warn!(
                "handler rejected with reply code {}, sending 451 instead",
                reject.code
            );
            Reject::LOCAL_ERROR
        };
        let class = if reject.code >= 500 { 5 } else { 4 };
        let enhanced = reject.enhanced.or(code(class, 0, 0));
        self.reply(reject.code, enhanced, &reject.text).await
    }
}

/// A non-ASCII address needs the SMTPUTF8 parameter of RFC 6531.
const NEEDS_SMTPUTF8: Reject = Reject::new(
    553,
    code(5, 6, 7),
    "Non-ASCII address requires the SMTPUTF8 parameter",
);

/// The `SIZE <max>` line of the EHLO reply (RFC 1870).
struct SizeKeyword(u64);

impl core::fmt::Display for SizeKeyword {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SIZE {}", self.0)
    }
}
