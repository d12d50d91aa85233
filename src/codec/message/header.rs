//! Streaming encoder of the header block (RFC 5322 section 3.6, RFC 2045
//! and RFC 2046 MIME fields, RFC 2047 encoded-words).
//!
//! The block is produced as a sequence of tokens: a field name, a word with
//! the whitespace before it, or a line end. Each token's place is decided
//! when it is created, from the current column: when it would pass the fold
//! column and starts with whitespace, a CRLF goes before that whitespace
//! (RFC 5322 section 2.2.3 folding). The encoder keeps the current token and
//! how much of it was written, so output can stop and resume at any byte.

use super::encoded_word::{self, MAX_WORD_LEN, WordEncoding};
use super::{ComposeError, Date, HeaderField, Mailbox, MessageId, TransferEncoding, is_atext};
use crate::codec::address::validate_mailbox;

/// Header fields of a plain-text message.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    /// Author mailbox (RFC 5322 section 3.6.2).
    pub from: Mailbox<'a>,
    /// Primary recipients. An empty slice leaves out the To field.
    pub to: &'a [Mailbox<'a>],
    /// Secondary recipients. An empty slice leaves out the Cc field.
    pub cc: &'a [Mailbox<'a>],
    /// Subject text. Non-ASCII text is written as encoded-words; an empty
    /// subject leaves the field out (RFC 5322 makes it optional).
    pub subject: &'a str,
    /// Origination date (RFC 5322 section 3.6.1 requires one; leave it out
    /// only when a relay adds it).
    pub date: Option<Date>,
    /// Message identifier (RFC 5322 section 3.6.4).
    pub message_id: Option<MessageId<'a>>,
    /// Extra fields such as `("X-Priority", "1")`, written after the fields
    /// above. Names must be printable ASCII without `:`, and values must not
    /// contain control characters other than HTAB. A value is written as
    /// unstructured text: non-ASCII values become encoded-words, which suits
    /// `X-` fields but not structured fields such as References.
    pub extra: &'a [(&'a str, &'a str)],
}

/// Maximum line length (RFC 5322 section 2.1.1), CRLF excluded.
const MAX_LINE_LEN: usize = 998;

/// Lines are folded before they pass this column (RFC 5322 section 2.1.1
/// recommends 78).
const FOLD_COLUMN: usize = 78;

/// Maximum length of a line that contains an encoded-word (RFC 2047
/// section 2).
const ENCODED_WORD_LINE_LEN: usize = 76;

/// Capacity of a token's own bytes: an encoded-word or a formatted date.
const INLINE_LEN: usize = if MAX_WORD_LEN > Date::LEN {
    MAX_WORD_LEN
} else {
    Date::LEN
};

/// Fields the encoder writes itself, which an extra field may not repeat.
const RESERVED_NAMES: [&str; 7] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Streaming encoder of the header block: From, To, Cc, Subject, Date,
/// Message-ID, extra fields, `MIME-Version: 1.0`, `Content-Type: text/plain;
/// charset=utf-8`, Content-Transfer-Encoding, then the empty line.
///
/// ASCII text is folded at whitespace so that lines stay within 78 columns.
/// A word longer than that stays whole on its own line, but never passes
/// 998 octets: text that cannot be laid out within that limit is written as
/// encoded-words, which can be split anywhere. Non-ASCII text and text that
/// contains `=?` are always written as encoded-words (RFC 2047), in lines of
/// at most 76 characters.
///
/// NOTE: addresses are written as given, so a non-ASCII address (RFC 6531)
/// ends up as raw UTF-8 in the header, which needs SMTPUTF8 on the session.
#[derive(Debug, Clone)]
pub struct HeaderEncoder<'a> {
    headers: Headers<'a>,
    encoding: TransferEncoding,
    field: Field,
    step: Step<'a>,
    /// Characters already written on the current line.
    column: usize,
    /// The current line contains an encoded-word, so it ends at 76 characters.
    line_has_encoded_word: bool,
    /// Token being written and how many of its bytes are out.
    token: Option<Token<'a>>,
    token_offset: usize,
}

impl<'a> HeaderEncoder<'a> {
    /// Maximum length of an extra field name, so that `name: ` fits in the 78
    /// columns of RFC 5322 section 2.1.1.
    pub const MAX_FIELD_NAME_LEN: usize = FOLD_COLUMN - 2;

    /// Validates every input and creates the encoder.
    ///
    /// Addresses go through the mailbox validator. Display names, the
    /// subject and extra values are rejected when they contain a control
    /// character other than HTAB (CR, LF, NUL, DEL, C1 controls), so no
    /// input can start a new header line.
    pub fn new(headers: &Headers<'a>, encoding: TransferEncoding) -> Result<Self, ComposeError> {
        check_mailbox(HeaderField::From, &headers.from)?;
        for (index, mailbox) in headers.to.iter().enumerate() {
            check_mailbox(HeaderField::To(index), mailbox)?;
        }
        for (index, mailbox) in headers.cc.iter().enumerate() {
            check_mailbox(HeaderField::Cc(index), mailbox)?;
        }
        if has_control(headers.subject) {
            return Err(ComposeError::InvalidHeaderValue {
                field: HeaderField::Subject,
            });
        }
        if let Some(date) = headers.date {
            date.format().ok_or(ComposeError::InvalidDate)?;
        }
        if let Some(id) = headers.message_id {
            // "<" unique "@" domain ">" after the folding space.
            let line_len = id
                .unique
                .len()
                .saturating_add(id.domain.len())
                .saturating_add(4);
            if !id.is_valid() || line_len > MAX_LINE_LEN {
                return Err(ComposeError::InvalidMessageId);
            }
        }
        for (index, &(name, value)) in headers.extra.iter().enumerate() {
            check_extra_field(headers, HeaderField::Extra(index), name, value)?;
        }

        Ok(Self {
            headers: *headers,
            encoding,
            field: Field::From,
            step: Step::Name,
            column: 0,
            line_has_encoded_word: false,
            token: None,
            token_offset: 0,
        })
    }

    /// Writes the next bytes of the header block into `out` and returns how
    /// many. 0 with a non-empty `out` means the block is complete.
    ///
    /// Works for any `out.len() >= 1` and resumes at the byte where the last
    /// call stopped. The concatenation of all calls is identical whatever
    /// sizes of `out` are used.
    pub fn encode(&mut self, out: &mut [u8]) -> usize {
        let mut written = 0;
        while written < out.len() {
            if self.token.is_none() {
                self.token = self.next_token();
                self.token_offset = 0;
            }
            let Some(token) = &self.token else {
                break;
            };
            let rest = out.get_mut(written..).unwrap_or_default();
            let n = token.write(self.token_offset, rest);
            written += n;
            self.token_offset += n;
            if self.token_offset >= token.len() {
                self.token = None;
            }
        }
        written
    }

    /// Returns whether the whole block, empty line included, has been
    /// written.
    pub fn is_done(&self) -> bool {
        matches!(self.field, Field::Done) && self.token.is_none()
    }

    /// Length of the header block from the current position to its end
    /// (dry run on a copy), for the SIZE parameter. On a new encoder this is
    /// the length of the whole block.
    pub fn encoded_len(&self) -> usize {
        let mut copy = self.clone();
        let mut scratch = [0u8; 128];
        let mut total = 0;
        loop {
            let n = copy.encode(&mut scratch);
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Creates the next token and decides its place on the line.
    fn next_token(&mut self) -> Option<Token<'a>> {
        loop {
            match self.step {
                Step::Name => return self.field_name(),
                Step::LineEnd => {
                    self.column = 0;
                    self.line_has_encoded_word = false;
                    self.field = self.next_field(self.field);
                    self.step = Step::Name;
                    return Some(Token::plain(b"\r\n"));
                }
                Step::Value => return Some(self.field_value()),
                Step::MessageIdDomain => {
                    let domain = self.headers.message_id.map_or("", |id| id.domain);
                    let mut token = Token::plain(domain.as_bytes());
                    token.tail = b">";
                    self.step = Step::LineEnd;
                    return Some(self.place(token));
                }
                Step::MailboxStart(index) => {
                    self.step = match self.mailboxes().get(index) {
                        None => Step::LineEnd,
                        Some(Mailbox {
                            name: Some(name), ..
                        }) if !name.is_empty() => {
                            Step::MailboxName(index, TextCursor::new(name, phrase_mode(name)))
                        }
                        Some(_) => Step::MailboxAddress(index),
                    };
                }
                Step::MailboxName(index, mut cursor) => match self.text_token(&mut cursor) {
                    Some(token) => {
                        self.step = Step::MailboxName(index, cursor);
                        return Some(token);
                    }
                    None => self.step = Step::MailboxAddress(index),
                },
                Step::MailboxAddress(index) => {
                    let mailboxes = self.mailboxes();
                    let last = index + 1 >= mailboxes.len();
                    let mailbox = *mailboxes.get(index)?;
                    let named = mailbox.name.is_some_and(|name| !name.is_empty());
                    let mut token = Token::plain(mailbox.address.as_bytes());
                    let (lead, tail): (&'static [u8], &'static [u8]) = match (named, last) {
                        (true, true) => (b" <", b">"),
                        (true, false) => (b" <", b">,"),
                        (false, true) => (b" ", b""),
                        (false, false) => (b" ", b","),
                    };
                    token.lead = lead;
                    token.tail = tail;
                    self.step = Step::MailboxStart(index + 1);
                    return Some(self.place(token));
                }
                Step::Text(mut cursor) => match self.text_token(&mut cursor) {
                    Some(token) => {
                        self.step = Step::Text(cursor);
                        return Some(token);
                    }
                    None => self.step = Step::LineEnd,
                },
            }
        }
    }

    /// Returns the `Name:` token of the current field and chooses the step
    /// that writes its value.
    fn field_name(&mut self) -> Option<Token<'a>> {
        let name: &'a [u8] = match self.field {
            Field::Done => return None,
            Field::End => {
                self.field = Field::Done;
                return Some(Token::plain(b"\r\n"));
            }
            Field::From => b"From",
            Field::To => b"To",
            Field::Cc => b"Cc",
            Field::Subject => b"Subject",
            Field::Date => b"Date",
            Field::MessageId => b"Message-ID",
            Field::Extra(index) => self
                .headers
                .extra
                .get(index)
                .map_or(&b""[..], |(name, _)| name.as_bytes()),
            Field::MimeVersion => b"MIME-Version",
            Field::ContentType => b"Content-Type",
            Field::TransferEncoding => b"Content-Transfer-Encoding",
        };
        self.step = match self.field {
            Field::From | Field::To | Field::Cc => Step::MailboxStart(0),
            Field::Subject => Step::Text(unstructured_cursor(self.headers.subject)),
            Field::Extra(index) => {
                let value = self
                    .headers
                    .extra
                    .get(index)
                    .map_or("", |(_, value)| *value);
                Step::Text(unstructured_cursor(value))
            }
            _ => Step::Value,
        };
        let mut token = Token::plain(name);
        token.tail = b":";
        self.column = token.len();
        Some(token)
    }

    /// Returns the token after the name of a field with a single value.
    fn field_value(&mut self) -> Token<'a> {
        self.step = Step::LineEnd;
        let mut token = Token::plain(b"");
        token.lead = b" ";
        match self.field {
            Field::Date => {
                let formatted = self.headers.date.and_then(|date| date.format());
                let mut bytes = [0u8; INLINE_LEN];
                let len = formatted.map_or(0, |text| {
                    bytes[..Date::LEN].copy_from_slice(&text);
                    Date::LEN
                });
                token.body = Body::Inline { bytes, len };
            }
            Field::MessageId => {
                let unique = self.headers.message_id.map_or("", |id| id.unique);
                token.lead = b" <";
                token.body = Body::Plain(unique.as_bytes());
                token.tail = b"@";
                self.step = Step::MessageIdDomain;
            }
            Field::MimeVersion => token.body = Body::Plain(b"1.0"),
            Field::ContentType => token.body = Body::Plain(b"text/plain; charset=utf-8"),
            _ => token.body = Body::Plain(self.encoding.as_str().as_bytes()),
        }
        self.place(token)
    }

    /// Returns the next word of a display name or unstructured value, or
    /// `None` after its last word.
    fn text_token(&mut self, cursor: &mut TextCursor<'a>) -> Option<Token<'a>> {
        let TextMode::Encoded(encoding) = cursor.mode else {
            let (token, rest) = split_token(cursor)?;
            cursor.rest = rest;
            cursor.first = false;
            return Some(self.place(token));
        };

        if cursor.rest.is_empty() {
            return None;
        }
        // Start a new line unless the first character fits on this one.
        let minimum = encoded_word::first_char_word_len(encoding, cursor.rest);
        let available = ENCODED_WORD_LINE_LEN.saturating_sub(self.column + 1);
        let fold = minimum > available;
        let budget = if fold {
            ENCODED_WORD_LINE_LEN - 1
        } else {
            available
        };
        let mut word = [0u8; MAX_WORD_LEN];
        let (consumed, len) = encoded_word::encode_word(encoding, cursor.rest, budget, &mut word);
        cursor.rest = cursor.rest.get(consumed..).unwrap_or_default();

        let mut bytes = [0u8; INLINE_LEN];
        bytes[..MAX_WORD_LEN].copy_from_slice(&word);
        let token = Token {
            fold,
            lead: b" ",
            run: b"",
            body: Body::Inline { bytes, len },
            tail: b"",
        };
        self.column = if fold { 0 } else { self.column } + 1 + len;
        self.line_has_encoded_word = true;
        Some(token)
    }

    /// Folds before `token` when it would pass the line limit and starts
    /// with whitespace followed by text, then advances the column.
    fn place(&mut self, mut token: Token<'a>) -> Token<'a> {
        let len = token.len();
        let separator_len = usize::from(token.lead.first() == Some(&b' ')) + token.run.len();
        // A fold before whitespace alone would leave a line of only
        // whitespace, which RFC 5322 section 3.2.2 forbids.
        let can_fold = separator_len > 0 && len > separator_len;
        let limit = if self.line_has_encoded_word {
            ENCODED_WORD_LINE_LEN
        } else {
            FOLD_COLUMN
        };
        if can_fold && self.column + len > limit {
            token.fold = true;
            self.column = len;
            self.line_has_encoded_word = false;
        } else {
            self.column += len;
        }
        token
    }

    fn mailboxes(&self) -> &[Mailbox<'a>] {
        match self.field {
            Field::From => core::slice::from_ref(&self.headers.from),
            Field::To => self.headers.to,
            Field::Cc => self.headers.cc,
            _ => &[],
        }
    }

    /// Returns the field after `field`, skipping empty optional ones.
    fn next_field(&self, field: Field) -> Field {
        let mut next = field;
        loop {
            next = match next {
                Field::From => Field::To,
                Field::To => Field::Cc,
                Field::Cc => Field::Subject,
                Field::Subject => Field::Date,
                Field::Date => Field::MessageId,
                Field::MessageId => Field::Extra(0),
                Field::Extra(index) => Field::Extra(index + 1),
                Field::MimeVersion => Field::ContentType,
                Field::ContentType => Field::TransferEncoding,
                Field::TransferEncoding => Field::End,
                Field::End | Field::Done => Field::Done,
            };
            let present = match next {
                Field::To => !self.headers.to.is_empty(),
                Field::Cc => !self.headers.cc.is_empty(),
                Field::Subject => !self.headers.subject.is_empty(),
                Field::Date => self.headers.date.is_some(),
                Field::MessageId => self.headers.message_id.is_some(),
                Field::Extra(index) if index >= self.headers.extra.len() => {
                    next = Field::MimeVersion;
                    true
                }
                _ => true,
            };
            if present {
                return next;
            }
        }
    }
}

/// Header field being written, in output order.
#[derive(Debug, Clone, Copy)]
enum Field {
    From,
    To,
    Cc,
    Subject,
    Date,
    MessageId,
    Extra(usize),
    MimeVersion,
    ContentType,
    TransferEncoding,
    /// The empty line that ends the block.
    End,
    Done,
}

/// Position inside the current field.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Name,
    MailboxStart(usize),
    MailboxName(usize, TextCursor<'a>),
    MailboxAddress(usize),
    Text(TextCursor<'a>),
    Value,
    MessageIdDomain,
    LineEnd,
}

/// Output form of a display name or unstructured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextMode {
    /// Atoms separated by single spaces (RFC 5322 section 3.2.5 phrase).
    Atoms,
    /// One quoted-string (RFC 5322 section 3.2.4), folded at its whitespace.
    Quoted,
    /// Unstructured text as given, folded at its whitespace.
    Unstructured,
    /// RFC 2047 encoded-words.
    Encoded(WordEncoding),
}

/// Remaining text of a display name or unstructured value.
#[derive(Debug, Clone, Copy)]
struct TextCursor<'a> {
    rest: &'a str,
    mode: TextMode,
    /// No token of this text has been written yet.
    first: bool,
}

impl<'a> TextCursor<'a> {
    fn new(text: &'a str, mode: TextMode) -> Self {
        Self {
            rest: text,
            mode,
            first: true,
        }
    }
}

fn unstructured_cursor(text: &str) -> TextCursor<'_> {
    TextCursor::new(text, unstructured_mode(text))
}

/// Chooses how to write a display name: atoms when it is atext words
/// separated by single spaces, else a quoted-string, else encoded-words
/// (always for non-ASCII or `=?`, and when a word cannot fit in 998
/// octets).
fn phrase_mode(name: &str) -> TextMode {
    let encoded = TextMode::Encoded(WordEncoding::shorter_for(name));
    if !name.is_ascii() || name.contains("=?") {
        return encoded;
    }
    let atoms = name
        .split(' ')
        .all(|word| !word.is_empty() && word.bytes().all(is_atext));
    if atoms && layout_fits(name, TextMode::Atoms) {
        TextMode::Atoms
    } else if layout_fits(name, TextMode::Quoted) {
        TextMode::Quoted
    } else {
        encoded
    }
}

/// Chooses how to write unstructured text: as given when it is ASCII,
/// without `=?`, and its words fit in lines of 998 octets; encoded-words
/// otherwise.
fn unstructured_mode(text: &str) -> TextMode {
    if text.is_ascii() && !text.contains("=?") && layout_fits(text, TextMode::Unstructured) {
        TextMode::Unstructured
    } else {
        TextMode::Encoded(WordEncoding::shorter_for(text))
    }
}

/// Checks that no line can exceed 998 octets. Every token that can fold
/// starts a line when it passes the fold column, so a line contains at most 78
/// columns or one longer token, plus trailing whitespace that cannot fold.
fn layout_fits(text: &str, mode: TextMode) -> bool {
    let mut cursor = TextCursor::new(text, mode);
    let mut longest = 0;
    let mut trailing = 0;
    while let Some((token, rest)) = split_token(&cursor) {
        if token.body.len() + token.tail.len() > 0 {
            longest = longest.max(token.len());
        } else {
            trailing = token.len();
        }
        cursor.rest = rest;
        cursor.first = false;
    }
    FOLD_COLUMN.max(longest).saturating_add(trailing) <= MAX_LINE_LEN
}

/// Splits the next token off an atom, quoted or unstructured text, before
/// its place is decided. Returns the token and the text after it.
fn split_token<'a>(cursor: &TextCursor<'a>) -> Option<(Token<'a>, &'a str)> {
    let rest = cursor.rest;
    let mut token = Token::plain(b"");
    match cursor.mode {
        TextMode::Atoms => {
            if rest.is_empty() {
                return None;
            }
            let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
            token.lead = b" ";
            token.body = Body::Plain(word.as_bytes());
            Some((token, after))
        }
        TextMode::Quoted | TextMode::Unstructured => {
            if rest.is_empty() && !cursor.first {
                return None;
            }
            let word_start = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let (run, after_run) = rest.split_at(word_start);
            let word_len = after_run.find([' ', '\t']).unwrap_or(after_run.len());
            let (word, after) = after_run.split_at(word_len);
            token.run = run.as_bytes();
            if cursor.mode == TextMode::Quoted {
                token.lead = if cursor.first { b" \"" } else { b"" };
                token.body = Body::Escaped(word.as_bytes());
                token.tail = if after.is_empty() { b"\"" } else { b"" };
            } else {
                token.lead = if cursor.first { b" " } else { b"" };
                token.body = Body::Plain(word.as_bytes());
            }
            Some((token, after))
        }
        TextMode::Encoded(_) => None,
    }
}

/// Bytes of one token. On output a token is: CRLF when folded, `lead`,
/// `run`, `body`, `tail`.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    fold: bool,
    lead: &'static [u8],
    /// Whitespace from the input that precedes the word.
    run: &'a [u8],
    body: Body<'a>,
    tail: &'static [u8],
}

#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    Plain(&'a [u8]),
    /// Quoted-string content: `"` and `\` get a backslash before them.
    Escaped(&'a [u8]),
    Inline {
        bytes: [u8; INLINE_LEN],
        len: usize,
    },
}

impl Body<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Plain(bytes) => bytes.len(),
            Self::Escaped(bytes) => {
                bytes.len() + bytes.iter().filter(|&&b| needs_escape(b)).count()
            }
            Self::Inline { len, .. } => *len,
        }
    }
}

fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\'
}

impl<'a> Token<'a> {
    fn plain(body: &'a [u8]) -> Self {
        Self {
            fold: false,
            lead: b"",
            run: b"",
            body: Body::Plain(body),
            tail: b"",
        }
    }

    fn len(&self) -> usize {
        let fold = if self.fold { 2 } else { 0 };
        fold + self.lead.len() + self.run.len() + self.body.len() + self.tail.len()
    }

    /// Writes the token's bytes from offset `skip` into `out` and returns
    /// how many were written.
    fn write(&self, skip: usize, out: &mut [u8]) -> usize {
        let mut writer = SkipWriter {
            skip,
            out,
            written: 0,
        };
        if self.fold {
            writer.put(b"\r\n");
        }
        writer.put(self.lead);
        writer.put(self.run);
        match &self.body {
            Body::Plain(bytes) => writer.put(bytes),
            Body::Escaped(bytes) => {
                for &b in bytes.iter() {
                    if needs_escape(b) {
                        writer.put(b"\\");
                    }
                    writer.put(&[b]);
                }
            }
            Body::Inline { bytes, len } => writer.put(bytes.get(..*len).unwrap_or_default()),
        }
        writer.put(self.tail);
        writer.written
    }
}

/// Copies a sequence of byte strings into `out`, leaving out the first
/// `skip` bytes of the sequence and anything past the end of `out`.
struct SkipWriter<'o> {
    skip: usize,
    out: &'o mut [u8],
    written: usize,
}

impl SkipWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if self.skip >= bytes.len() {
            self.skip -= bytes.len();
            return;
        }
        let bytes = bytes.get(self.skip..).unwrap_or_default();
        self.skip = 0;
        let room = self.out.get_mut(self.written..).unwrap_or_default();
        let n = room.len().min(bytes.len());
        if let (Some(dst), Some(src)) = (room.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.written += n;
    }
}

/// Returns whether `text` holds a control character other than HTAB.
fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\t')
}

fn check_mailbox(field: HeaderField, mailbox: &Mailbox<'_>) -> Result<(), ComposeError> {
    validate_mailbox(mailbox.address)
        .map_err(|error| ComposeError::InvalidAddress { field, error })?;
    if mailbox.name.is_some_and(has_control) {
        return Err(ComposeError::InvalidDisplayName { field });
    }
    Ok(())
}

fn check_extra_field(
    headers: &Headers<'_>,
    field: HeaderField,
    name: &str,
    value: &str,
) -> Result<(), ComposeError> {
    // RFC 5322 section 2.2: ftext is printable ASCII except ":".
    let name_valid = !name.is_empty()
        && name.len() <= HeaderEncoder::MAX_FIELD_NAME_LEN
        && name.bytes().all(|b| matches!(b, 33..=57 | 59..=126));
    if !name_valid {
        return Err(ComposeError::InvalidHeaderName { field });
    }
    let reserved = RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name))
        || (headers.date.is_some() && name.eq_ignore_ascii_case("Date"))
        || (headers.message_id.is_some() && name.eq_ignore_ascii_case("Message-ID"));
    if reserved {
        return Err(ComposeError::DuplicateHeader { field });
    }
    if has_control(value) {
        return Err(ComposeError::InvalidHeaderValue { field });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::codec::address::AddressError;
    use crate::codec::message::test_support::{
        DecodedMailbox, Rng, decode_address_list, decode_unstructured, parse_header_block,
    };
    use std::string::String;
    use std::vec::Vec;

    const FROM: Mailbox<'static> = Mailbox::with_name("Pump 7", "pump7@example.net");

    fn headers<'a>(subject: &'a str) -> Headers<'a> {
        Headers {
            from: FROM,
            to: &[],
            cc: &[],
            subject,
            date: None,
            message_id: None,
            extra: &[],
        }
    }

    /// Encodes the whole block with `out` buffers of `size` bytes.
    fn encode_with(encoder: &HeaderEncoder<'_>, size: usize) -> Vec<u8> {
        let mut encoder = encoder.clone();
        let mut block = Vec::new();
        let mut out = std::vec![0u8; size];
        loop {
            let n = encoder.encode(&mut out);
            if n == 0 {
                break;
            }
            assert!(n <= size);
            block.extend_from_slice(&out[..n]);
            assert!(block.len() < 1 << 20, "header block does not end");
        }
        assert!(encoder.is_done());
        block
    }

    /// Encodes `headers` with every `out` size from 1 to the block length
    /// and checks that all runs give the same bytes, that `encoded_len`
    /// matches, and that the block follows the line rules.
    fn encode_checked(headers: &Headers<'_>, max_line: usize) -> Vec<u8> {
        let encoder = HeaderEncoder::new(headers, TransferEncoding::SevenBit).unwrap();
        let block = encode_with(&encoder, 4096);
        assert_eq!(encoder.encoded_len(), block.len());
        for size in 1..=block.len() {
            assert_eq!(encode_with(&encoder, size), block, "out size {size}");
        }
        if let Err(reason) = parse_header_block(&block, max_line) {
            panic!("{reason}\n{}", String::from_utf8_lossy(&block));
        }
        block
    }

    fn field_values(block: &[u8], name: &str) -> Vec<String> {
        parse_header_block(block, MAX_LINE_LEN)
            .unwrap()
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, value)| value)
            .collect()
    }

    /// Returns the decoded Subject, or "" when the field is absent (the
    /// encoder leaves out an empty subject).
    fn subject_of(block: &[u8]) -> String {
        let values = field_values(block, "Subject");
        assert!(values.len() <= 1, "{} Subject fields", values.len());
        values
            .first()
            .map(|value| decode_unstructured(value).unwrap())
            .unwrap_or_default()
    }

    fn text(block: &[u8]) -> &str {
        core::str::from_utf8(block).unwrap()
    }

    #[test]
    fn header_block_fixture() {
        let to = [
            Mailbox::new("ops@example.net"),
            Mailbox::with_name("Night Shift", "night@example.org"),
        ];
        let cc = [Mailbox::with_name("Doe, John", "john@example.com")];
        let extra = [("X-Priority", "1")];
        let headers = Headers {
            from: FROM,
            to: &to,
            cc: &cc,
            subject: "Pressure alarm",
            date: Some(Date::new(1_796_415_068, 60)),
            message_id: Some(MessageId::new("17.42", "pump7.example.net")),
            extra: &extra,
        };
        let block = encode_checked(&headers, FOLD_COLUMN);
        assert_eq!(
            text(&block),
            "From: Pump 7 <pump7@example.net>\r\n\
             To: ops@example.net, Night Shift <night@example.org>\r\n\
             Cc: \"Doe, John\" <john@example.com>\r\n\
             Subject: Pressure alarm\r\n\
             Date: Fri, 04 Dec 2026 21:11:08 +0100\r\n\
             Message-ID: <17.42@pump7.example.net>\r\n\
             X-Priority: 1\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 7bit\r\n\
             \r\n"
        );
    }

    #[test]
    fn header_minimal_block() {
        let headers = Headers {
            from: Mailbox::new("a@b"),
            ..headers("")
        };
        let encoder = HeaderEncoder::new(&headers, TransferEncoding::QuotedPrintable).unwrap();
        assert_eq!(
            text(&encode_with(&encoder, 7)),
            "From: a@b\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\
             \r\n"
        );
    }

    #[test]
    fn header_encode_after_done_returns_zero() {
        let mut encoder = HeaderEncoder::new(&headers("x"), TransferEncoding::EightBit).unwrap();
        let block = encode_with(&encoder, 64);
        assert!(text(&block).contains("Content-Transfer-Encoding: 8bit\r\n"));
        let mut out = [0u8; 64];
        while encoder.encode(&mut out) > 0 {}
        assert_eq!(encoder.encode(&mut out), 0);
        assert_eq!(encoder.encode(&mut []), 0);
        assert!(encoder.is_done());
        assert_eq!(encoder.encoded_len(), 0);
    }

    // Fixtures checked once with Python 3.12: `email.message_from_bytes(block,
    // policy=email.policy.default)` returns the original text for Subject
    // and the display names.
    #[test]
    fn header_folds_ascii_subject_at_whitespace() {
        let subject = "Pressure in line 4 above 7.5 bar for more than ten minutes, \
                       operator action required before the next cycle";
        let block = encode_checked(&headers(subject), FOLD_COLUMN);
        assert_eq!(
            text(&block).split("\r\nMIME").next().unwrap(),
            "From: Pump 7 <pump7@example.net>\r\n\
             Subject: Pressure in line 4 above 7.5 bar for more than ten minutes, operator\r\n \
             action required before the next cycle"
        );
        assert_eq!(subject_of(&block), subject);
    }

    #[test]
    fn header_keeps_whitespace_runs() {
        for subject in ["a  b\tc", "  leading", "trailing  ", "   ", "\t", "x\t\ty"] {
            let block = encode_checked(&headers(subject), FOLD_COLUMN);
            assert_eq!(subject_of(&block), subject);
        }
        let long_runs = std::format!(
            "{}{}end{}",
            "word ".repeat(30),
            " ".repeat(70),
            "\t".repeat(5)
        );
        let block = encode_checked(&headers(&long_runs), FOLD_COLUMN + 5);
        assert_eq!(subject_of(&block), long_runs);
    }

    #[test]
    fn header_long_word_stays_whole() {
        let word = "x".repeat(200);
        let subject = std::format!("short {word} tail");
        let block = encode_checked(&headers(&subject), MAX_LINE_LEN);
        assert!(text(&block).contains(&std::format!("Subject: short\r\n {word}\r\n tail\r\n")));
        assert_eq!(subject_of(&block), subject);
    }

    #[test]
    fn header_word_over_998_becomes_encoded() {
        for len in [996, 997, 998, 1200, 3000] {
            let subject = "y".repeat(len);
            let block = encode_checked(&headers(&subject), MAX_LINE_LEN);
            let encoded = text(&block).contains("=?utf-8?");
            assert_eq!(encoded, len > 997, "length {len}");
            assert_eq!(subject_of(&block), subject);
        }
    }

    #[test]
    fn header_non_ascii_subject_is_encoded() {
        let subjects = [
            "Temperatur über Grenzwert",
            "日本語の件名はとても長いのでいくつかのエンコードされた単語に分割されます。日本語の件名",
            "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
            "ü",
            "a ü b  c ",
        ];
        for subject in subjects {
            let block = encode_checked(&headers(subject), ENCODED_WORD_LINE_LEN);
            assert!(text(&block).contains("Subject: =?utf-8?"), "{subject}");
            assert_eq!(subject_of(&block), subject);
        }
    }

    #[test]
    fn header_subject_encoded_fixture() {
        let block = encode_checked(&headers("Temperatur über Grenzwert"), FOLD_COLUMN);
        assert!(
            text(&block).contains("Subject: =?utf-8?Q?Temperatur_=C3=BCber_Grenzwert?=\r\n"),
            "{}",
            text(&block)
        );
        let block = encode_checked(&headers("日本語"), FOLD_COLUMN);
        assert!(text(&block).contains("Subject: =?utf-8?B?5pel5pys6Kqe?=\r\n"));
    }

    #[test]
    fn header_encodes_text_resembling_encoded_word() {
        let subject = "=?utf-8?Q?not_decoded?=";
        let block = encode_checked(&headers(subject), FOLD_COLUMN);
        assert!(!text(&block).contains(subject));
        assert_eq!(subject_of(&block), subject);
    }

    #[test]
    fn header_utf8_at_every_word_boundary() {
        // Shifting the text by one ASCII byte at a time moves every
        // multi-byte character across each encoded-word boundary.
        for prefix in 0..50 {
            let subject = std::format!("{}{}", "a".repeat(prefix), "é€😀".repeat(12));
            let block = encode_checked(&headers(&subject), ENCODED_WORD_LINE_LEN);
            assert_eq!(subject_of(&block), subject, "prefix {prefix}");
        }
    }

    #[test]
    fn header_display_name_forms() {
        let cases: &[(&str, &str)] = &[
            ("Pump 7", "Pump 7 <p@example.net>"),
            ("John Q. Public", "\"John Q. Public\" <p@example.net>"),
            (
                "say \"hi\" \\ bye",
                "\"say \\\"hi\\\" \\\\ bye\" <p@example.net>",
            ),
            ("a  b", "\"a  b\" <p@example.net>"),
            (" lead", "\" lead\" <p@example.net>"),
            ("José", "=?utf-8?B?Sm9zw6k=?= <p@example.net>"),
            (
                "Jürgen Mustermann",
                "=?utf-8?Q?J=C3=BCrgen_Mustermann?= <p@example.net>",
            ),
            ("=?x?", "=?utf-8?B?PT94Pw==?= <p@example.net>"),
        ];
        for &(name, expected) in cases {
            let to = [Mailbox::with_name(name, "p@example.net")];
            let headers = Headers {
                to: &to,
                ..headers("s")
            };
            let block = encode_checked(&headers, FOLD_COLUMN);
            let values = field_values(&block, "To");
            assert_eq!(values, [std::format!(" {expected}")], "{name}");
            let decoded = decode_address_list(&values[0]).unwrap();
            assert_eq!(
                decoded,
                [DecodedMailbox {
                    name: Some(String::from(name)),
                    address: String::from("p@example.net")
                }]
            );
        }
    }

    #[test]
    fn header_empty_display_name_is_bare_address() {
        let to = [Mailbox::with_name("", "p@example.net")];
        let headers = Headers {
            to: &to,
            ..headers("s")
        };
        let block = encode_checked(&headers, FOLD_COLUMN);
        assert_eq!(field_values(&block, "To"), [" p@example.net"]);
    }

    #[test]
    fn header_folds_address_list() {
        let names = [
            "Alice Example",
            "Bob",
            "Carol \"C\" Example",
            "Dörte Ünal",
            "Eve",
        ];
        let addresses = [
            "alice@example.net",
            "bob.with.a.rather.long.local.part@subdomain.example.org",
            "carol@example.com",
            "doerte@example.de",
            "eve@example.net",
        ];
        let to: Vec<Mailbox<'_>> = names
            .iter()
            .zip(addresses)
            .map(|(&name, address)| Mailbox::with_name(name, address))
            .collect();
        let headers = Headers {
            to: &to,
            cc: &to[1..3],
            ..headers("s")
        };
        let block = encode_checked(&headers, FOLD_COLUMN);
        let decoded = decode_address_list(&field_values(&block, "To")[0]).unwrap();
        assert_eq!(decoded.len(), names.len());
        for ((mailbox, name), address) in decoded.iter().zip(names).zip(addresses) {
            assert_eq!(mailbox.name.as_deref(), Some(name));
            assert_eq!(mailbox.address, address);
        }
        assert_eq!(
            decode_address_list(&field_values(&block, "Cc")[0])
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn header_long_display_names() {
        let long_atoms = "Word ".repeat(60);
        let long_atoms = long_atoms.trim_end();
        let long_quoted = "Dr. Very.Long.Name ".repeat(20);
        let unbreakable_quoted = std::format!("{}.", "q".repeat(1000));
        let long_encoded = "Jürgen ".repeat(30);
        for name in [long_atoms, &long_quoted, &unbreakable_quoted, &long_encoded] {
            let to = [
                Mailbox::with_name(name, "p@example.net"),
                Mailbox::new("x@example.net"),
            ];
            let headers = Headers {
                to: &to,
                ..headers("s")
            };
            let block = encode_checked(&headers, FOLD_COLUMN);
            let decoded = decode_address_list(&field_values(&block, "To")[0]).unwrap();
            assert_eq!(decoded[0].name.as_deref(), Some(name));
            assert_eq!(decoded[1].address, "x@example.net");
        }
    }

    #[test]
    fn header_message_id_folds_when_long() {
        let unique = "u".repeat(90);
        let headers = Headers {
            message_id: Some(MessageId::new(&unique, "example.net")),
            ..headers("s")
        };
        let block = encode_checked(&headers, MAX_LINE_LEN);
        assert!(text(&block).contains(&std::format!("Message-ID:\r\n <{unique}@example.net>\r\n")));
    }

    #[test]
    fn header_rejects_control_characters() {
        let controls = ["\r", "\n", "\r\n", "\0", "\x7f", "\x1b", "\u{85}"];
        for control in controls {
            let injected = std::format!("a{control}Bcc: x@example.net");
            let address = std::format!("a{control}@example.net");
            let mailbox = [Mailbox::with_name(&injected, "p@example.net")];
            let bad_address = [Mailbox::new(&address)];
            let extra = [("X-Test", injected.as_str())];
            let bad_name = [(injected.as_str(), "v")];
            let cases: [(Headers<'_>, ComposeError); 7] = [
                (
                    headers(&injected),
                    ComposeError::InvalidHeaderValue {
                        field: HeaderField::Subject,
                    },
                ),
                (
                    Headers {
                        from: mailbox[0],
                        ..headers("s")
                    },
                    ComposeError::InvalidDisplayName {
                        field: HeaderField::From,
                    },
                ),
                (
                    Headers {
                        to: &mailbox,
                        ..headers("s")
                    },
                    ComposeError::InvalidDisplayName {
                        field: HeaderField::To(0),
                    },
                ),
                (
                    Headers {
                        cc: &bad_address,
                        ..headers("s")
                    },
                    ComposeError::InvalidAddress {
                        field: HeaderField::Cc(0),
                        error: AddressError::Control,
                    },
                ),
                (
                    Headers {
                        from: bad_address[0],
                        ..headers("s")
                    },
                    ComposeError::InvalidAddress {
                        field: HeaderField::From,
                        error: AddressError::Control,
                    },
                ),
                (
                    Headers {
                        extra: &extra,
                        ..headers("s")
                    },
                    ComposeError::InvalidHeaderValue {
                        field: HeaderField::Extra(0),
                    },
                ),
                (
                    Headers {
                        extra: &bad_name,
                        ..headers("s")
                    },
                    ComposeError::InvalidHeaderName {
                        field: HeaderField::Extra(0),
                    },
                ),
            ];
            for (headers, expected) in cases {
                let result = HeaderEncoder::new(&headers, TransferEncoding::SevenBit);
                assert_eq!(result.err(), Some(expected), "{control:?}");
            }
        }
    }

    #[test]
    fn header_allows_tab_in_text() {
        let to = [Mailbox::with_name("a\tb", "p@example.net")];
        let extra = [("X-Tab", "1\t2")];
        let headers = Headers {
            to: &to,
            extra: &extra,
            ..headers("tab\there")
        };
        let block = encode_checked(&headers, FOLD_COLUMN);
        assert_eq!(subject_of(&block), "tab\there");
        assert_eq!(field_values(&block, "X-Tab"), [" 1\t2"]);
        assert_eq!(field_values(&block, "To"), [" \"a\tb\" <p@example.net>"]);
    }

    #[test]
    fn header_rejects_invalid_extra_names() {
        let long = "X".repeat(HeaderEncoder::MAX_FIELD_NAME_LEN + 1);
        for name in ["", "X Space", "X:Colon", "Ä", long.as_str()] {
            let extra = [("X-Ok", "1"), (name, "v")];
            let headers = Headers {
                extra: &extra,
                ..headers("s")
            };
            assert_eq!(
                HeaderEncoder::new(&headers, TransferEncoding::SevenBit).err(),
                Some(ComposeError::InvalidHeaderName {
                    field: HeaderField::Extra(1)
                }),
                "{name:?}"
            );
        }
        let longest = "X".repeat(HeaderEncoder::MAX_FIELD_NAME_LEN);
        let extra = [(longest.as_str(), "value with words")];
        let headers = Headers {
            extra: &extra,
            ..headers("s")
        };
        let block = encode_checked(&headers, FOLD_COLUMN);
        assert!(text(&block).contains(&std::format!("{longest}:\r\n value with words\r\n")));
    }

    #[test]
    fn header_rejects_duplicate_fields() {
        let date = Some(Date::new(0, 0));
        let id = Some(MessageId::new("a", "b"));
        for name in [
            "from",
            "TO",
            "Cc",
            "Subject",
            "mime-version",
            "Content-Type",
            "content-transfer-encoding",
        ] {
            let extra = [(name, "x")];
            let headers = Headers {
                extra: &extra,
                ..headers("s")
            };
            assert_eq!(
                HeaderEncoder::new(&headers, TransferEncoding::SevenBit).err(),
                Some(ComposeError::DuplicateHeader {
                    field: HeaderField::Extra(0)
                }),
                "{name}"
            );
        }
        for name in ["Date", "Message-ID"] {
            let extra = [(name, "x")];
            let without = Headers {
                extra: &extra,
                ..headers("s")
            };
            assert!(HeaderEncoder::new(&without, TransferEncoding::SevenBit).is_ok());
            let with = Headers {
                date,
                message_id: id,
                ..without
            };
            assert!(matches!(
                HeaderEncoder::new(&with, TransferEncoding::SevenBit),
                Err(ComposeError::DuplicateHeader { .. })
            ));
        }
    }

    #[test]
    fn header_rejects_invalid_date_and_message_id() {
        let headers_with_date = Headers {
            date: Some(Date::new(i64::MAX, 0)),
            ..headers("s")
        };
        assert_eq!(
            HeaderEncoder::new(&headers_with_date, TransferEncoding::SevenBit).err(),
            Some(ComposeError::InvalidDate)
        );
        let long = "u".repeat(994);
        for (unique, domain) in [
            ("a b", "c"),
            ("a", "b\r\nX: y"),
            ("a", ""),
            (long.as_str(), "d"),
        ] {
            let headers = Headers {
                message_id: Some(MessageId::new(unique, domain)),
                ..headers("s")
            };
            assert_eq!(
                HeaderEncoder::new(&headers, TransferEncoding::SevenBit).err(),
                Some(ComposeError::InvalidMessageId),
                "{unique:?}"
            );
        }
    }

    #[test]
    fn header_non_ascii_extra_value_is_encoded() {
        let extra = [("X-Site", "Wasserwerk Süd")];
        let headers = Headers {
            extra: &extra,
            ..headers("s")
        };
        let block = encode_checked(&headers, FOLD_COLUMN);
        let values = field_values(&block, "X-Site");
        assert_eq!(decode_unstructured(&values[0]).unwrap(), "Wasserwerk Süd");
    }

    #[test]
    fn compose_error_messages_name_the_field() {
        let error = ComposeError::InvalidAddress {
            field: HeaderField::To(2),
            error: AddressError::Control,
        };
        assert_eq!(
            std::format!("{error}"),
            "invalid address in To[2]: mailbox or domain contains a control character such as CR, LF or NUL"
        );
        let error = ComposeError::InvalidHeaderValue {
            field: HeaderField::Extra(0),
        };
        assert!(std::format!("{error}").starts_with("invalid header value in extra[0]:"));
    }

    // Python 3 `email.message_from_bytes(block, policy=email.policy.default)`
    // reads these blocks back without defects: the Subject and every display
    // name and address equal the inputs below.
    #[test]
    fn header_python_cross_check_fixture() {
        let to = [
            Mailbox::with_name("Doe, John", "john@example.com"),
            Mailbox::with_name("José Ñúñez", "jose@example.es"),
            Mailbox::with_name("say \"hi\" \\ bye", "q@example.net"),
            Mailbox::with_name(
                "Dr. Very.Long.Name Dr. Very.Long.Name Dr. Very.Long.Name Dr. Very.Long.Name",
                "long@example.net",
            ),
            Mailbox::new("bare@example.net"),
        ];
        let to_field = "To: \"Doe, John\" <john@example.com>, =?utf-8?B?Sm9zw6kgw5HDusOxZXo=?=\r\n \
                        <jose@example.es>, \"say \\\"hi\\\" \\\\ bye\" <q@example.net>, \"Dr. Very.Long.Name\r\n \
                        Dr. Very.Long.Name Dr. Very.Long.Name Dr. Very.Long.Name\" <long@example.net>,\r\n \
                        bare@example.net\r\n";
        let cases = [
            (
                "Pressure in line 4 above 7.5 bar for more than ten minutes, operator action required before the next cycle",
                "Subject: Pressure in line 4 above 7.5 bar for more than ten minutes, operator\r\n \
                 action required before the next cycle\r\n",
            ),
            (
                "Alarm: Temperatur über Grenzwert in Halle 3 – bitte prüfen, Füllstand 97 % 😀",
                "Subject: =?utf-8?B?QWxhcm06IFRlbXBlcmF0dXIgw7xiZXIgR3Jlbnp3ZXJ0IGluIEhh?=\r\n \
                 =?utf-8?B?bGxlIDMg4oCTIGJpdHRlIHByw7xmZW4sIEbDvGxsc3RhbmQgOTcgJSDwn5iA?=\r\n",
            ),
            (
                "日本語の件名はとても長いのでいくつかのエンコードされた単語に分割されます。日本語の件名",
                "Subject: =?utf-8?B?5pel5pys6Kqe44Gu5Lu25ZCN44Gv44Go44Gm44KC6ZW344GE44Gu?=\r\n \
                 =?utf-8?B?44Gn44GE44GP44Gk44GL44Gu44Ko44Oz44Kz44O844OJ44GV44KM44Gf5Y2Y?=\r\n \
                 =?utf-8?B?6Kqe44Gr5YiG5Ymy44GV44KM44G+44GZ44CC5pel5pys6Kqe44Gu5Lu25ZCN?=\r\n",
            ),
            (
                "=?utf-8?Q?not_decoded?=",
                "Subject: =?utf-8?B?PT91dGYtOD9RP25vdF9kZWNvZGVkPz0=?=\r\n",
            ),
        ];
        for (subject, subject_field) in cases {
            let headers = Headers {
                to: &to,
                ..headers(subject)
            };
            let block = encode_checked(&headers, FOLD_COLUMN);
            let expected = std::format!(
                "From: Pump 7 <pump7@example.net>\r\n{to_field}{subject_field}\
                 MIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: 7bit\r\n\r\n"
            );
            assert_eq!(text(&block), expected);
        }
    }

    /// Builds a random string from pieces that stress the encoder: ASCII
    /// words, specials, whitespace runs, multi-byte characters, `=?`, and
    /// rarely a control character.
    fn random_text(rng: &mut Rng, max_pieces: usize) -> String {
        const PIECES: &[&str] = &[
            "a", "word", " ", "  ", "\t", "\"", "\\", ".", ",", "<", ">", "@", "=?", "?=", "_",
            "=", "é", "€", "😀", "日本", "Zürich", "\r", "\n", "\0",
        ];
        let mut text = String::new();
        for _ in 0..rng.below(max_pieces + 1) {
            let piece = PIECES[rng.below(PIECES.len())];
            if piece.chars().any(|c| c.is_control() && c != '\t') && rng.below(8) != 0 {
                continue;
            }
            if rng.below(20) == 0 {
                text.push_str(&piece.repeat(rng.below(120)));
            } else {
                text.push_str(piece);
            }
        }
        text
    }

    #[test]
    fn header_random_inputs_round_trip() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..400 {
            let subject = random_text(&mut rng, 30);
            let names: Vec<String> = (0..3).map(|_| random_text(&mut rng, 8)).collect();
            let value = random_text(&mut rng, 20);
            let to: Vec<Mailbox<'_>> = names
                .iter()
                .map(|name| Mailbox::with_name(name, "r@example.net"))
                .collect();
            let extra = [("X-Random", value.as_str())];
            let headers = Headers {
                from: Mailbox::with_name(&names[0], "f@example.net"),
                to: &to,
                cc: &to[..rng.below(4)],
                subject: &subject,
                date: Some(Date::new((rng.next() % 4_000_000_000) as i64, 0)),
                message_id: None,
                extra: &extra,
            };
            let encoder = match HeaderEncoder::new(&headers, TransferEncoding::SevenBit) {
                Ok(encoder) => encoder,
                Err(error) => {
                    assert!(
                        matches!(
                            error,
                            ComposeError::InvalidHeaderValue { .. }
                                | ComposeError::InvalidDisplayName { .. }
                        ),
                        "round {round}: {error}"
                    );
                    let all = [subject.as_str(), &names[0], &names[1], &names[2], &value];
                    assert!(all.iter().any(|t| has_control(t)), "round {round}");
                    continue;
                }
            };
            let block = encode_with(&encoder, 1 + rng.below(100));
            assert_eq!(block, encode_with(&encoder, 4096), "round {round}");
            assert_eq!(encoder.encoded_len(), block.len());
            if let Err(reason) = parse_header_block(&block, MAX_LINE_LEN) {
                panic!(
                    "round {round}: {reason}\n{}",
                    String::from_utf8_lossy(&block)
                );
            }
            assert_eq!(subject_of(&block), subject, "round {round}");
            let extra_value = &field_values(&block, "X-Random")[0];
            assert_eq!(
                decode_unstructured(extra_value).unwrap(),
                value,
                "round {round}"
            );
            let decoded = decode_address_list(&field_values(&block, "To")[0]).unwrap();
            for (mailbox, name) in decoded.iter().zip(&names) {
                let expected = (!name.is_empty()).then(|| name.clone());
                assert_eq!(mailbox.name, expected, "round {round}");
            }
        }
    }
}
