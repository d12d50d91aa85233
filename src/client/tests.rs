//! Transcript tests: every session runs against a scripted server through
//! both the async API (a transport that suspends before every operation)
//! and the blocking API (`Blocking` + `block_on`), with the server's bytes
//! delivered whole, one byte per read, and split at every offset.

extern crate std;

use super::test_support::{C, Eof, Mock, MockError, Plan, S, Step, Suspending, plans, transcript};
use super::*;
use crate::blocking::{Blocking, block_on};
use crate::codec::command::CommandKind;
use crate::codec::message::{Headers, Mailbox};
use crate::codec::reply::{EnhancedCode, ReplyCode};

const GREETING: &[u8] = b"220 mx.example.org ESMTP\r\n";
const EHLO: &[u8] = b"EHLO client.example\r\n";
const EHLO_PLAIN: &[u8] = b"250 mx.example.org\r\n";
const EHLO_PIPELINING: &[u8] =
    b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";
const QUIT: &[u8] = b"QUIT\r\n";
const BYE: &[u8] = b"221 2.0.0 bye\r\n";

fn config() -> Config<'static> {
    Config::new("client.example")
}

fn status(code: u16, enhanced: Option<(u8, u16, u16)>) -> ReplyStatus {
    ReplyStatus {
        code: ReplyCode::new(code).unwrap(),
        enhanced: enhanced.map(|(class, subject, detail)| EnhancedCode {
            class,
            subject,
            detail,
        }),
    }
}

type SendResult = Result<(Delivery, [RecipientResult; 3]), Error<MockError>>;

async fn send_three<T>(io: T, body: &[u8]) -> SendResult
where
    T: embedded_io_async::Read
        + embedded_io_async::Write
        + embedded_io::ErrorType<Error = MockError>,
{
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 3];
    let envelope = Envelope::new(
        "alert@client.example",
        &["a@example.org", "b@example.org", "c@example.org"],
    );
    let delivery = with_session(io, &mut buf, &config(), async |client| {
        client.send_slice(&envelope, body, &mut results).await
    })
    .await?;
    Ok((delivery, results))
}

fn check_mixed_recipients(result: SendResult, _: &Mock) {
    let (delivery, results) = result.unwrap();
    assert_eq!(
        delivery,
        Delivery {
            delivered: 1,
            failed: 2
        }
    );
    assert_eq!(
        results[0],
        RecipientResult::Delivered(status(250, Some((2, 0, 0))))
    );
    assert_eq!(
        results[1],
        RecipientResult::Rejected(status(550, Some((5, 1, 1))))
    );
    assert_eq!(
        results[2],
        RecipientResult::Rejected(status(451, Some((4, 3, 0))))
    );
    assert!(results[1].is_permanent_failure());
    assert!(results[2].is_transient_failure());
}

#[test]
fn pipelined_recipients_get_own_results() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_PIPELINING),
        C(b"MAIL FROM:<alert@client.example> SIZE=4\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        S(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 unknown\r\n451 4.3.0 later\r\n354 go ahead\r\n"),
        C(b"hi\r\n.\r\n"),
        S(b"250 2.0.0 queued\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_three(io, b"hi\r\n").await,
        check_mixed_recipients
    );
}

#[test]
fn recipients_in_turn_without_pipelining() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 ENHANCEDSTATUSCODES\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 2.1.0 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 2.1.5 ok\r\n"),
        C(b"RCPT TO:<b@example.org>\r\n"),
        S(b"550 5.1.1 unknown\r\n"),
        C(b"RCPT TO:<c@example.org>\r\n"),
        S(b"451 4.3.0 later\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go ahead\r\n"),
        C(b"hi\r\n.\r\n"),
        S(b"250 2.0.0 queued\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_three(io, b"hi").await,
        check_mixed_recipients
    );
}

#[test]
fn no_accepted_recipient_sends_no_data() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_PLAIN),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"550 no\r\n"),
        C(b"RCPT TO:<b@example.org>\r\n"),
        S(b"450 busy\r\n"),
        C(b"RCPT TO:<c@example.org>\r\n"),
        S(b"550 no\r\n"),
        C(b"RSET\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_three(io, b"hi").await,
        |result: SendResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(
                error,
                Error::NoRecipientAccepted { transient: true }
            ));
            assert!(error.is_transient());
        }
    );
}

#[test]
fn pipelined_refusals_end_unwanted_data_phase() {
    // The server wrongly opens the data phase although every recipient was
    // refused: the client sends an empty message, then RSET.
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 PIPELINING\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        S(b"250 ok\r\n550 no\r\n550 no\r\n550 no\r\n354 go\r\n"),
        C(b".\r\n"),
        S(b"554 no valid recipients\r\n"),
        C(b"RSET\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_three(io, b"hi").await,
        |result: SendResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(
                error,
                Error::NoRecipientAccepted { transient: false }
            ));
            assert!(error.is_permanent());
        }
    );
}

#[test]
fn refused_mail_resets_and_reports() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 PIPELINING\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        S(b"550 5.7.1 sender blocked\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n"),
        C(b"RSET\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_three(io, b"hi").await,
        |result: SendResult, _: &Mock| {
            let error = result.unwrap_err();
            let Error::Reply { command, reply } = &error else {
                panic!("expected a reply error, got {error:?}");
            };
            assert_eq!(*command, CommandKind::Mail);
            assert_eq!(reply.code.get(), 550);
            assert_eq!(
                reply.enhanced,
                Some(EnhancedCode {
                    class: 5,
                    subject: 7,
                    detail: 1
                })
            );
            assert_eq!(&reply.text[..], b"sender blocked");
        }
    );
}

#[test]
fn ehlo_unknown_falls_back_to_helo() {
    for refusal in [&b"500 what?\r\n"[..], b"502 not implemented\r\n"] {
        let steps = [
            S(GREETING),
            C(EHLO),
            S(refusal),
            C(b"HELO client.example\r\n"),
            S(b"250 mx.example.org\r\n"),
            C(b"NOOP\r\n"),
            S(b"250 ok\r\n"),
            C(QUIT),
            S(BYE),
        ];
        transcript!(
            steps,
            |io| {
                let mut buf = [0u8; MIN_BUFFER_LEN];
                with_session(io, &mut buf, &config(), async |client| {
                    assert!(
                        !client
                            .extensions()
                            .contains(crate::codec::ehlo::Extension::Size)
                    );
                    client.noop().await.map(|reply| reply.code.get())
                })
                .await
            },
            |result: Result<u16, Error<MockError>>, _: &Mock| assert_eq!(result.unwrap(), 250)
        );
    }
}

async fn connect_only<T>(io: T) -> Result<(), Error<MockError>>
where
    T: embedded_io_async::Read
        + embedded_io_async::Write
        + embedded_io::ErrorType<Error = MockError>,
{
    let mut buf = [0u8; MIN_BUFFER_LEN];
    with_session(io, &mut buf, &config(), async |_| Ok(())).await
}

#[test]
fn ehlo_refused_otherwise_quits() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"554 5.7.1 go away\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| connect_only(io).await,
        |result: Result<(), Error<MockError>>, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(
                &error,
                Error::Reply {
                    command: CommandKind::Ehlo,
                    ..
                }
            ));
            assert!(error.is_permanent());
        }
    );
}

#[test]
fn greeting_554_quits_and_fails() {
    let steps = [S(b"554 5.3.2 no service\r\n"), C(QUIT), S(BYE)];
    transcript!(
        steps,
        |io| connect_only(io).await,
        |result: Result<(), Error<MockError>>, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(
                &error,
                Error::Reply {
                    command: CommandKind::Greeting,
                    ..
                }
            ));
            assert!(error.is_permanent());
        }
    );
}

#[test]
fn greeting_421_fails_without_quit() {
    let steps = [S(b"421 4.3.2 shutting down\r\n"), Eof];
    transcript!(
        steps,
        |io| connect_only(io).await,
        |result: Result<(), Error<MockError>>, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(
                &error,
                Error::Reply {
                    command: CommandKind::Greeting,
                    ..
                }
            ));
            assert!(error.is_transient());
        }
    );
}

#[test]
fn multiline_greeting_read_before_ehlo() {
    // The lockstep script fails any write made before the last greeting
    // line arrived, under every split plan.
    let steps = [
        S(b"220-a\r\n220-b\r\n220 c\r\n"),
        C(EHLO),
        S(EHLO_PLAIN),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| connect_only(io).await,
        |result: Result<(), Error<MockError>>, _: &Mock| {
            result.unwrap();
        }
    );
}

#[test]
fn bare_codes_are_complete_replies() {
    let steps = [
        S(b"220\r\n"),
        C(EHLO),
        S(b"250\r\n"),
        C(b"NOOP\r\n"),
        S(b"250\r\n"),
        C(QUIT),
        S(b"221\r\n"),
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            with_session(io, &mut buf, &config(), async |client| client.noop().await).await
        },
        |result: Result<Reply, Error<MockError>>, _: &Mock| {
            let reply = result.unwrap();
            assert_eq!(reply.code.get(), 250);
            assert!(reply.text.is_empty());
        }
    );
}

type OneResult = Result<Delivery, Error<MockError>>;

/// Sends `body` to one recipient and checks afterwards that the session is
/// closed if and only if `closed` is true.
async fn send_one<T>(io: T, body: &[u8], closed: bool) -> OneResult
where
    T: embedded_io_async::Read
        + embedded_io_async::Write
        + embedded_io::ErrorType<Error = MockError>,
{
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
    with_session(io, &mut buf, &config(), async |client| {
        let sent = client.send_slice(&envelope, body, &mut results).await;
        assert_eq!(client.is_open(), !closed);
        if closed {
            assert!(matches!(client.noop().await, Err(Error::Closed)));
        }
        sent
    })
    .await
}

fn check_421(result: OneResult, _: &Mock) {
    let error = result.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.reply().map(|reply| reply.code.get()), Some(421));
}

#[test]
fn reply_421_closes_without_quit() {
    let closing = b"421 4.4.2 closing\r\n";
    let mail = S(b"250 ok\r\n");
    let rcpt = S(b"250 ok\r\n");
    let scripts: [&[Step]; 4] = [
        &[
            S(GREETING),
            C(EHLO),
            S(EHLO_PLAIN),
            C(b"MAIL FROM:<alert@client.example>\r\n"),
            S(closing),
            Eof,
        ],
        &[
            S(GREETING),
            C(EHLO),
            S(EHLO_PLAIN),
            C(b"MAIL FROM:<alert@client.example>\r\n"),
            mail,
            C(b"RCPT TO:<a@example.org>\r\n"),
            S(closing),
            Eof,
        ],
        &[
            S(GREETING),
            C(EHLO),
            S(EHLO_PLAIN),
            C(b"MAIL FROM:<alert@client.example>\r\n"),
            mail,
            C(b"RCPT TO:<a@example.org>\r\n"),
            rcpt,
            C(b"DATA\r\n"),
            S(closing),
            Eof,
        ],
        &[
            S(GREETING),
            C(EHLO),
            S(EHLO_PLAIN),
            C(b"MAIL FROM:<alert@client.example>\r\n"),
            mail,
            C(b"RCPT TO:<a@example.org>\r\n"),
            rcpt,
            C(b"DATA\r\n"),
            S(b"354 go\r\n"),
            C(b"x\r\n.\r\n"),
            S(closing),
            Eof,
        ],
    ];
    for steps in scripts {
        transcript!(steps, |io| send_one(io, b"x", true).await, check_421);
    }
}

#[test]
fn eof_mid_session_closes() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_PLAIN),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        Eof,
    ];
    transcript!(
        steps,
        |io| send_one(io, b"x", true).await,
        |result: OneResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(error, Error::UnexpectedEof));
            assert!(error.is_transient());
        }
    );
}

#[test]
fn size_over_limit_refused_before_mail() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 SIZE 1000\r\n"),
        C(QUIT),
        S(BYE),
    ];
    let body = [b'a'; 2000];
    transcript!(
        steps,
        |io| send_one(io, &body, false).await,
        |result: OneResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(
                error,
                Error::Input(InputError::MessageTooLarge {
                    size: 2002,
                    max: 1000
                })
            ));
            let text = std::format!("{error}");
            assert!(text.contains("2002"), "{text}");
            assert!(text.contains("1000"), "{text}");
            assert!(error.is_permanent());
        }
    );
}

#[test]
fn size_declared_when_advertised() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 size 1000\r\n"),
        C(b"MAIL FROM:<alert@client.example> SIZE=6\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C(b"a\r\nb\r\n.\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    // A bare LF counts as CRLF in the declared size (RFC 1870).
    transcript!(
        steps,
        |io| send_one(io, b"a\nb\r\n", false).await,
        |result: OneResult, _: &Mock| {
            assert_eq!(
                result.unwrap(),
                Delivery {
                    delivered: 1,
                    failed: 0
                }
            );
        }
    );
}

#[test]
fn body_dots_and_bare_line_ends_stuffed() {
    let cases: [(&[u8], &[u8]); 5] = [
        (
            b"a\r\n\r\n.\r\nMAIL FROM:<x@example.net>\r\n",
            b"a\r\n\r\n..\r\nMAIL FROM:<x@example.net>\r\n.\r\n",
        ),
        (b".\r\n.hidden", b"..\r\n..hidden\r\n.\r\n"),
        (b"x\n.\r\nRSET\r\n", b"x\r\n..\r\nRSET\r\n.\r\n"),
        (b"x\r.\r\n", b"x\r\n..\r\n.\r\n"),
        (b"no final break", b"no final break\r\n.\r\n"),
    ];
    for (body, wire) in cases {
        let steps = [
            S(GREETING),
            C(EHLO),
            S(EHLO_PLAIN),
            C(b"MAIL FROM:<alert@client.example>\r\n"),
            S(b"250 ok\r\n"),
            C(b"RCPT TO:<a@example.org>\r\n"),
            S(b"250 ok\r\n"),
            C(b"DATA\r\n"),
            S(b"354 go\r\n"),
            C(wire),
            S(b"250 ok\r\n"),
            C(QUIT),
            S(BYE),
        ];
        transcript!(
            steps,
            |io| send_one(io, body, false).await,
            |result: OneResult, _: &Mock| {
                result.unwrap();
            }
        );
    }
}

#[test]
fn injection_rejected_before_any_byte() {
    let senders = [
        "a@b>\r\nRCPT TO:<victim@example.org",
        "a\0b@example.org",
        "a@example.org\n",
    ];
    for sender in senders {
        let steps = [S(GREETING), C(EHLO), S(EHLO_PLAIN), C(QUIT), S(BYE)];
        transcript!(
            steps,
            |io| {
                let mut buf = [0u8; MIN_BUFFER_LEN];
                let mut results = [RecipientResult::NotAttempted; 1];
                let envelope = Envelope::new(sender, &["a@example.org"]);
                with_session(io, &mut buf, &config(), async |client| {
                    client.send_slice(&envelope, b"x", &mut results).await
                })
                .await
            },
            |result: OneResult, _: &Mock| {
                let error = result.unwrap_err();
                assert!(matches!(error, Error::Input(_)), "{error:?}");
                assert!(error.is_permanent());
            }
        );
    }

    let recipients = ["victim@example.org\0", "a@example.org>\r\nDATA"];
    for recipient in recipients {
        let steps = [S(GREETING), C(EHLO), S(EHLO_PLAIN), C(QUIT), S(BYE)];
        transcript!(
            steps,
            |io| {
                let mut buf = [0u8; MIN_BUFFER_LEN];
                let mut results = [RecipientResult::NotAttempted; 2];
                let to = ["ok@example.org", recipient];
                let envelope = Envelope::new("alert@client.example", &to);
                with_session(io, &mut buf, &config(), async |client| {
                    client.send_slice(&envelope, b"x", &mut results).await
                })
                .await
            },
            |result: OneResult, _: &Mock| {
                assert!(matches!(result, Err(Error::Input(_))), "{result:?}");
            }
        );
    }

    // An EHLO name with CR LF is refused before the greeting is even read.
    let steps = [Eof];
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let config = Config::new("host\r\nMAIL FROM:<>");
    let mock = Mock::new(&steps, Plan::Whole);
    let result = block_on(Client::connect(
        Blocking::new(mock.clone()),
        &mut buf,
        &config,
    ));
    assert!(matches!(result, Err(Error::Input(_))));
    assert!(mock.written().is_empty());
}

#[test]
fn eight_bit_without_8bitmime_refused() {
    let steps = [S(GREETING), C(EHLO), S(EHLO_PLAIN), C(QUIT), S(BYE)];
    transcript!(
        steps,
        |io| send_one(io, "Grüße".as_bytes(), false).await,
        |result: OneResult, _: &Mock| {
            assert!(matches!(
                result,
                Err(Error::Input(InputError::EightBitNotSupported))
            ));
        }
    );
}

#[test]
fn eight_bit_declared_with_8bitmime() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 8BITMIME\r\n"),
        C(b"MAIL FROM:<alert@client.example> BODY=8BITMIME\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C("Grüße\r\n.\r\n".as_bytes()),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_one(io, "Grüße".as_bytes(), false).await,
        |result: OneResult, _: &Mock| {
            result.unwrap();
        }
    );
}

#[test]
fn streamed_eight_bit_aborts_data() {
    // The server lacks 8BITMIME; an 8-bit byte in a streamed body stops the
    // data phase before it is written and the session closes without
    // sending the end marker, so the server discards the message.
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_PLAIN),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        Eof,
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 1];
            let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
            let mut source: &[u8] = "plain line\r\nGrüße\r\n".as_bytes();
            with_session(io, &mut buf, &config(), async |client| {
                let sent = client
                    .send_reader(&envelope, &mut source, BodyInfo::default(), &mut results)
                    .await;
                assert!(!client.is_open());
                sent
            })
            .await
        },
        |result: OneResult, mock: &Mock| {
            assert!(matches!(
                result,
                Err(Error::Input(InputError::EightBitNotSupported))
            ));
            assert!(!mock.written().windows(3).any(|w| w == b"\r\n."));
        }
    );
}

#[test]
fn lmtp_one_reply_per_recipient() {
    let steps = [
        S(b"220 lmtp.example.org LMTP\r\n"),
        C(b"LHLO client.example\r\n"),
        S(b"250-lmtp.example.org\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        S(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 unknown\r\n250 2.1.5 ok\r\n354 go\r\n"),
        C(b"hi\r\n.\r\n"),
        S(b"250 2.1.5 ok\r\n452 4.2.2 over quota\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 3];
            let envelope = Envelope::new(
                "alert@client.example",
                &["a@example.org", "b@example.org", "c@example.org"],
            );
            let delivery = with_session(io, &mut buf, &config().lmtp(), async |client| {
                client.send_slice(&envelope, b"hi", &mut results).await
            })
            .await;
            delivery.map(|delivery| (delivery, results))
        },
        |result: SendResult, _: &Mock| {
            let (delivery, results) = result.unwrap();
            assert_eq!(
                delivery,
                Delivery {
                    delivered: 1,
                    failed: 2
                }
            );
            assert_eq!(
                results[0],
                RecipientResult::Delivered(status(250, Some((2, 1, 5))))
            );
            assert_eq!(
                results[1],
                RecipientResult::Rejected(status(550, Some((5, 1, 1))))
            );
            assert_eq!(
                results[2],
                RecipientResult::Failed(Some(status(452, Some((4, 2, 2)))))
            );
            assert!(results[2].is_transient_failure());
        }
    );
}

#[test]
fn lmtp_missing_reply_is_failure() {
    let steps = [
        S(b"220 lmtp.example.org LMTP\r\n"),
        C(b"LHLO client.example\r\n"),
        S(b"250 lmtp.example.org\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<b@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<c@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C(b"hi\r\n.\r\n"),
        S(b"250 ok\r\n"),
        Eof,
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 3];
            let envelope = Envelope::new(
                "alert@client.example",
                &["a@example.org", "b@example.org", "c@example.org"],
            );
            let sent = with_session(io, &mut buf, &config().lmtp(), async |client| {
                client.send_slice(&envelope, b"hi", &mut results).await
            })
            .await;
            (sent, results)
        },
        |(sent, results): (OneResult, [RecipientResult; 3]), _: &Mock| {
            assert!(matches!(
                sent,
                Err(Error::Protocol(ProtocolError::MissingLmtpReply))
            ));
            assert!(results[0].is_delivered());
            assert_eq!(results[1], RecipientResult::Failed(None));
            assert_eq!(results[2], RecipientResult::Failed(None));
            assert!(results[1].is_transient_failure());
        }
    );
}

#[test]
fn malformed_replies_are_protocol_errors() {
    for greeting in [
        &b"25\r\n"[..],
        b"2\r\n",
        b"\r\n",
        b"abc def\r\n",
        b"250x\r\n",
        b"220-a\r\n250 b\r\n",
    ] {
        let steps = [S(greeting), Eof];
        transcript!(@unfinished steps, |io| connect_only(io).await, |result: Result<(), Error<MockError>>, _: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(error, Error::Protocol(ProtocolError::Reply(_))), "{error:?}");
        });
    }
}

#[test]
fn reply_line_over_buffer_is_error() {
    let mut long = std::vec![b'x'; 4096];
    long[..4].copy_from_slice(b"220 ");
    let long: &'static [u8] = long.leak();
    let steps = [Step::S(long), Eof];
    let mock = Mock::new(&steps, Plan::Whole);
    let result = block_on(connect_only(Blocking::new(mock.clone())));
    assert!(matches!(
        result,
        Err(Error::Protocol(ProtocolError::LineTooLong { max: 512 }))
    ));
}

#[test]
fn endless_reply_stops_at_line_cap() {
    let mut lines = std::vec::Vec::new();
    lines.extend_from_slice(GREETING);
    for _ in 0..100_000 {
        lines.extend_from_slice(b"250-x\r\n");
    }
    let lines: &'static [u8] = lines.leak();
    let steps = [
        Step::S(&lines[..GREETING.len()]),
        C(EHLO),
        Step::S(&lines[GREETING.len()..]),
        Eof,
    ];
    let mock = Mock::new(&steps, Plan::Whole);
    let result = block_on(connect_only(Blocking::new(mock.clone())));
    assert!(matches!(
        result,
        Err(Error::Protocol(ProtocolError::Reply(
            crate::codec::reply::ReplyError::TooManyLines { .. }
        )))
    ));
}

#[test]
fn several_messages_one_session() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_PLAIN),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C(b"one\r\n.\r\n"),
        S(b"550 5.6.0 content refused\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C(b"two\r\n.\r\n"),
        S(b"250 ok\r\n"),
        C(b"RSET\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 1];
            let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
            with_session(io, &mut buf, &config(), async |client| {
                let first = client.send_slice(&envelope, b"one", &mut results).await;
                let error = first.unwrap_err();
                assert!(matches!(
                    &error,
                    Error::Reply {
                        command: CommandKind::DataEnd,
                        ..
                    }
                ));
                assert!(error.is_permanent());
                assert!(results[0].is_permanent_failure());
                let second = client.send_slice(&envelope, b"two", &mut results).await?;
                assert!(results[0].is_delivered());
                client.rset().await?;
                Ok(second)
            })
            .await
        },
        |result: OneResult, _: &Mock| {
            assert_eq!(result.unwrap().delivered, 1);
        }
    );
}

#[test]
fn composed_message_quoted_printable_without_8bitmime() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 SIZE\r\n"),
        Step::C(b"MAIL FROM:<alert@client.example> SIZE="),
    ];
    // Only the start of the dialog is scripted here: the exact header bytes
    // are covered by the composition tests. This checks the size is
    // declared and that no raw 8-bit byte reaches the wire.
    let mock = Mock::new(&steps, Plan::Whole);
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
    let to = [Mailbox::new("a@example.org")];
    let headers = Headers {
        from: Mailbox::with_name("Pump 7", "alert@client.example"),
        to: &to,
        cc: &[],
        subject: "Druck über Grenzwert",
        date: None,
        message_id: None,
        extra: &[],
    };
    let result = block_on(async {
        let mut client = Client::connect(Blocking::new(mock.clone()), &mut buf, &config()).await?;
        client
            .send_message(&envelope, &headers, "Grüße\r\n".as_bytes(), &mut results)
            .await
    });
    // The script ends inside the MAIL line, so the send fails there.
    assert!(result.is_err());
    assert!(
        mock.written()
            .starts_with(b"EHLO client.example\r\nMAIL FROM:<alert@client.example> SIZE=")
    );
    assert!(mock.written().is_ascii());
}

#[test]
fn session_future_sizes_stay_bounded() {
    // Futures live in the caller's task, so their size is RAM a device pays
    // for. The bounds leave headroom over the sizes measured on x86_64
    // debug builds (see docs/BENCHMARKS.md) and catch accidental growth.
    let steps = [Eof];
    let config = config();
    let mock = Mock::new(&steps, Plan::Whole);
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let connect = Client::connect(Blocking::new(mock.clone()), &mut buf, &config);
    let connect_size = core::mem::size_of_val(&connect);
    drop(connect);

    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("a@example.org", &["b@example.org"]);
    let session = with_session(
        Blocking::new(mock.clone()),
        &mut buf,
        &config,
        async |client| client.send_slice(&envelope, b"x", &mut results).await,
    );
    let send_slice_size = core::mem::size_of_val(&session);
    drop(session);

    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 1];
    let to = [Mailbox::new("b@example.org")];
    let headers = Headers {
        from: Mailbox::new("a@example.org"),
        to: &to,
        cc: &[],
        subject: "s",
        date: None,
        message_id: None,
        extra: &[],
    };
    let session = with_session(Blocking::new(mock), &mut buf, &config, async |client| {
        client
            .send_message(&envelope, &headers, b"x", &mut results)
            .await
    });
    let send_message_size = core::mem::size_of_val(&session);
    drop(session);

    std::println!(
        "future sizes: connect {connect_size}, with_session+send_slice {send_slice_size}, \
         with_session+send_message {send_message_size}"
    );
    assert!(
        connect_size <= 1024,
        "connect future is {connect_size} bytes"
    );
    assert!(
        send_slice_size <= 2048,
        "send_slice session future is {send_slice_size} bytes"
    );
    assert!(
        send_message_size <= 4096,
        "send_message session future is {send_message_size} bytes"
    );
}

#[test]
fn failing_body_writer_abandons_data() {
    // The caller's body writer fails half-way: the session closes without
    // the end marker and without QUIT, so the server drops the message.
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_PLAIN),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        Eof,
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 1];
            let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
            with_session(io, &mut buf, &config(), async |client| {
                let sent = client
                    .send_with(&envelope, BodyInfo::default(), &mut results, async |data| {
                        data.write_all(b"Subject: reading\r\n\r\npressure: ")
                            .await?;
                        Err(Error::Body(embedded_io::ErrorKind::Other))
                    })
                    .await;
                assert!(!client.is_open());
                sent
            })
            .await
        },
        |result: OneResult, mock: &Mock| {
            assert!(matches!(result, Err(Error::Body(_))), "{result:?}");
            assert!(!mock.written().ends_with(b"\r\n.\r\n"));
        }
    );
}

#[test]
fn transient_mail_refusal_stays_transient() {
    // Over PIPELINING the RCPTs after a 451 to MAIL get 503: the recipients
    // were never tried, so none may count as permanently refused.
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 PIPELINING\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n"),
        S(b"451 4.3.0 try later\r\n503 5.5.1 need MAIL command\r\n503 5.5.1 need MAIL command\r\n503 5.5.1 need MAIL command\r\n503 5.5.1 need MAIL command\r\n"),
        C(b"RSET\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 3];
            let to = ["a@example.org", "b@example.org", "c@example.org"];
            let envelope = Envelope::new("alert@client.example", &to);
            let sent = with_session(io, &mut buf, &config(), async |client| {
                client.send_slice(&envelope, b"x", &mut results).await
            })
            .await;
            (sent, results)
        },
        |(sent, results): (OneResult, [RecipientResult; 3]), _: &Mock| {
            let error = sent.unwrap_err();
            assert!(error.is_transient(), "{error:?}");
            assert!(
                results.iter().all(|r| *r == RecipientResult::NotAttempted),
                "{results:?}"
            );
            assert!(results.iter().all(RecipientResult::is_transient_failure));
        }
    );
}

#[test]
fn pipelined_421_closes_without_quit() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 PIPELINING\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\nRCPT TO:<a@example.org>\r\nDATA\r\n"),
        S(b"250 ok\r\n421 4.4.2 closing\r\n"),
        Eof,
    ];
    transcript!(steps, |io| send_one(io, b"x", true).await, check_421);
}

#[test]
fn positive_reply_out_of_place_is_protocol_error() {
    // A 2yz or 3yz reply that does not fit the command means client and
    // server disagree on the dialog: the session closes without QUIT.
    let mail = C(b"MAIL FROM:<alert@client.example>\r\n");
    let rcpt = C(b"RCPT TO:<a@example.org>\r\n");
    let ok = S(b"250 ok\r\n");
    let scripts: [(&[Step], CommandKind); 4] = [
        (&[S(b"250 not a greeting\r\n"), Eof], CommandKind::Greeting),
        (
            &[
                S(GREETING),
                C(EHLO),
                S(EHLO_PLAIN),
                mail,
                S(b"354 go\r\n"),
                Eof,
            ],
            CommandKind::Mail,
        ),
        (
            &[
                S(GREETING),
                C(EHLO),
                S(EHLO_PLAIN),
                mail,
                ok,
                rcpt,
                ok,
                C(b"DATA\r\n"),
                S(b"250 ok\r\n"),
                Eof,
            ],
            CommandKind::Data,
        ),
        (
            &[
                S(GREETING),
                C(EHLO),
                S(EHLO_PLAIN),
                mail,
                ok,
                rcpt,
                ok,
                C(b"DATA\r\n"),
                S(b"354 go\r\n"),
                C(b"x\r\n.\r\n"),
                S(b"354 again\r\n"),
                Eof,
            ],
            CommandKind::DataEnd,
        ),
    ];
    for (steps, expected) in scripts {
        transcript!(
            steps,
            |io| {
                let mut buf = [0u8; MIN_BUFFER_LEN];
                let mut results = [RecipientResult::NotAttempted; 1];
                let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
                with_session(io, &mut buf, &config(), async |client| {
                    client.send_slice(&envelope, b"x", &mut results).await
                })
                .await
            },
            |result: OneResult, _: &Mock| {
                let error = result.unwrap_err();
                let Error::Protocol(ProtocolError::UnexpectedCode { command, .. }) = error else {
                    panic!("expected an unexpected-code error, got {error:?}");
                };
                assert_eq!(command, expected);
                assert!(error.is_transient());
            }
        );
    }
}

#[test]
fn seven_bit_stream_declares_no_body() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 8BITMIME\r\n"),
        C(b"MAIL FROM:<alert@client.example>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<a@example.org>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C(b"plain\r\n.\r\n"),
        S(b"250 ok\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let mut results = [RecipientResult::NotAttempted; 1];
            let envelope = Envelope::new("alert@client.example", &["a@example.org"]);
            let mut source: &[u8] = b"plain\r\n";
            with_session(io, &mut buf, &config(), async |client| {
                let info = BodyInfo::new(None, Content::SevenBit);
                client
                    .send_reader(&envelope, &mut source, info, &mut results)
                    .await
            })
            .await
        },
        |result: OneResult, _: &Mock| {
            result.unwrap();
        }
    );
}
