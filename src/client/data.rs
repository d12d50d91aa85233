//! The data phase: dot-stuffed body bytes written through the transmit
//! buffer (RFC 5321 section 4.5.2).

use embedded_io_async::{Read, Write};

use super::error::{Error, InputError};
use super::session::{Client, State};
use crate::codec::dot::{DotStuffer, SizeCounter, has_8bit};
use crate::codec::message::{HeaderEncoder, QuotedPrintableEncoder};

/// Size of the stack buffer used to read a body source or to stage encoded
/// header and quoted-printable bytes before dot-stuffing.
const STAGE_LEN: usize = 256;

/// Writes the message data of one transaction.
///
/// Every byte passes through a [`DotStuffer`]: bare CR and LF become CRLF and
/// a leading dot is doubled, so no body can end the data early. The end
/// marker goes out in the same write as the last body bytes, so the server
/// gets it without a delayed-ACK round trip.
///
/// Returned errors leave the session closed: once data has started, the only
/// way to abandon a message is to drop the connection, which makes the
/// server discard it.
pub struct DataWriter<'c, 'b, T> {
    client: &'c mut Client<'b, T>,
    stuffer: DotStuffer,
    /// Set when the server does not offer 8BITMIME and the data is not
    /// re-encoded: an 8-bit byte then aborts the data phase.
    seven_bit_only: bool,
    size: SizeCounter,
}

impl<'c, 'b, T: Read + Write> DataWriter<'c, 'b, T> {
    pub(super) fn new(client: &'c mut Client<'b, T>, seven_bit_only: bool) -> Self {
        Self {
            client,
            stuffer: DotStuffer::new(),
            seven_bit_only,
            size: SizeCounter::new(),
        }
    }

    /// Writes message bytes. Line endings may be CRLF, LF or CR.
    ///
    /// # Errors
    ///
    /// A transport failure, or [`InputError::EightBitNotSupported`] when
    /// `data` has a byte of 0x80 or more and the server did not offer
    /// 8BITMIME. Nothing of `data` is sent in the second case.
    pub async fn write_all(&mut self, mut data: &[u8]) -> Result<(), Error<T::Error>> {
        if self.seven_bit_only && has_8bit(data) {
            self.client.state = State::Closed;
            return Err(InputError::EightBitNotSupported.into());
        }
        self.size.update(data);

        while !data.is_empty() {
            let client = &mut *self.client;
            let (consumed, written) = self.stuffer.encode(data, &mut client.tx[client.tx_len..]);
            client.tx_len += written;
            data = &data[consumed..];
            if consumed == 0 || client.tx_len == client.tx.len() {
                client.flush().await?;
            }
        }
        Ok(())
    }

    /// Copies `source` into the message until it reports end of input.
    ///
    /// # Errors
    ///
    /// As [`write_all`](Self::write_all), and [`Error::Body`] when reading
    /// `source` fails.
    pub async fn write_from<R: Read>(&mut self, source: &mut R) -> Result<(), Error<T::Error>> {
        let mut stage = [0u8; STAGE_LEN];
        loop {
            let n = match source.read(&mut stage).await {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => {
                    self.client.state = State::Closed;
                    return Err(Error::Body(embedded_io::Error::kind(&e)));
                }
            };
            self.write_all(&stage[..n]).await?;
        }
    }

    /// Writes a header block from `headers`.
    pub async fn write_headers(
        &mut self,
        headers: &mut HeaderEncoder<'_>,
    ) -> Result<(), Error<T::Error>> {
        let mut stage = [0u8; STAGE_LEN];
        loop {
            let n = headers.encode(&mut stage);
            if n == 0 {
                return Ok(());
            }
            self.write_all(&stage[..n]).await?;
        }
    }

    /// Writes `text` as a quoted-printable body (RFC 2045 section 6.7), the
    /// encoding used when the text has 8-bit bytes or over-long lines and
    /// the server does not take them as they are.
    pub async fn write_quoted_printable(&mut self, mut text: &[u8]) -> Result<(), Error<T::Error>> {
        let mut encoder = QuotedPrintableEncoder::new();
        let mut stage = [0u8; STAGE_LEN];
        while !text.is_empty() {
            let (consumed, written) = encoder.encode(text, &mut stage);
            text = &text[consumed..];
            self.write_all(&stage[..written]).await?;
        }
        let written = encoder.finish(&mut stage);
        self.write_all(&stage[..written]).await
    }

    /// Returns the size of the message written so far as RFC 1870 counts
    /// it, the measure `SIZE=` declares: CRLF line endings, a final CRLF,
    /// no stuffed dots and no end marker.
    pub fn message_size(&self) -> u64 {
        self.size.finish()
    }

    /// Marks the session closed because the data phase cannot end cleanly:
    /// the only way to drop a message once data started is to drop the
    /// connection without the end marker.
    pub(super) fn abandon(self) {
        debug!("data phase abandoned; the session is closed");
        self.client.state = State::Closed;
    }

    /// Ends the data with CRLF `.` CRLF and writes out everything queued.
    pub(super) async fn finish(mut self) -> Result<(), Error<T::Error>> {
        let client = &mut *self.client;
        if client.tx.len() - client.tx_len < DotStuffer::MAX_FINISH_LEN {
            client.flush().await?;
        }
        let written = self
            .stuffer
            .finish(&mut client.tx[client.tx_len..])
            .map_err(InputError::Encode)?;
        client.tx_len += written;
        trace!("C: <{} octets of message data>", self.size.finish());
        trace!("C: .");
        client.flush().await
    }
}
