//! RFC 2047 encoded-words (`=?utf-8?B?...?=` and `=?utf-8?Q?...?=`) for
//! non-ASCII header text.

/// Maximum length of an encoded-word (RFC 2047 section 2).
pub(super) const MAX_WORD_LEN: usize = 75;

/// `=?utf-8?X?` plus the closing `?=`.
const OVERHEAD: usize = 12;

/// Encoding inside an encoded-word (RFC 2047 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WordEncoding {
    /// "B": base64 (RFC 2047 section 4.1).
    Base64,
    /// "Q": quoted-printable variant (RFC 2047 section 4.2).
    Q,
}

impl WordEncoding {
    /// Picks the encoding that gives the shorter text for `text`, Q on a
    /// tie. Q keeps mostly-ASCII text readable.
    pub(super) fn shorter_for(text: &str) -> Self {
        let q_len: usize = text.bytes().map(q_len).sum();
        if base64_len(text.len()) < q_len {
            Self::Base64
        } else {
            Self::Q
        }
    }

    fn prefix(self) -> &'static [u8] {
        match self {
            Self::Base64 => b"=?utf-8?B?",
            Self::Q => b"=?utf-8?Q?",
        }
    }

    /// Length of the encoded-word that contains `input_len` input bytes,
    /// whose Q encoding is `q_encoded_len` characters long.
    fn word_len(self, input_len: usize, q_encoded_len: usize) -> usize {
        OVERHEAD
            + match self {
                Self::Base64 => base64_len(input_len),
                Self::Q => q_encoded_len,
            }
    }
}

/// Length of the smallest encoded-word that contains the first character of
/// `text`, or the overhead alone for empty text.
pub(super) fn first_char_word_len(encoding: WordEncoding, text: &str) -> usize {
    let first = text.chars().next().map_or(0, char::len_utf8);
    let q_encoded: usize = text.bytes().take(first).map(q_len).sum();
    encoding.word_len(first, q_encoded)
}

/// Encodes the longest prefix of `text` made of whole characters whose
/// encoded-word fits in `budget` characters (at most [`MAX_WORD_LEN`]) into
/// `out`.
///
/// Returns `(consumed, written)`. Consumes at least one character when
/// `text` is not empty, even if its word exceeds `budget`: callers check
/// [`first_char_word_len`] first. A UTF-8 character is never split across
/// two words (RFC 2047 section 5, rule 3).
pub(super) fn encode_word(
    encoding: WordEncoding,
    text: &str,
    budget: usize,
    out: &mut [u8; MAX_WORD_LEN],
) -> (usize, usize) {
    let budget = budget.min(MAX_WORD_LEN);
    let mut consumed = 0;
    let mut q_encoded = 0;
    for c in text.chars() {
        let next = consumed + c.len_utf8();
        let next_q: usize = q_encoded
            + text
                .as_bytes()
                .get(consumed..next)
                .unwrap_or_default()
                .iter()
                .map(|&b| q_len(b))
                .sum::<usize>();
        if consumed > 0 && encoding.word_len(next, next_q) > budget {
            break;
        }
        consumed = next;
        q_encoded = next_q;
    }

    let input = text.as_bytes().get(..consumed).unwrap_or_default();
    let mut writer = WordWriter { out, len: 0 };
    writer.put(encoding.prefix());
    match encoding {
        WordEncoding::Base64 => {
            for group in input.chunks(3) {
                writer.put(&base64_group(group));
            }
        }
        WordEncoding::Q => {
            for &b in input {
                write_q(&mut writer, b);
            }
        }
    }
    writer.put(b"?=");
    (consumed, writer.len)
}

struct WordWriter<'o> {
    out: &'o mut [u8; MAX_WORD_LEN],
    len: usize,
}

impl WordWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        // A word longer than MAX_WORD_LEN cannot occur: one character is at
        // most 4 bytes, so the shortest word is at most 24 characters, and
        // longer words are only built within the budget.
        if let Some(slot) = self.out.get_mut(self.len..end) {
            slot.copy_from_slice(bytes);
            self.len = end;
        }
    }
}

/// Returns whether Q writes `b` as itself. Only the characters that RFC 2047
/// section 5 rule 3 allows in a phrase are used, so the same words are valid
/// in display names and in unstructured text.
fn is_q_literal(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'!' | b'*' | b'+' | b'-' | b'/')
}

fn q_len(b: u8) -> usize {
    if is_q_literal(b) || b == b' ' { 1 } else { 3 }
}

fn write_q(writer: &mut WordWriter<'_>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if is_q_literal(b) {
        writer.put(&[b]);
    } else if b == b' ' {
        // RFC 2047 section 4.2 rule 2: "_" stands for a space.
        writer.put(b"_");
    } else {
        writer.put(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
    }
}

fn base64_len(input_len: usize) -> usize {
    input_len.div_ceil(3) * 4
}

/// Encodes up to three bytes as four base64 characters with `=` padding.
fn base64_group(group: &[u8]) -> [u8; 4] {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let byte = |i: usize| u32::from(group.get(i).copied().unwrap_or(0));
    let bits = (byte(0) << 16) | (byte(1) << 8) | byte(2);
    let symbol = |shift: u32| ALPHABET[((bits >> shift) & 0x3f) as usize];
    [
        symbol(18),
        symbol(12),
        if group.len() > 1 { symbol(6) } else { b'=' },
        if group.len() > 2 { symbol(0) } else { b'=' },
    ]
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::codec::message::test_support::decode_encoded_word;

    fn word(encoding: WordEncoding, text: &str, budget: usize) -> (usize, std::string::String) {
        let mut out = [0u8; MAX_WORD_LEN];
        let (consumed, written) = encode_word(encoding, text, budget, &mut out);
        (
            consumed,
            std::string::String::from_utf8(out[..written].to_vec()).unwrap(),
        )
    }

    // Expected words from Python 3 `email.base64mime.header_encode` and
    // `email.quoprimime.header_encode` with charset "utf-8" (which write a
    // lower-case encoding letter, compared here case-insensitively).
    #[test]
    fn word_matches_python_fixtures() {
        let cases: &[(WordEncoding, &str, &str)] = &[
            (WordEncoding::Base64, "Grüße", "=?utf-8?b?R3LDvMOfZQ==?="),
            (WordEncoding::Base64, "日本", "=?utf-8?b?5pel5pys?="),
            (
                WordEncoding::Q,
                "Grüße aus Köln",
                "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=",
            ),
            (
                WordEncoding::Q,
                "a=b?c_d.e",
                "=?utf-8?q?a=3Db=3Fc=5Fd=2Ee?=",
            ),
        ];
        for &(encoding, text, expected) in cases {
            let (consumed, got) = word(encoding, text, MAX_WORD_LEN);
            assert_eq!(consumed, text.len(), "{text}");
            assert!(got.eq_ignore_ascii_case(expected), "{got} != {expected}");
        }
    }

    #[test]
    fn word_respects_budget_and_characters() {
        let text = "ä€😀aßü日本語のテキスト😀😀😀 mixed with ASCII";
        for encoding in [WordEncoding::Base64, WordEncoding::Q] {
            for budget in 0..=MAX_WORD_LEN + 5 {
                let mut rest = text;
                let mut decoded = std::string::String::new();
                while !rest.is_empty() {
                    let minimum = first_char_word_len(encoding, rest);
                    let (consumed, got) = word(encoding, rest, budget);
                    assert!(consumed > 0);
                    assert!(rest.is_char_boundary(consumed));
                    assert!(got.len() <= budget.min(MAX_WORD_LEN).max(minimum), "{got}");
                    decoded.push_str(&decode_encoded_word(got.as_bytes()).unwrap());
                    rest = &rest[consumed..];
                }
                assert_eq!(decoded, text, "{encoding:?} {budget}");
            }
        }
    }

    #[test]
    fn word_fills_budget() {
        // 45 input bytes are the most a 75-character base64 word holds.
        let text = "a".repeat(100);
        let (consumed, got) = word(WordEncoding::Base64, &text, MAX_WORD_LEN);
        assert_eq!(consumed, 45);
        assert_eq!(got.len(), 72);
        let (consumed, got) = word(WordEncoding::Q, &text, MAX_WORD_LEN);
        assert_eq!(consumed, 63);
        assert_eq!(got.len(), 75);
    }

    #[test]
    fn shorter_encoding_choice() {
        assert_eq!(
            WordEncoding::shorter_for("Temperatur über Grenzwert"),
            WordEncoding::Q
        );
        assert_eq!(
            WordEncoding::shorter_for("Grüße aus Köln"),
            WordEncoding::Base64
        );
        assert_eq!(WordEncoding::shorter_for("日本語"), WordEncoding::Base64);
        assert_eq!(WordEncoding::shorter_for(""), WordEncoding::Q);
    }
}
