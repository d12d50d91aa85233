//! Transcript tests: scripted client input against the session.
//!
//! Each script runs through the async API, over a transport that returns
//! `Pending` once before every read and write, and through the blocking API
//! (`Blocking` + `block_on`). The client input is fed whole, split in two
//! at every index, and one byte per read.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::VecDeque;

use embedded_io::ErrorKind;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use super::*;
use crate::blocking::{Blocking, block_on};

const HOST: &str = "mx.test.example";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Hello(String, bool),
    Mail(String, MailParameters),
    Rcpt(String),
    /// Consecutive data pieces, joined, as text.
    Data(String),
    Delivered,
    Abort(AbortReason),
    MailRejected(String, MailRejection),
}

/// Rejection that [`Recorder::data`] returns once the data contains
/// `STOP-DATA`.
const DATA_REJECTED: Reject = Reject::new(452, Some(EnhancedCode::new(4, 3, 1)), "Disk full");

/// Handler that records every call. It rejects the sender
/// `blocked@example.org`, recipients whose local part starts with
/// `unknown`, data once it contains `STOP-DATA`, and at the end of data
/// any message containing `REJECT-ME`.
#[derive(Default)]
struct Recorder {
    events: Vec<Event>,
}

impl Recorder {
    fn message(&self) -> &str {
        for event in self.events.iter().rev() {
            match event {
                Event::Data(d) => return d,
                Event::Mail(..) => break,
                _ => {}
            }
        }
        ""
    }
}

impl Handler for Recorder {
    async fn hello(&mut self, name: &str, extended: bool) -> Result<(), Reject> {
        self.events.push(Event::Hello(name.to_string(), extended));
        if name == "rejected.example" {
            return Err(Reject::new(550, None, "Go away"));
        }
        Ok(())
    }

    async fn mail(
        &mut self,
        reverse_path: &str,
        parameters: &MailParameters,
    ) -> Result<(), Reject> {
        if reverse_path == "blocked@example.org" {
            return Err(Reject::new(
                550,
                Some(EnhancedCode::new(5, 7, 1)),
                "Sender blocked",
            ));
        }
        if reverse_path == "weird@example.org" {
            return Err(Reject::new(250, None, "not a rejection"));
        }
        self.events
            .push(Event::Mail(reverse_path.to_string(), *parameters));
        Ok(())
    }

    async fn rcpt(&mut self, forward_path: &str) -> Result<(), Reject> {
        if forward_path.starts_with("unknown") {
            return Err(Reject::NO_SUCH_MAILBOX);
        }
        self.events.push(Event::Rcpt(forward_path.to_string()));
        Ok(())
    }

    async fn data(&mut self, chunk: &[u8]) -> Result<(), Reject> {
        let chunk = String::from_utf8_lossy(chunk);
        if let Some(Event::Data(data)) = self.events.last_mut() {
            data.push_str(&chunk);
        } else {
            self.events.push(Event::Data(chunk.into_owned()));
        }
        if self.message().contains("STOP-DATA") {
            return Err(DATA_REJECTED);
        }
        Ok(())
    }

    async fn data_end(&mut self) -> Result<(), Reject> {
        if self.message().contains("REJECT-ME") {
            return Err(Reject::new(
                554,
                Some(EnhancedCode::new(5, 7, 0)),
                "Content refused",
            ));
        }
        self.events.push(Event::Delivered);
        Ok(())
    }

    async fn mail_rejected(
        &mut self,
        reverse_path: &str,
        _parameters: &MailParameters,
        reason: MailRejection,
    ) {
        self.events
            .push(Event::MailRejected(reverse_path.to_string(), reason));
    }

    async fn abort(&mut self, reason: AbortReason) {
        self.events.push(Event::Abort(reason));
    }
}

/// Future that returns `Pending` once, waking itself, then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Scripted client: each read returns at most the rest of the current
/// input piece; writes are recorded one by one.
#[derive(Default)]
struct Script {
    pieces: VecDeque<Vec<u8>>,
    writes: Vec<Vec<u8>>,
    /// Reads fail with a timeout after the last piece, instead of
    /// returning end of stream.
    fail_at_end: bool,
}

impl Script {
    fn new(pieces: &[Vec<u8>]) -> Self {
        Self {
            pieces: pieces.iter().filter(|p| !p.is_empty()).cloned().collect(),
            writes: Vec::new(),
            fail_at_end: false,
        }
    }

    fn read_piece(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let Some(piece) = self.pieces.front_mut() else {
            return if self.fail_at_end {
                Err(ErrorKind::TimedOut)
            } else {
                Ok(0)
            };
        };
        let n = piece.len().min(buf.len());
        buf[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.pieces.pop_front();
        }
        Ok(n)
    }
}

impl embedded_io::ErrorType for Script {
    type Error = ErrorKind;
}

impl embedded_io::Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.read_piece(buf)
    }
}

impl embedded_io::Write for Script {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.writes.push(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// The same script as an async transport that yields before every call.
struct AsyncScript(Script);

impl embedded_io_async::ErrorType for AsyncScript {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for AsyncScript {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        YieldOnce(false).await;
        self.0.read_piece(buf)
    }
}

impl embedded_io_async::Write for AsyncScript {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        YieldOnce(false).await;
        self.0.writes.push(buf.to_vec());
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

#[derive(Debug, PartialEq)]
struct Transcript {
    output: String,
    events: Vec<Event>,
    ended: Result<Ended, String>,
}

impl Transcript {
    /// Reply lines, without CRLF.
    fn lines(&self) -> Vec<&str> {
        self.output.split_terminator("\r\n").collect()
    }

    /// Codes of the last line of each reply.
    fn codes(&self) -> Vec<&str> {
        self.lines()
            .into_iter()
            .filter(|line| line.as_bytes().get(3) != Some(&b'-'))
            .map(|line| &line[..3])
            .collect()
    }

    fn count(&self, event: &Event) -> usize {
        self.events.iter().filter(|e| *e == event).count()
    }

    /// Reasons of every abort, in order.
    fn aborts(&self) -> Vec<AbortReason> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Abort(reason) => Some(*reason),
                _ => None,
            })
            .collect()
    }
}

/// A run's transcript, its writes one by one, and the handler's events
/// before normalization.
type Run = (Transcript, Vec<Vec<u8>>, Vec<Event>);

fn finish(script: Script, handler: Recorder, ended: Result<Ended, ServeError<ErrorKind>>) -> Run {
    let output = String::from_utf8(script.writes.concat()).unwrap();
    let transcript = Transcript {
        output,
        events: without_aborted_data(handler.events.clone()),
        ended: ended.map_err(|e| e.to_string()),
    };
    (transcript, script.writes, handler.events)
}

/// Drops the data of aborted transactions: how much of it reached the
/// handler before the abort depends on how the input was split.
fn without_aborted_data(events: Vec<Event>) -> Vec<Event> {
    let mut kept: Vec<Event> = Vec::new();
    for event in events {
        if matches!(event, Event::Abort(_)) {
            let since_mail = kept
                .iter()
                .rposition(|e| matches!(e, Event::Mail(..)))
                .unwrap_or(0);
            if let Some(data) = kept[since_mail..]
                .iter()
                .position(|e| matches!(e, Event::Data(_)))
            {
                kept.remove(since_mail + data);
            }
        }
        kept.push(event);
    }
    kept
}

fn run_async(config: &Config<'_>, pieces: &[Vec<u8>], buffer_len: usize) -> Run {
    let mut transport = AsyncScript(Script::new(pieces));
    let mut handler = Recorder::default();
    let mut buffer = vec![0u8; buffer_len];
    let ended = block_on(serve(&mut transport, &mut buffer, config, &mut handler));
    finish(transport.0, handler, ended)
}

fn run_blocking(config: &Config<'_>, pieces: &[Vec<u8>], buffer_len: usize) -> Run {
    let mut transport = Blocking::new(Script::new(pieces));
    let mut handler = Recorder::default();
    let mut buffer = vec![0u8; buffer_len];
    let ended = block_on(serve(&mut transport, &mut buffer, config, &mut handler));
    finish(transport.into_inner(), handler, ended)
}

/// Runs `input` whole, split in two at every index, and one byte per read,
/// through both APIs, and checks that every run gives the same transcript.
fn transcript_with(config: &Config<'_>, input: &[u8]) -> Transcript {
    let (whole, _, _) = run_async(config, &[input.to_vec()], MIN_BUFFER_LEN);
    let (large_buffer, _, _) = run_blocking(config, &[input.to_vec()], 8192);
    assert_eq!(large_buffer, whole, "blocking, large buffer");
    for split in 0..=input.len() {
        let pieces = [input[..split].to_vec(), input[split..].to_vec()];
        assert_eq!(
            run_async(config, &pieces, MIN_BUFFER_LEN).0,
            whole,
            "async, split at {split}"
        );
        assert_eq!(
            run_blocking(config, &pieces, MIN_BUFFER_LEN).0,
            whole,
            "blocking, split at {split}"
        );
    }
    let bytes: Vec<Vec<u8>> = input.chunks(1).map(<[u8]>::to_vec).collect();
    assert_eq!(
        run_async(config, &bytes, MIN_BUFFER_LEN).0,
        whole,
        "async, one byte per read"
    );
    assert_eq!(
        run_blocking(config, &bytes, MIN_BUFFER_LEN).0,
        whole,
        "blocking, one byte per read"
    );
    whole
}

fn transcript(input: &[u8]) -> Transcript {
    transcript_with(&Config::new(HOST), input)
}

/// Runs large input through both APIs with a few read sizes; splitting at
/// every index would take too long.
fn transcript_chunked(config: &Config<'_>, input: &[u8]) -> Transcript {
    let (whole, _, _) = run_blocking(config, &[input.to_vec()], MIN_BUFFER_LEN);
    for size in [1000, 4093, 65536] {
        let pieces: Vec<Vec<u8>> = input.chunks(size).map(<[u8]>::to_vec).collect();
        assert_eq!(
            run_async(config, &pieces, MIN_BUFFER_LEN).0,
            whole,
            "async, reads of {size}"
        );
        assert_eq!(
            run_blocking(config, &pieces, 4096).0,
            whole,
            "blocking, reads of {size}"
        );
    }
    whole
}

const EHLO_REPLY: [&str; 6] = [
    "250-mx.test.example",
    "250-SIZE 10485760",
    "250-8BITMIME",
    "250-PIPELINING",
    "250-ENHANCEDSTATUSCODES",
    "250 SMTPUTF8",
];

#[test]
fn ehlo_offers_extensions() {
    let t = transcript(b"EHLO client.example\r\nQUIT\r\n");
    let mut expected = vec!["220 mx.test.example ESMTP"];
    expected.extend(EHLO_REPLY);
    expected.push("221 2.0.0 mx.test.example closing connection");
    assert_eq!(t.lines(), expected);
    assert_eq!(t.events, [Event::Hello("client.example".into(), true)]);
    assert_eq!(t.ended, Ok(Ended::Quit));
}

#[test]
fn helo_offers_nothing() {
    let t = transcript(b"HELO client.example\r\nNOOP\r\nQUIT\r\n");
    assert_eq!(
        t.lines(),
        [
            "220 mx.test.example ESMTP",
            "250 mx.test.example",
            "250 OK",
            "221 mx.test.example closing connection",
        ]
    );
    assert_eq!(t.events, [Event::Hello("client.example".into(), false)]);
}

#[test]
fn parameters_after_helo_rejected() {
    let t = transcript(b"HELO x\r\nMAIL FROM:<a@b> SIZE=10\r\nMAIL FROM:<a@b>\r\nQUIT\r\n");
    assert_eq!(t.codes(), ["220", "250", "501", "250", "221"]);
    assert_eq!(t.lines()[2], "501 Parameters are allowed only after EHLO");
    assert_eq!(
        t.count(&Event::Mail("a@b".into(), MailParameters::default())),
        1
    );
}

#[test]
fn size_parameter_after_ehlo() {
    let t = transcript(b"EHLO x\r\nMAIL FROM:<a@b> SIZE=10\r\nQUIT\r\n");
    assert!(t.output.contains("250-SIZE 10485760\r\n"));
    assert_eq!(t.codes(), ["220", "250", "250", "221"]);
    assert!(t.lines().contains(&"250 2.1.0 Sender OK"));
    let parameters = MailParameters {
        size: Some(10),
        ..MailParameters::default()
    };
    assert!(t.events.contains(&Event::Mail("a@b".into(), parameters)));
    assert_eq!(t.events.last(), Some(&Event::Abort(AbortReason::Quit)));
}

#[test]
fn greeting_needs_argument() {
    let t = transcript(b"EHLO\r\nHELO \r\nEHLO a b\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(t.codes(), ["220", "501", "501", "501", "503"]);
}

#[test]
fn greeting_with_two_names_rejected() {
    let t = transcript(b"HELO x y\r\nEHLO a b\r\n");
    assert_eq!(t.codes(), ["220", "501", "501"]);
    let expected = "501 Syntax error: expected one domain or address literal, \
                    found more than one argument";
    assert_eq!(t.lines()[1], expected);
    assert_eq!(t.lines()[2], expected);
    assert!(t.events.is_empty(), "{:?}", t.events);
}

#[test]
fn greeting_name_must_be_domain() {
    let names: [&[u8]; 6] = [
        b"x;by-evil.example",
        b"trusted.example)by(mx.bank.example;",
        b"x(comment)",
        b"-bad-",
        "\u{fc}.example".as_bytes(),
        b"[192.0.2.300]",
    ];
    for name in names {
        let input = [
            b"EHLO ",
            name,
            b"\r\nMAIL FROM:<a@b>\r\nEHLO [192.0.2.1]\r\n",
        ]
        .concat();
        let t = transcript(&input);
        let shown = String::from_utf8_lossy(name);
        assert_eq!(t.codes(), ["220", "501", "503", "250"], "{shown}");
        assert!(
            t.lines()[1].starts_with("501 Syntax error: invalid domain: "),
            "{shown}: {}",
            t.lines()[1]
        );
        assert_eq!(
            t.events,
            [Event::Hello("[192.0.2.1]".into(), true)],
            "{shown}"
        );
    }

    let long_name = format!("EHLO {}.example\r\n", "d".repeat(250));
    let t = transcript(long_name.as_bytes());
    assert_eq!(
        t.lines()[1],
        "501 Syntax error: invalid domain: domain is longer than 255 octets"
    );
}

#[test]
fn rejected_greeting_leaves_client_ungreeted() {
    let t = transcript(b"EHLO rejected.example\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(t.codes(), ["220", "550", "503"]);
}

#[test]
fn ehlo_resets_transaction() {
    let t =
        transcript(b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nEHLO y\r\nDATA\r\nHELO z\r\n");
    assert_eq!(t.codes(), ["220", "250", "250", "250", "250", "503", "250"]);
    assert_eq!(t.aborts(), [AbortReason::NewGreeting]);
    assert_eq!(t.events.last(), Some(&Event::Hello("z".into(), false)));
}

#[test]
fn commands_out_of_order() {
    let input = b"MAIL FROM:<a@b>\r\n\
        RCPT TO:<c@d>\r\n\
        EHLO x\r\n\
        DATA\r\n\
        RCPT TO:<c@d>\r\n\
        MAIL FROM:<a@b>\r\n\
        DATA\r\n\
        MAIL FROM:<e@f>\r\n\
        RCPT TO:<c@d>\r\n\
        DATA\r\n\
        hello\r\n.\r\n\
        QUIT\r\n";
    let t = transcript(input);
    assert_eq!(
        t.codes(),
        [
            "220", "503", "503", "250", "503", "503", "250", "503", "503", "250", "354", "250",
            "221"
        ]
    );
    let lines = t.lines();
    assert!(lines.contains(&"503 5.5.1 Send MAIL first"));
    assert!(lines.contains(&"503 5.5.1 Send RCPT first"));
    assert!(lines.contains(&"503 5.5.1 Nested MAIL command"));
    assert_eq!(t.count(&Event::Delivered), 1);
    assert!(t.aborts().is_empty());
}

#[test]
fn mail_before_greeting_is_503() {
    let t = transcript(b"MAIL FROM:<a@b>\r\nNOOP\r\n");
    assert_eq!(t.lines()[1], "503 Send EHLO or HELO first");
    assert_eq!(t.codes(), ["220", "503", "250"]);
}

#[test]
fn parameter_errors() {
    let t = transcript(
        b"EHLO x\r\n\
        MAIL FROM:<a@b> RET=FULL\r\n\
        MAIL FROM:<a@b> SIZE=ten\r\n\
        MAIL FROM:<a@b> SIZE=1 SIZE=2\r\n\
        MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8\r\n\
        RCPT TO:<c@d> NOTIFY=NEVER\r\n\
        RCPT TO:<c@d> =x\r\n",
    );
    assert_eq!(
        t.codes(),
        ["220", "250", "555", "501", "501", "250", "555", "501"]
    );
    assert!(t.lines().contains(&"555 5.5.4 Parameter not recognized"));
}

#[test]
fn declared_size_over_maximum() {
    let config = Config {
        max_size: 10_000,
        ..Config::new(HOST)
    };
    let t = transcript_with(
        &config,
        b"EHLO x\r\nMAIL FROM:<a@b> SIZE=20000\r\nMAIL FROM:<a@b> SIZE=10000\r\n",
    );
    assert!(t.output.contains("250-SIZE 10000\r\n"));
    assert_eq!(t.codes(), ["220", "250", "552", "250"]);
    assert_eq!(
        t.lines()[7],
        "552 5.3.4 Message size exceeds the maximum of 10000 octets"
    );
}

#[test]
fn size_above_u64_is_too_large() {
    let t = transcript(
        b"EHLO x\r\n\
        MAIL FROM:<a@b> SIZE=99999999999999999999\r\n\
        MAIL FROM:<a@b> SIZE=18446744073709551616\r\n\
        MAIL FROM:<a@b> SIZE=123456789012345678901\r\n",
    );
    assert_eq!(t.codes(), ["220", "250", "552", "552", "501"]);
    assert_eq!(
        t.lines()[7],
        "552 5.3.4 Message size exceeds the maximum of 10485760 octets"
    );
    assert_eq!(t.lines()[9], "501 5.5.4 Malformed parameter");
    assert!(t.events.iter().all(|e| !matches!(e, Event::Mail(..))));
}

#[test]
fn binarymime_not_implemented() {
    let t = transcript(
        b"EHLO x\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\nMAIL FROM:<a@b> BODY=8BITMIME\r\n",
    );
    assert_eq!(t.codes(), ["220", "250", "555", "250"]);
    assert_eq!(
        t.lines()[7],
        "555 5.5.4 BODY=BINARYMIME needs CHUNKING, which this server does not offer"
    );
}

#[test]
fn size_zero_means_no_limit() {
    let config = Config {
        max_size: 0,
        ..Config::new(HOST)
    };
    let t = transcript_with(&config, b"EHLO x\r\nMAIL FROM:<a@b> SIZE=99999999999\r\n");
    assert!(t.output.contains("250-SIZE 0\r\n"));
    assert_eq!(t.codes(), ["220", "250", "250"]);
}

fn message_session(body: &[u8]) -> Vec<u8> {
    let mut input = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n".to_vec();
    input.extend_from_slice(body);
    input.extend_from_slice(b"QUIT\r\n");
    input
}

#[test]
fn data_over_maximum_read_through() {
    let config = Config {
        max_size: 100,
        ..Config::new(HOST)
    };
    let mut body = b"x".repeat(60);
    body.extend_from_slice(b"\r\n");
    let body = [body.as_slice(), body.as_slice(), b".\r\n"].concat();
    let t = transcript_with(&config, &message_session(&body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "552", "221"]);
    assert!(
        t.lines()
            .contains(&"552 5.3.4 Message size exceeds the maximum of 100 octets")
    );
    assert_eq!(t.count(&Event::Delivered), 0);
    assert_eq!(t.aborts(), [AbortReason::TooLarge]);
    let (_, _, events) = run_blocking(&config, &[message_session(&body)], MIN_BUFFER_LEN);
    let stored: usize = events
        .iter()
        .map(|e| match e {
            Event::Data(d) => d.len(),
            _ => 0,
        })
        .sum();
    assert!(stored <= 100, "{stored} octets reached the handler");
}

#[test]
fn data_of_20000_octets_over_10000_limit() {
    let config = Config {
        max_size: 10_000,
        ..Config::new(HOST)
    };
    let line = [b"y".repeat(98), b"\r\n".to_vec()].concat();
    let body = [line.repeat(200), b".\r\n".to_vec()].concat();
    assert_eq!(body.len(), 20_003);
    let t = transcript_chunked(&config, &message_session(&body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "552", "221"]);
    assert!(
        t.lines()
            .contains(&"552 5.3.4 Message size exceeds the maximum of 10000 octets")
    );
    assert_eq!(t.count(&Event::Delivered), 0);
    assert_eq!(t.events.last(), Some(&Event::Abort(AbortReason::TooLarge)));
}

#[test]
fn null_reverse_path_and_lenient_syntax() {
    let t = transcript(b"ehlo x\r\nmail from: <>\r\nrcpt to: <Postmaster>\r\ndata\r\n.\r\n");
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "250"]);
    assert_eq!(
        t.events,
        [
            Event::Hello("x".into(), true),
            Event::Mail(String::new(), MailParameters::default()),
            Event::Rcpt("Postmaster".into()),
            Event::Delivered,
        ]
    );
}

#[test]
fn recipient_limit() {
    let config = Config {
        max_recipients: 2,
        ..Config::new(HOST)
    };
    let input = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<r1@d>\r\nRCPT TO:<r2@d>\r\nRCPT TO:<r3@d>\r\nDATA\r\nm\r\n.\r\n";
    let t = transcript_with(&config, input);
    assert_eq!(
        t.codes(),
        ["220", "250", "250", "250", "250", "452", "354", "250"]
    );
    assert!(t.lines().contains(&"452 4.5.3 Too many recipients"));
    assert_eq!(t.count(&Event::Rcpt("r3@d".into())), 0);
    assert_eq!(t.count(&Event::Delivered), 1);
}

#[test]
fn handler_rejections() {
    let input = b"EHLO x\r\n\
        MAIL FROM:<blocked@example.org>\r\n\
        MAIL FROM:<weird@example.org>\r\n\
        MAIL FROM:<a@b>\r\n\
        RCPT TO:<unknown@d>\r\n\
        DATA\r\n\
        RCPT TO:<known@d>\r\n\
        DATA\r\n\
        REJECT-ME\r\n.\r\n";
    let t = transcript(input);
    assert_eq!(
        t.codes(),
        [
            "220", "250", "550", "451", "250", "550", "503", "250", "354", "554"
        ]
    );
    let lines = t.lines();
    assert!(lines.contains(&"550 5.7.1 Sender blocked"));
    assert!(lines.contains(&"451 4.3.0 Local error in processing; try again later"));
    assert!(lines.contains(&"550 5.1.1 Mailbox does not exist"));
    assert!(lines.contains(&"554 5.7.0 Content refused"));
    // A rejection by `data_end` is the handler's own decision: no abort.
    assert!(t.aborts().is_empty());
    assert_eq!(t.count(&Event::Delivered), 0);
}

#[test]
fn data_unstuffed_and_delivered() {
    let body = b"Subject: t\r\n\r\n..leading dot\r\n.\r\n";
    let t = transcript(&message_session(body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "250", "221"]);
    assert!(t.lines().contains(&"354 End data with <CR><LF>.<CR><LF>"));
    assert!(t.lines().contains(&"250 2.0.0 Message accepted"));
    assert!(
        t.events
            .contains(&Event::Data("Subject: t\r\n\r\n.leading dot\r\n".into()))
    );
    assert_eq!(t.count(&Event::Delivered), 1);
}

#[test]
fn two_messages_in_one_session() {
    let mut input = message_session(b"one\r\n.\r\n");
    input.truncate(input.len() - 6);
    input.extend_from_slice(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n");
    let t = transcript(&input);
    assert_eq!(t.count(&Event::Delivered), 2);
    assert!(t.events.contains(&Event::Data("one\r\n".into())));
    assert!(t.events.contains(&Event::Data("two\r\n".into())));
}

fn smuggling_input(first_body: &[u8]) -> Vec<u8> {
    let smuggled = [
        first_body,
        b"MAIL FROM:<x@a>\r\nRCPT TO:<y@b>\r\nDATA\r\nsmuggled\r\n.\r\n",
    ]
    .concat();
    message_session(&smuggled)
}

#[test]
fn smuggled_end_of_data_rejected() {
    for first in [&b"hi\n.\r\n"[..], b"hi\n.\n", b"hi\r\n.\n", b"hi\r.\r\n"] {
        let t = transcript(&smuggling_input(first));
        assert_eq!(
            t.codes(),
            ["220", "250", "250", "250", "354", "554", "221"],
            "{first:?}"
        );
        assert!(
            t.lines()[10].starts_with("554 5.6.0 Message refused: bare"),
            "{first:?}"
        );
        let mails = t
            .events
            .iter()
            .filter(|e| matches!(e, Event::Mail(..)))
            .count();
        assert_eq!(mails, 1, "{first:?}");
        assert_eq!(t.count(&Event::Delivered), 0, "{first:?}");
        assert_eq!(t.aborts(), [AbortReason::BareLineEnding], "{first:?}");
    }
}

#[test]
fn smuggled_end_of_data_kept_as_data() {
    let config = Config {
        bare_line_endings: BareLineEndings::Keep,
        ..Config::new(HOST)
    };
    for first in [&b"hi\n.\r\n"[..], b"hi\n.\n", b"hi\r\n.\n"] {
        let t = transcript_with(&config, &smuggling_input(first));
        assert_eq!(
            t.codes(),
            ["220", "250", "250", "250", "354", "250", "221"],
            "{first:?}"
        );
        let mails = t
            .events
            .iter()
            .filter(|e| matches!(e, Event::Mail(..)))
            .count();
        assert_eq!(mails, 1, "{first:?}");
        assert_eq!(t.count(&Event::Delivered), 1, "{first:?}");
        let data = t.events.iter().find_map(|e| match e {
            Event::Data(d) => Some(d.clone()),
            _ => None,
        });
        let data = data.unwrap();
        assert!(data.contains("MAIL FROM:<x@a>"), "{first:?}");
        assert!(data.ends_with("smuggled\r\n"), "{first:?}");
    }
}

#[test]
fn text_line_over_limit_rejected() {
    let config = Config {
        max_line_length: 20,
        ..Config::new(HOST)
    };
    let body = b"short\r\nthis line is longer than twenty\r\n.\r\n";
    let t = transcript_with(&config, &message_session(body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "500", "221"]);
    assert!(
        t.lines()
            .contains(&"500 5.5.2 Line too long: text lines are limited to 20 octets")
    );
    assert_eq!(t.count(&Event::Delivered), 0);
    assert_eq!(t.aborts(), [AbortReason::LineTooLong]);
}

#[test]
fn data_line_of_one_mebibyte() {
    let body = [vec![b'z'; 1 << 20], b"\r\n.\r\n".to_vec()].concat();
    let t = transcript_chunked(&Config::new(HOST), &message_session(&body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "500", "221"]);
    assert_eq!(t.count(&Event::Delivered), 0);
    assert_eq!(t.aborts(), [AbortReason::LineTooLong]);
}

#[test]
fn command_line_over_limit() {
    let long = [b"NOOP ".to_vec(), vec![b'a'; 600], b"\r\n".to_vec()].concat();
    let input = [b"EHLO x\r\n".to_vec(), long, b"NOOP\r\n".to_vec()].concat();
    let t = transcript(&input);
    assert_eq!(t.codes(), ["220", "250", "500", "250"]);
    assert!(t.lines().contains(&"500 5.5.2 Line too long"));
}

#[test]
fn command_line_at_limit() {
    let line = [
        b"NOOP ".to_vec(),
        vec![b'a'; MAX_COMMAND_LINE - 7],
        b"\r\n".to_vec(),
    ]
    .concat();
    assert_eq!(line.len(), MAX_COMMAND_LINE);
    let t = transcript(&line);
    assert_eq!(t.codes(), ["220", "250"]);
}

#[test]
fn ten_megabyte_command_line() {
    let input = [vec![b'A'; 10_000_000], b"\r\nNOOP\r\n".to_vec()].concat();
    let t = transcript_chunked(&Config::new(HOST), &input);
    assert_eq!(t.codes(), ["220", "500", "250"]);
    assert_eq!(t.ended, Ok(Ended::Closed));
}

#[test]
fn error_flood_closes_with_421() {
    let input = b"FOO\r\n".repeat(30);
    let t = transcript(&input);
    let mut expected = vec!["220"];
    expected.extend([" 500"; 20].map(|c| &c[1..]));
    expected.push("421");
    assert_eq!(t.codes(), expected);
    assert_eq!(
        t.lines().last(),
        Some(&"421 mx.test.example Too many errors, closing connection")
    );
    assert_eq!(t.ended, Ok(Ended::TooManyErrors));
}

#[test]
fn max_errors_zero_means_no_limit() {
    let config = Config {
        max_errors: 0,
        ..Config::new(HOST)
    };
    let input = [
        b"EHLO x\r\n".to_vec(),
        b"FOO\r\n".repeat(30),
        b"NOOP\r\n".to_vec(),
    ]
    .concat();
    let t = transcript_with(&config, &input);
    let mut expected = vec!["220", "250"];
    expected.extend([" 500"; 30].map(|c| &c[1..]));
    expected.push("250");
    assert_eq!(t.codes(), expected);
    assert!(!t.output.contains("421"));
    assert_eq!(t.ended, Ok(Ended::Closed));
}

#[test]
fn max_recipients_zero_means_no_limit() {
    let config = Config {
        max_recipients: 0,
        ..Config::new(HOST)
    };
    let input = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<r1@d>\r\nRCPT TO:<r2@d>\r\nRCPT TO:<r3@d>\r\nDATA\r\nm\r\n.\r\n";
    let t = transcript_with(&config, input);
    assert_eq!(
        t.codes(),
        ["220", "250", "250", "250", "250", "250", "354", "250"]
    );
    assert_eq!(t.count(&Event::Rcpt("r3@d".into())), 1);
    assert_eq!(t.count(&Event::Delivered), 1);
}

#[test]
fn max_line_length_zero_means_no_limit() {
    let config = Config {
        max_line_length: 0,
        ..Config::new(HOST)
    };
    let body = [vec![b'z'; 5000], b"\r\n.\r\n".to_vec()].concat();
    let t = transcript_chunked(&config, &message_session(&body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "250", "221"]);
    assert_eq!(t.count(&Event::Delivered), 1);
}

#[test]
fn starttls_not_offered_then_rset() {
    let t = transcript(b"EHLO x\r\nSTARTTLS\r\nRSET\r\n");
    assert!(!t.output.contains("STARTTLS\r\n"));
    assert_eq!(t.codes(), ["220", "250", "502", "250"]);
    assert_eq!(
        t.lines()[7..],
        ["502 5.5.1 Command not implemented", "250 2.0.0 OK"]
    );
}

#[test]
fn pipelined_transaction() {
    let greeting = b"EHLO x\r\n".to_vec();
    let group = b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n".to_vec();
    let rest = b"pipelined\r\n.\r\nQUIT\r\n".to_vec();
    let input = [greeting.clone(), group.clone(), rest.clone()].concat();
    let t = transcript(&input);
    assert_eq!(
        t.codes(),
        ["220", "250", "250", "250", "250", "354", "250", "221"]
    );
    assert_eq!(t.count(&Event::Delivered), 1);

    let pieces = [greeting, group, rest];
    for (writes, api) in [
        (
            run_async(&Config::new(HOST), &pieces, MIN_BUFFER_LEN).1,
            "async",
        ),
        (
            run_blocking(&Config::new(HOST), &pieces, MIN_BUFFER_LEN).1,
            "blocking",
        ),
    ] {
        let replies: Vec<String> = writes
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        assert_eq!(
            replies[2],
            "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
            "{api}"
        );
    }
}

#[test]
fn ehlo_reply_in_one_write() {
    let (_, writes, _) = run_async(
        &Config::new(HOST),
        &[b"EHLO x\r\n".to_vec()],
        MIN_BUFFER_LEN,
    );
    let expected: String = EHLO_REPLY
        .iter()
        .map(|line| format!("{line}\r\n"))
        .collect();
    assert_eq!(writes[1], expected.as_bytes());
}

#[test]
fn simple_commands() {
    let t = transcript(
        b"EHLO x\r\nNOOP\r\nNOOP with text\r\nRSET\r\nVRFY postmaster\r\nHELP\r\nEXPN list\r\nAUTH PLAIN AGEAYg==\r\nXYZZY\r\nQUIT\r\n",
    );
    assert_eq!(
        t.codes(),
        [
            "220", "250", "250", "250", "250", "252", "214", "502", "502", "500", "221"
        ]
    );
    assert!(t.lines().contains(&"500 5.5.2 Command not recognized"));
    assert_eq!(t.ended, Ok(Ended::Quit));
}

#[test]
fn enhanced_codes_only_after_ehlo() {
    let t = transcript(b"NOOP\r\nEHLO x\r\nNOOP\r\nFOO\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\nVRFY u\r\nQUIT\r\n");
    let lines = t.lines();
    assert_eq!(lines[1], "250 OK");
    for line in &lines[8..] {
        if line.starts_with("354") {
            continue;
        }
        let enhanced = line[4..].split(' ').next().unwrap();
        let parts: Vec<&str> = enhanced.split('.').collect();
        assert_eq!(parts.len(), 3, "{line}");
        assert_eq!(parts[0], &line[..1], "{line}");
    }
}

#[test]
fn lost_connection_mid_data_never_delivers() {
    let session = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\npartial\r\n";
    for end in [&b""[..], b".", b".\r", b"\r\n"] {
        let t = transcript(&[&session[..], end].concat());
        assert_eq!(t.ended, Ok(Ended::Closed), "{end:?}");
        assert_eq!(t.count(&Event::Delivered), 0, "{end:?}");
        assert_eq!(
            t.events.last(),
            Some(&Event::Abort(AbortReason::ConnectionClosed)),
            "{end:?}"
        );
    }
}

#[test]
fn read_error_mid_data_never_delivers() {
    let session = b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\npartial\r\n.\r";
    let mut transport = Blocking::new(Script::new(&[session.to_vec()]));
    transport.inner_mut().fail_at_end = true;
    let mut handler = Recorder::default();
    let mut buffer = [0u8; MIN_BUFFER_LEN];
    let ended = block_on(serve(
        &mut transport,
        &mut buffer,
        &Config::new(HOST),
        &mut handler,
    ));
    assert!(matches!(
        ended,
        Err(ServeError::Io(embedded_io::ErrorKind::TimedOut))
    ));
    assert!(!handler.events.contains(&Event::Delivered));
    assert_eq!(
        handler.events.last(),
        Some(&Event::Abort(AbortReason::TransportError))
    );
}

#[test]
fn quit_inside_transaction_aborts() {
    let t = transcript(b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nQUIT\r\n");
    assert_eq!(t.ended, Ok(Ended::Quit));
    assert_eq!(t.events.last(), Some(&Event::Abort(AbortReason::Quit)));
}

#[test]
fn handler_data_rejection_aborts() {
    let body = b"Subject: x\r\n\r\nSTOP-DATA\r\nmore data\r\n.\r\n";
    let t = transcript(&message_session(body));
    assert_eq!(t.codes(), ["220", "250", "250", "250", "354", "452", "221"]);
    assert!(t.lines().contains(&"452 4.3.1 Disk full"));
    assert_eq!(t.aborts(), [AbortReason::Rejected(DATA_REJECTED)]);
    assert_eq!(t.count(&Event::Delivered), 0);
}

#[test]
fn error_limit_inside_transaction_aborts() {
    let config = Config {
        max_errors: 2,
        ..Config::new(HOST)
    };
    let t = transcript_with(&config, b"EHLO x\r\nMAIL FROM:<a@b>\r\nFOO\r\nBAR\r\n");
    assert_eq!(t.codes(), ["220", "250", "250", "500", "500", "421"]);
    assert_eq!(t.ended, Ok(Ended::TooManyErrors));
    assert_eq!(t.aborts(), [AbortReason::TooManyErrors]);
}

#[test]
fn mail_rejected_by_server_reported() {
    let config = Config {
        max_size: 100,
        ..Config::new(HOST)
    };
    let input = "EHLO x\r\nMAIL FROM:<big@b> SIZE=101\r\nMAIL FROM:<用户@b>\r\n";
    let t = transcript_with(&config, input.as_bytes());
    assert_eq!(t.codes(), ["220", "250", "552", "553"]);
    assert_eq!(
        t.events,
        [
            Event::Hello("x".into(), true),
            Event::MailRejected("big@b".into(), MailRejection::TooLarge),
            Event::MailRejected("用户@b".into(), MailRejection::NeedsSmtputf8),
        ]
    );
}

#[test]
fn abort_reasons_display() {
    assert_eq!(AbortReason::Reset.to_string(), "client sent RSET");
    assert_eq!(
        AbortReason::TooLarge.to_string(),
        "message over the maximum size, rejected with 552"
    );
    assert_eq!(
        AbortReason::Rejected(DATA_REJECTED).to_string(),
        "handler rejected the data with 452 Disk full"
    );
    assert_eq!(
        MailRejection::TooLarge.to_string(),
        "declared size over the maximum, rejected with 552"
    );
}

#[test]
fn transport_error_displayed_with_display() {
    let reset = std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "Connection reset by peer",
    );
    let error = ServeError::Io(reset);
    assert_eq!(
        error.to_string(),
        "transport error: Connection reset by peer"
    );
}

#[test]
fn rset_aborts_transaction() {
    let t = transcript(b"EHLO x\r\nMAIL FROM:<a@b>\r\nRSET\r\nRSET\r\nMAIL FROM:<a@b>\r\n");
    assert_eq!(t.codes(), ["220", "250", "250", "250", "250", "250"]);
    assert_eq!(
        t.aborts(),
        [AbortReason::Reset, AbortReason::ConnectionClosed]
    );
}

#[test]
fn non_ascii_address_needs_smtputf8() {
    let t = transcript(
        "EHLO x\r\nMAIL FROM:<用户@例子.广告>\r\nMAIL FROM:<用户@例子.广告> SMTPUTF8\r\nRCPT TO:<δοκιμή@παράδειγμα.δοκιμή>\r\n".as_bytes(),
    );
    assert_eq!(t.codes(), ["220", "250", "553", "250", "250"]);
    assert!(
        t.lines()
            .contains(&"553 5.6.7 Non-ASCII address requires the SMTPUTF8 parameter")
    );
}

#[test]
fn invalid_paths() {
    let t = transcript(b"EHLO x\r\nMAIL FROM:a@b\r\nMAIL FROM:<a..b@c>\r\nMAIL FROM:<a@b>\r\nRCPT TO:<>\r\nRCPT TO:<c@-d>\r\n");
    assert_eq!(t.codes(), ["220", "250", "501", "501", "250", "501", "501"]);
    let lines = t.lines();
    assert!(lines.contains(&"501 5.1.7 Invalid sender: path must be enclosed in angle brackets"));
    assert!(lines.contains(&"501 5.1.3 Invalid recipient: invalid domain"));
}

#[test]
fn bare_lf_ends_command_lines() {
    let t = transcript(b"EHLO x\nNOOP\nQUIT\n");
    assert_eq!(t.codes(), ["220", "250", "250", "221"]);
}

#[test]
fn buffer_too_small() {
    let (t, _, _) = run_blocking(
        &Config::new(HOST),
        &[b"QUIT\r\n".to_vec()],
        MIN_BUFFER_LEN - 1,
    );
    assert_eq!(
        t.ended,
        Err(format!(
            "session buffer of {} bytes is too small: at least {MIN_BUFFER_LEN} required",
            MIN_BUFFER_LEN - 1
        ))
    );
    assert!(t.output.is_empty());
}

#[test]
fn invalid_hostname() {
    let long = "h".repeat(256);
    for hostname in ["", "has space", "line\r\nbreak", long.as_str()] {
        let (t, _, _) = run_blocking(
            &Config::new(hostname),
            &[b"QUIT\r\n".to_vec()],
            MIN_BUFFER_LEN,
        );
        assert!(t.ended.is_err(), "{hostname:?}");
        assert!(t.output.is_empty(), "{hostname:?}");
    }
}

#[test]
fn longest_hostname_fits_ehlo_reply() {
    let hostname = "h".repeat(MAX_HOSTNAME);
    let config = Config {
        max_size: u64::MAX,
        ..Config::new(&hostname)
    };
    let (t, writes, _) = run_blocking(&config, &[b"EHLO x\r\n".to_vec()], MIN_BUFFER_LEN);
    assert_eq!(t.codes(), ["220", "250"]);
    assert!(t.output.contains("250-SIZE 18446744073709551615\r\n"));
    assert_eq!(writes.len(), 2);
}

#[test]
fn session_future_size() {
    let mut transport = Blocking::new(Script::default());
    let mut handler = Recorder::default();
    let mut buffer = [0u8; MIN_BUFFER_LEN];
    let config = Config::new(HOST);
    let future = serve(&mut transport, &mut buffer, &config, &mut handler);
    let size = core::mem::size_of_val(&future);
    // The buffer is the caller's; the future holds only the state machine.
    std::println!("session future: {size} bytes");
    assert!(size <= 1024, "session future is {size} bytes");
}
