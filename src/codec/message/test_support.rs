//! Test-only decoders for quoted-printable bodies and RFC 2047 header text,
//! used to check that encoded output reads back as the input.

extern crate std;

use std::string::String;
use std::vec::Vec;

/// Decodes a quoted-printable body and checks the RFC 2045 section 6.7
/// output rules on the way: lines of at most 76 characters ending in CRLF,
/// no trailing whitespace, no line starting with `.`, and only printable
/// ASCII, space, HTAB and upper-case `=XX` escapes.
pub fn decode_quoted_printable(encoded: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoded = Vec::new();
    if encoded.is_empty() {
        return Ok(decoded);
    }
    let body = encoded
        .strip_suffix(b"\r\n")
        .ok_or("output does not end in CRLF")?;
    for (number, line) in split_crlf(body).into_iter().enumerate() {
        decode_line(line, number, &mut decoded)?;
    }
    Ok(decoded)
}

fn split_crlf(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if &bytes[i..i + 2] == b"\r\n" {
            lines.push(&bytes[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    lines.push(&bytes[start..]);
    lines
}

/// Decodes one output line and appends CRLF unless it ends in a soft break.
fn decode_line(line: &[u8], number: usize, decoded: &mut Vec<u8>) -> Result<(), String> {
    if line.len() > 76 {
        return Err(std::format!("line {number} has {} characters", line.len()));
    }
    if line.first() == Some(&b'.') {
        return Err(std::format!("line {number} starts with a dot"));
    }
    if matches!(line.last(), Some(b' ' | b'\t')) {
        return Err(std::format!("line {number} ends in whitespace"));
    }
    let (content, soft) = match line.strip_suffix(b"=") {
        Some(content) => (content, true),
        None => (line, false),
    };
    let mut i = 0;
    while let Some(&b) = content.get(i) {
        match b {
            b'=' => {
                let hex = content
                    .get(i + 1..i + 3)
                    .ok_or_else(|| std::format!("line {number} has a truncated escape"))?;
                let text = core::str::from_utf8(hex).map_err(|_| "non-ASCII escape")?;
                if text.bytes().any(|h| h.is_ascii_lowercase()) {
                    return Err(std::format!("line {number} has a lower-case escape"));
                }
                decoded.push(u8::from_str_radix(text, 16).map_err(|_| "invalid escape")?);
                i += 3;
            }
            b' ' | b'\t' | 33..=126 => {
                decoded.push(b);
                i += 1;
            }
            _ => return Err(std::format!("line {number} has raw byte {b:#04x}")),
        }
    }
    if !soft {
        decoded.extend_from_slice(b"\r\n");
    }
    Ok(())
}

/// Returns the body as a quoted-printable decoder should read it back: bare
/// CR and bare LF become CRLF, and a final CRLF ends a non-empty body.
pub fn normalize_line_endings(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            b'\r' if body.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Decodes one `=?charset?B|Q?text?=` word with charset utf-8.
pub fn decode_encoded_word(word: &[u8]) -> Result<String, String> {
    let text = core::str::from_utf8(word).map_err(|_| "encoded-word is not ASCII")?;
    if text.len() > 75 {
        return Err(std::format!("encoded-word longer than 75: {text}"));
    }
    let inner = text
        .strip_prefix("=?")
        .and_then(|t| t.strip_suffix("?="))
        .ok_or_else(|| std::format!("not an encoded-word: {text}"))?;
    let mut parts = inner.splitn(3, '?');
    let charset = parts.next().unwrap_or_default();
    let encoding = parts.next().unwrap_or_default();
    let payload = parts.next().ok_or("missing payload")?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return Err(std::format!("unexpected charset {charset}"));
    }
    if payload
        .bytes()
        .any(|b| b == b' ' || b == b'?' || !b.is_ascii_graphic())
    {
        return Err(std::format!("invalid character in payload {payload}"));
    }
    let bytes = match encoding {
        "B" | "b" => decode_base64(payload)?,
        "Q" | "q" => decode_q(payload)?,
        _ => return Err(std::format!("unknown encoding {encoding}")),
    };
    String::from_utf8(bytes).map_err(|_| std::format!("word holds a split character: {text}"))
}

fn decode_base64(payload: &str) -> Result<Vec<u8>, String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if !payload.len().is_multiple_of(4) {
        return Err("base64 length is not a multiple of 4".into());
    }
    let mut out = Vec::new();
    for group in payload.as_bytes().chunks(4) {
        let mut bits = 0u32;
        let mut padding = 0;
        for &c in group {
            bits <<= 6;
            if c == b'=' {
                padding += 1;
            } else {
                let value = ALPHABET
                    .iter()
                    .position(|&a| a == c)
                    .ok_or("invalid base64")?;
                bits |= value as u32;
            }
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - padding]);
    }
    Ok(out)
}

fn decode_q(payload: &str) -> Result<Vec<u8>, String> {
    let bytes = payload.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = payload.get(i + 1..i + 3).ok_or("truncated Q escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "invalid Q escape")?);
                i += 2;
            }
            _ if b.is_ascii_alphanumeric() || b"!*+-/".contains(&b) => out.push(b),
            _ => {
                return Err(std::format!(
                    "character {} not allowed in a phrase",
                    b as char
                ));
            }
        }
        i += 1;
    }
    Ok(out)
}

fn is_encoded_word(token: &str) -> bool {
    token.starts_with("=?") && token.ends_with("?=") && token.len() >= 8
}

/// Decodes an unfolded unstructured field value (RFC 5322 section 3.2.5,
/// RFC 2047 section 6.2): encoded-words are decoded and the whitespace
/// between two adjacent encoded-words is dropped. One leading space, the
/// separator after the colon, is removed.
pub fn decode_unstructured(value: &str) -> Result<String, String> {
    let value = value
        .strip_prefix(' ')
        .ok_or("value does not start with a space")?;
    let mut out = String::new();
    let mut pending_space = String::new();
    let mut previous_was_word = false;
    let mut rest = value;
    while !rest.is_empty() {
        let space_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let (space, after) = rest.split_at(space_len);
        let token_len = after.find([' ', '\t']).unwrap_or(after.len());
        let (token, after) = after.split_at(token_len);
        pending_space.push_str(space);
        if is_encoded_word(token) {
            if !previous_was_word {
                out.push_str(&pending_space);
            }
            out.push_str(&decode_encoded_word(token.as_bytes())?);
            previous_was_word = true;
        } else {
            out.push_str(&pending_space);
            out.push_str(token);
            previous_was_word = false;
        }
        pending_space.clear();
        rest = after;
    }
    Ok(out)
}

/// One mailbox read back from an address field.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodedMailbox {
    pub name: Option<String>,
    pub address: String,
}

/// Parses an unfolded address-list value as this encoder writes it: each
/// mailbox is `addr-spec` or `phrase <addr-spec>`, where the phrase is
/// atoms, one quoted-string or encoded-words, separated by `,`.
pub fn decode_address_list(value: &str) -> Result<Vec<DecodedMailbox>, String> {
    let mut mailboxes = Vec::new();
    let mut rest = value.trim_start_matches([' ', '\t']);
    while !rest.is_empty() {
        let mut words: Vec<String> = Vec::new();
        let mut kinds: Vec<bool> = Vec::new();
        let address;
        loop {
            rest = rest.trim_start_matches([' ', '\t']);
            if let Some(after) = rest.strip_prefix('<') {
                let end = after.find('>').ok_or("missing '>'")?;
                address = String::from(&after[..end]);
                rest = &after[end + 1..];
                break;
            }
            if let Some(after) = rest.strip_prefix('"') {
                let mut content = String::new();
                let mut chars = after.char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => content.push(chars.next().ok_or("dangling backslash")?.1),
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        _ => content.push(c),
                    }
                }
                let end = end.ok_or("unterminated quoted-string")?;
                words.push(content);
                kinds.push(false);
                rest = &after[end + 1..];
                continue;
            }
            let token_len = rest.find([' ', '\t', ',', '<']).unwrap_or(rest.len());
            let (token, after) = rest.split_at(token_len);
            if token.is_empty() {
                return Err(std::format!("unexpected text at {rest:?}"));
            }
            if words.is_empty() && (after.is_empty() || after.starts_with(',')) {
                address = String::from(token);
                rest = after;
                break;
            }
            if is_encoded_word(token) {
                words.push(decode_encoded_word(token.as_bytes())?);
                kinds.push(true);
            } else {
                words.push(String::from(token));
                kinds.push(false);
            }
            rest = after;
        }

        let name = if words.is_empty() {
            None
        } else {
            let mut name = String::new();
            for (i, word) in words.iter().enumerate() {
                let joins_previous_word = i > 0 && kinds[i] && kinds[i - 1];
                if i > 0 && !joins_previous_word {
                    name.push(' ');
                }
                name.push_str(word);
            }
            Some(name)
        };
        mailboxes.push(DecodedMailbox { name, address });
        rest = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start_matches([' ', '\t']);
        } else if !rest.is_empty() {
            return Err(std::format!("expected ',' at {rest:?}"));
        }
    }
    Ok(mailboxes)
}

/// Splits a header block into unfolded `(name, value)` fields after checking
/// the line rules: CRLF endings, no bare CR or LF, ASCII only, no line of
/// whitespace alone, folded lines start with whitespace, lines of at most
/// `max_line` octets and lines with encoded-words of at most 76, and an
/// empty line at the end.
pub fn parse_header_block(block: &[u8], max_line: usize) -> Result<Vec<(String, String)>, String> {
    let text = core::str::from_utf8(block).map_err(|_| "header block is not UTF-8")?;
    if !text.is_ascii() {
        return Err("header block is not ASCII".into());
    }
    let body = text
        .strip_suffix("\r\n\r\n")
        .ok_or("header block does not end in an empty line")?;
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in body.split("\r\n") {
        if line.contains(['\r', '\n']) {
            return Err(std::format!("bare CR or LF in {line:?}"));
        }
        if line.len() > max_line {
            return Err(std::format!("line of {} octets: {line:?}", line.len()));
        }
        if line.contains("=?") && line.len() > 76 {
            return Err(std::format!(
                "line with an encoded-word exceeds 76: {line:?}"
            ));
        }
        if line.trim_matches([' ', '\t']).is_empty() {
            return Err(std::format!("line of whitespace alone: {line:?}"));
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields
                .last_mut()
                .ok_or("folded line before the first field")?;
            value.push_str(line);
        } else {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| std::format!("no colon in {line:?}"))?;
            fields.push((String::from(name), String::from(value)));
        }
    }
    Ok(fields)
}

/// Small deterministic generator (xorshift64*) for bounded random tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
