//! Mail transactions: MAIL, RCPT, DATA and the end-of-data replies
//! (RFC 5321 section 3.3, RFC 2920 pipelining, RFC 2033 LMTP).

use embedded_io_async::{Read, Write};

use super::Envelope;
use super::data::DataWriter;
use super::error::{Error, InputError, Reply};
use super::session::{Client, State, is_negative};
use super::{Protocol, ProtocolError};
use crate::codec::address::{needs_smtputf8, validate_mailbox};
use crate::codec::command::{BodyType, Command, CommandKind, MailParams};
use crate::codec::dot::{DotStuffer, has_8bit, message_size};
use crate::codec::ehlo::Extension;
use crate::codec::message::{HeaderEncoder, Headers, TransferEncoding, quoted_printable_len};
use crate::codec::reply::{EnhancedCode, ReplyCode};

/// Code and enhanced status code of a reply about one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReplyStatus {
    /// The reply code.
    pub code: ReplyCode,
    /// The RFC 3463 enhanced status code, when the server sent one.
    pub enhanced: Option<EnhancedCode>,
}

impl From<&Reply> for ReplyStatus {
    fn from(reply: &Reply) -> Self {
        Self {
            code: reply.code,
            enhanced: reply.enhanced,
        }
    }
}

/// Outcome of one recipient of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecipientResult {
    /// The transaction ended before the recipient was sent.
    #[default]
    NotAttempted,
    /// The server refused the recipient at RCPT.
    Rejected(ReplyStatus),
    /// The server accepted the recipient at RCPT, but the transaction ended
    /// before the message was accepted, for example because DATA failed
    /// or the connection was lost.
    Accepted(ReplyStatus),
    /// The server accepted the message for this recipient.
    Delivered(ReplyStatus),
    /// The server refused the message for this recipient after the data,
    /// or, under LMTP, sent no reply for it (`None`).
    Failed(Option<ReplyStatus>),
}

impl RecipientResult {
    /// Returns true when the message was delivered to this recipient.
    pub const fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered(_))
    }

    /// Returns true when the server refused this recipient or its message
    /// with a 5yz reply: sending again will fail again.
    pub const fn is_permanent_failure(&self) -> bool {
        match self {
            Self::Rejected(status) | Self::Failed(Some(status)) => status.code.is_permanent(),
            _ => false,
        }
    }

    /// Returns true when the message did not reach this recipient and a
    /// later attempt may succeed.
    pub const fn is_transient_failure(&self) -> bool {
        !self.is_delivered() && !self.is_permanent_failure()
    }

    /// Returns the server's reply for this recipient, if any.
    pub const fn status(&self) -> Option<ReplyStatus> {
        match self {
            Self::NotAttempted | Self::Failed(None) => None,
            Self::Rejected(status)
            | Self::Accepted(status)
            | Self::Delivered(status)
            | Self::Failed(Some(status)) => Some(*status),
        }
    }
}

/// Summary of an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Delivery {
    /// Recipients the message was delivered to.
    pub delivered: usize,
    /// Recipients refused at RCPT or, under LMTP, after the data.
    pub failed: usize,
}

/// Whether a streamed message contains bytes of 0x80 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Content {
    /// Every byte is below 0x80. No `BODY=` parameter is declared, and an
    /// 8-bit byte in the stream aborts the data phase.
    SevenBit,
    /// The message has 8-bit bytes: the server must offer 8BITMIME, and
    /// `BODY=8BITMIME` is declared.
    EightBit,
    /// Not known in advance: `BODY=8BITMIME` is declared when the server
    /// offers 8BITMIME; otherwise an 8-bit byte aborts the data phase.
    #[default]
    Unknown,
}

/// Facts about a streamed message that the caller knows before sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BodyInfo {
    /// Size in octets as RFC 1870 counts it (CRLF line endings, no stuffed
    /// dots), when known. It is declared with `SIZE=` and checked against
    /// the server's maximum before MAIL; [`crate::codec::dot::SizeCounter`]
    /// computes it.
    pub size: Option<u64>,
    /// Whether the message has 8-bit bytes.
    pub content: Content,
}

impl BodyInfo {
    /// Creates the description of a message of known size and content.
    pub const fn new(size: Option<u64>, content: Content) -> Self {
        Self { size, content }
    }
}

/// Policy for 8-bit bytes in a transaction's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EightBit {
    /// 8-bit bytes may pass: the body was checked before MAIL, or
    /// `BODY=8BITMIME` is declared.
    Allowed,
    /// The body is streamed and must stay 7-bit: an 8-bit byte aborts the
    /// data phase.
    SevenBitOnly,
}

impl<'b, T: Read + Write> Client<'b, T> {
    /// Sends a complete RFC 5322 message (header fields, empty line, body)
    /// as it is.
    ///
    /// Each recipient's outcome is written to `results`, which must be at
    /// least as long as `envelope.to`. Returns the counts when the server
    /// accepted the message for at least one recipient.
    ///
    /// # Errors
    ///
    /// [`InputError::EightBitNotSupported`] before MAIL when the message has
    /// 8-bit bytes and the server lacks 8BITMIME, [`InputError::MessageTooLarge`]
    /// before MAIL when it exceeds the advertised SIZE, [`Error::Reply`] for
    /// a refused MAIL, DATA or message, [`Error::NoRecipientAccepted`] when
    /// every RCPT was refused, and transport errors. After a refused
    /// transaction the client sends RSET, so the session stays usable.
    pub async fn send_slice(
        &mut self,
        envelope: &Envelope<'_>,
        message: &[u8],
        results: &mut [RecipientResult],
    ) -> Result<Delivery, Error<T::Error>> {
        let eight_bit = has_8bit(message);
        if eight_bit && !self.extensions().contains(Extension::EightBitMime) {
            return Err(InputError::EightBitNotSupported.into());
        }
        let mut params = self.mail_params(envelope, Some(message_size(message)))?;
        if eight_bit {
            params.body = Some(BodyType::EightBitMime);
        }
        self.transaction(envelope, params, EightBit::Allowed, results, async |data| {
            data.write_all(message).await
        })
        .await
    }

    /// Sends a complete message read from `source` until its end, streaming
    /// it in buffer-sized writes.
    ///
    /// `info` gives the size, declared with SIZE and checked against the
    /// server's maximum before MAIL, and whether the message has 8-bit
    /// bytes (see [`Content`]). An 8-bit byte in a stream that must stay
    /// 7-bit aborts the data phase with [`InputError::EightBitNotSupported`]
    /// and closes the session without the end marker, so the server never
    /// stores the partial message.
    pub async fn send_reader<R: Read>(
        &mut self,
        envelope: &Envelope<'_>,
        source: &mut R,
        info: BodyInfo,
        results: &mut [RecipientResult],
    ) -> Result<Delivery, Error<T::Error>> {
        let (params, eight_bit) = self.streamed_params(envelope, info)?;
        self.transaction(envelope, params, eight_bit, results, async |data| {
            data.write_from(source).await
        })
        .await
    }

    /// Sends a message that `write_body` writes through a [`DataWriter`].
    ///
    /// Size and 8-bit rules are those of [`send_reader`](Self::send_reader).
    /// When `write_body` returns an error, for example because a sensor
    /// read failed half-way, the data phase is abandoned: the session
    /// closes without the end marker, so the server discards the partial
    /// message, and the error is returned as it is.
    pub async fn send_with<F>(
        &mut self,
        envelope: &Envelope<'_>,
        info: BodyInfo,
        results: &mut [RecipientResult],
        write_body: F,
    ) -> Result<Delivery, Error<T::Error>>
    where
        F: for<'w, 'c> AsyncFnOnce(&'w mut DataWriter<'c, 'b, T>) -> Result<(), Error<T::Error>>,
    {
        let (params, eight_bit) = self.streamed_params(envelope, info)?;
        self.transaction(envelope, params, eight_bit, results, write_body)
            .await
    }

    /// Builds the MAIL parameters and 8-bit policy of a streamed message.
    fn streamed_params(
        &self,
        envelope: &Envelope<'_>,
        info: BodyInfo,
    ) -> Result<(MailParams, EightBit), Error<T::Error>> {
        let mut params = self.mail_params(envelope, info.size)?;
        let eight_bit_mime = self.extensions().contains(Extension::EightBitMime);
        let eight_bit = match info.content {
            Content::SevenBit => EightBit::SevenBitOnly,
            Content::EightBit if !eight_bit_mime => {
                return Err(InputError::EightBitNotSupported.into());
            }
            Content::EightBit | Content::Unknown if eight_bit_mime => {
                params.body = Some(BodyType::EightBitMime);
                EightBit::Allowed
            }
            Content::Unknown | Content::EightBit => EightBit::SevenBitOnly,
        };
        Ok((params, eight_bit))
    }

    /// Composes a text message from `headers` and `text` and sends it.
    ///
    /// The transfer encoding fits the server: 7bit for ASCII text, 8bit with
    /// `BODY=8BITMIME` when the text has 8-bit bytes and the server offers
    /// 8BITMIME, and quoted-printable otherwise or when a line exceeds 998
    /// octets. The exact size is computed in advance and declared with SIZE.
    pub async fn send_message(
        &mut self,
        envelope: &Envelope<'_>,
        headers: &Headers<'_>,
        text: &[u8],
        results: &mut [RecipientResult],
    ) -> Result<Delivery, Error<T::Error>> {
        let eight_bit_mime = self.extensions().contains(Extension::EightBitMime);
        let encoding = TransferEncoding::choose(text, eight_bit_mime);
        let mut header_encoder =
            HeaderEncoder::new(headers, encoding).map_err(InputError::Compose)?;
        let body_len = match encoding {
            TransferEncoding::QuotedPrintable => quoted_printable_len(text),
            TransferEncoding::SevenBit | TransferEncoding::EightBit => message_size(text),
        };
        let size = (header_encoder.encoded_len() as u64).saturating_add(body_len);

        let mut params = self.mail_params(envelope, Some(size))?;
        if encoding == TransferEncoding::EightBit {
            params.body = Some(BodyType::EightBitMime);
        }
        self.transaction(envelope, params, EightBit::Allowed, results, async |data| {
            data.write_headers(&mut header_encoder).await?;
            match encoding {
                TransferEncoding::QuotedPrintable => data.write_quoted_printable(text).await,
                TransferEncoding::SevenBit | TransferEncoding::EightBit => {
                    data.write_all(text).await
                }
            }
        })
        .await
    }

    /// Validates the envelope against the server's extensions and builds
    /// the MAIL parameters, before anything is sent.
    fn mail_params(
        &self,
        envelope: &Envelope<'_>,
        size: Option<u64>,
    ) -> Result<MailParams, Error<T::Error>> {
        if !envelope.from.is_empty() {
            validate_mailbox(envelope.from).map_err(InputError::from)?;
        }
        if envelope.to.is_empty() {
            return Err(InputError::NoRecipients.into());
        }
        for recipient in envelope.to {
            validate_mailbox(recipient).map_err(InputError::from)?;
        }

        let extensions = self.extensions();
        let utf8 = needs_smtputf8(envelope.from) || envelope.to.iter().any(|to| needs_smtputf8(to));
        if utf8 && !extensions.contains(Extension::SmtpUtf8) {
            return Err(InputError::Utf8NotSupported.into());
        }

        // RFC 1870 section 6.1: a client should not send a message larger
        // than the server's advertised maximum.
        if let (Some(size), Some(max)) = (size, extensions.max_size())
            && size > max
        {
            return Err(InputError::MessageTooLarge { size, max }.into());
        }

        Ok(MailParams {
            size: size.filter(|_| extensions.contains(Extension::Size)),
            body: None,
            smtputf8: utf8,
        })
    }

    /// Runs MAIL, RCPT and DATA, the body and the end-of-data replies.
    async fn transaction<F>(
        &mut self,
        envelope: &Envelope<'_>,
        params: MailParams,
        eight_bit: EightBit,
        results: &mut [RecipientResult],
        write_body: F,
    ) -> Result<Delivery, Error<T::Error>>
    where
        F: for<'w, 'c> AsyncFnOnce(&'w mut DataWriter<'c, 'b, T>) -> Result<(), Error<T::Error>>,
    {
        self.ensure_open()?;
        let recipients = envelope.to.len();
        let Some(results) = results.get_mut(..recipients) else {
            return Err(InputError::ResultsTooShort {
                recipients,
                len: results.len(),
            }
            .into());
        };
        results.fill(RecipientResult::NotAttempted);

        let seven_bit_only = eight_bit == EightBit::SevenBitOnly;

        let accepted = if self.extensions().contains(Extension::Pipelining) {
            self.envelope_pipelined(envelope, params, results).await?
        } else {
            self.envelope_in_turn(envelope, params, results).await?
        };
        debug_assert!(accepted > 0);

        let mut data = DataWriter::new(self, seven_bit_only);
        if let Err(e) = write_body(&mut data).await {
            data.abandon();
            return Err(e);
        }
        data.finish().await?;

        match self.protocol {
            Protocol::Smtp => self.end_of_data_smtp(results).await,
            Protocol::Lmtp => self.end_of_data_lmtp(results, accepted).await,
        }
    }

    /// Sends MAIL, every RCPT and DATA in one write and then reads every
    /// reply of the group in order (RFC 2920 section 3.1). Returns the number
    /// of accepted recipients once the server sent 354.
    async fn envelope_pipelined(
        &mut self,
        envelope: &Envelope<'_>,
        params: MailParams,
        results: &mut [RecipientResult],
    ) -> Result<usize, Error<T::Error>> {
        self.write_command(&Command::Mail {
            from: envelope.from,
            params,
        })
        .await?;
        for to in envelope.to {
            self.write_command(&Command::Rcpt { to }).await?;
        }
        self.write_command(&Command::Data).await?;
        self.flush().await?;

        let mail = self.read_reply(CommandKind::Mail).await?;
        let mail_accepted =
            self.verdict(CommandKind::Mail, &mail, ReplyCode::is_positive_completion)?;
        let mut accepted = 0;
        for result in results.iter_mut() {
            let reply = self.read_reply(CommandKind::Rcpt).await?;
            if !mail_accepted {
                // After a refused MAIL the RCPT replies are sequence errors
                // (503), not a verdict on the recipient: it was never
                // really attempted, and a transient MAIL refusal must not
                // turn into a permanent recipient failure.
                continue;
            }
            let ok = self.verdict(CommandKind::Rcpt, &reply, ReplyCode::is_positive_completion)?;
            *result = rcpt_result(&reply, ok);
            if ok {
                accepted += 1;
            }
        }
        let data = self.read_reply(CommandKind::Data).await?;

        let refusal = if !mail_accepted {
            Error::Reply {
                command: CommandKind::Mail,
                reply: mail,
            }
        } else if accepted == 0 {
            Error::NoRecipientAccepted {
                transient: results.iter().any(RecipientResult::is_transient_failure),
            }
        } else if self.verdict(CommandKind::Data, &data, is_start_mail_input)? {
            return Ok(accepted);
        } else {
            mark_accepted_failed(results, ReplyStatus::from(&data));
            Error::Reply {
                command: CommandKind::Data,
                reply: data.clone(),
            }
        };

        if data.code == ReplyCode::START_MAIL_INPUT {
            // The server started the data phase although the transaction
            // failed. The end marker alone closes it, and its reply does not
            // change the outcome.
            self.send_empty_data().await?;
        }
        self.reset_after_failure().await;
        Err(refusal)
    }

    /// Sends MAIL, each RCPT and DATA, each after the previous reply.
    async fn envelope_in_turn(
        &mut self,
        envelope: &Envelope<'_>,
        params: MailParams,
        results: &mut [RecipientResult],
    ) -> Result<usize, Error<T::Error>> {
        self.write_command(&Command::Mail {
            from: envelope.from,
            params,
        })
        .await?;
        self.flush().await?;
        let mail = self.read_reply(CommandKind::Mail).await?;
        if !self.verdict(CommandKind::Mail, &mail, ReplyCode::is_positive_completion)? {
            self.reset_after_failure().await;
            return Err(Error::Reply {
                command: CommandKind::Mail,
                reply: mail,
            });
        }

        let mut accepted = 0;
        for (to, result) in envelope.to.iter().zip(results.iter_mut()) {
            self.write_command(&Command::Rcpt { to }).await?;
            self.flush().await?;
            let reply = self.read_reply(CommandKind::Rcpt).await?;
            let ok = self.verdict(CommandKind::Rcpt, &reply, ReplyCode::is_positive_completion)?;
            *result = rcpt_result(&reply, ok);
            if ok {
                accepted += 1;
            }
        }
        if accepted == 0 {
            self.reset_after_failure().await;
            return Err(Error::NoRecipientAccepted {
                transient: results.iter().any(RecipientResult::is_transient_failure),
            });
        }

        self.write_command(&Command::Data).await?;
        self.flush().await?;
        let data = self.read_reply(CommandKind::Data).await?;
        if !self.verdict(CommandKind::Data, &data, is_start_mail_input)? {
            mark_accepted_failed(results, ReplyStatus::from(&data));
            self.reset_after_failure().await;
            return Err(Error::Reply {
                command: CommandKind::Data,
                reply: data,
            });
        }
        Ok(accepted)
    }

    /// Reads the single end-of-data reply of SMTP.
    async fn end_of_data_smtp(
        &mut self,
        results: &mut [RecipientResult],
    ) -> Result<Delivery, Error<T::Error>> {
        let reply = self.read_reply(CommandKind::DataEnd).await?;
        let ok = self.verdict(
            CommandKind::DataEnd,
            &reply,
            ReplyCode::is_positive_completion,
        )?;
        let status = ReplyStatus::from(&reply);
        let mut delivery = Delivery {
            delivered: 0,
            failed: 0,
        };
        for result in results.iter_mut() {
            if let RecipientResult::Accepted(_) = result {
                if ok {
                    *result = RecipientResult::Delivered(status);
                    delivery.delivered += 1;
                } else {
                    *result = RecipientResult::Failed(Some(status));
                    delivery.failed += 1;
                }
            } else {
                delivery.failed += 1;
            }
        }
        if ok {
            Ok(delivery)
        } else {
            Err(Error::Reply {
                command: CommandKind::DataEnd,
                reply,
            })
        }
    }

    /// Reads one end-of-data reply per accepted recipient, in RCPT order
    /// (RFC 2033 section 4.2). A recipient without a reply has failed.
    async fn end_of_data_lmtp(
        &mut self,
        results: &mut [RecipientResult],
        accepted: usize,
    ) -> Result<Delivery, Error<T::Error>> {
        let mut delivery = Delivery {
            delivered: 0,
            failed: 0,
        };
        let mut first_failure: Option<Reply> = None;
        let mut lost: Option<Error<T::Error>> = None;
        let mut remaining = accepted;

        for result in results.iter_mut() {
            if !matches!(result, RecipientResult::Accepted(_)) {
                delivery.failed += 1;
                continue;
            }
            remaining -= 1;
            if lost.is_some() {
                *result = RecipientResult::Failed(None);
                delivery.failed += 1;
                continue;
            }
            let read = self.read_reply(CommandKind::DataEnd).await;
            let read = match read {
                Ok(reply) => self
                    .verdict(
                        CommandKind::DataEnd,
                        &reply,
                        ReplyCode::is_positive_completion,
                    )
                    .map(|ok| (reply, ok)),
                Err(e) => Err(e),
            };
            match read {
                Ok((reply, true)) => {
                    *result = RecipientResult::Delivered(ReplyStatus::from(&reply));
                    delivery.delivered += 1;
                }
                Ok((reply, false)) => {
                    *result = RecipientResult::Failed(Some(ReplyStatus::from(&reply)));
                    delivery.failed += 1;
                    first_failure.get_or_insert(reply);
                }
                Err(e) => {
                    *result = match e.reply() {
                        Some(reply) => RecipientResult::Failed(Some(ReplyStatus::from(reply))),
                        None => RecipientResult::Failed(None),
                    };
                    delivery.failed += 1;
                    lost = Some(e);
                }
            }
        }
        debug_assert_eq!(remaining, 0);

        if let Some(e) = lost {
            return Err(match e {
                Error::UnexpectedEof => Error::Protocol(ProtocolError::MissingLmtpReply),
                other => other,
            });
        }
        match first_failure {
            Some(reply) if delivery.delivered == 0 => Err(Error::Reply {
                command: CommandKind::DataEnd,
                reply,
            }),
            _ => Ok(delivery),
        }
    }

    /// Returns whether `reply` accepts `command`: true when `accept` takes
    /// its code, false for a 4yz or 5yz refusal, and a protocol error that
    /// closes the session for any other code.
    fn verdict(
        &mut self,
        command: CommandKind,
        reply: &Reply,
        accept: fn(ReplyCode) -> bool,
    ) -> Result<bool, Error<T::Error>> {
        if accept(reply.code) {
            Ok(true)
        } else if is_negative(reply.code) {
            Ok(false)
        } else {
            Err(self.unexpected(command, reply))
        }
    }

    /// Ends a data phase the server opened for a failed transaction.
    async fn send_empty_data(&mut self) -> Result<(), Error<T::Error>> {
        let mut stuffer = DotStuffer::new();
        let written = stuffer
            .finish(&mut self.tx[self.tx_len..])
            .map_err(InputError::Encode)?;
        self.tx_len += written;
        trace!("C: .");
        self.flush().await?;
        self.read_reply(CommandKind::DataEnd).await.map(|_| ())
    }

    /// Sends RSET after a refused transaction so the session can carry the
    /// next one (RFC 5321 section 4.1.1.5). Its failure is not reported: the
    /// caller gets the refusal, and a broken session shows on the next call.
    async fn reset_after_failure(&mut self) {
        if self.state == State::Closed {
            return;
        }
        if self.rset().await.is_err() {
            debug!("RSET after a refused transaction failed");
        }
    }
}

fn rcpt_result(reply: &Reply, accepted: bool) -> RecipientResult {
    let status = ReplyStatus::from(reply);
    if accepted {
        RecipientResult::Accepted(status)
    } else {
        RecipientResult::Rejected(status)
    }
}

fn is_start_mail_input(code: ReplyCode) -> bool {
    code == ReplyCode::START_MAIL_INPUT
}

fn result_is_accepted(result: &RecipientResult) -> bool {
    matches!(result, RecipientResult::Accepted(_))
}

fn mark_accepted_failed(results: &mut [RecipientResult], status: ReplyStatus) {
    for result in results.iter_mut() {
        if result_is_accepted(result) {
            *result = RecipientResult::Failed(Some(status));
        }
    }
}
