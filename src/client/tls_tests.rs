//! Transcript tests of STARTTLS and the TLS policies. A fake upgrade
//! passes the plaintext through, so the dialog after the handshake is
//! scripted like the one before it; the handshake itself is the script's
//! `Tls` step.

extern crate std;

use super::test_support::{
    C, FakeTls, Mock, MockError, Plan, S, Scripted, Step, Suspending, Tls, plans, transcript,
};
use super::*;
use crate::blocking::{Blocking, block_on};
use crate::codec::command::CommandKind;
use crate::codec::ehlo::Extension;
use crate::tls::{MaybeTls, MaybeTlsError, TlsPolicy};

const GREETING: &[u8] = b"220 mx.example.org ESMTP\r\n";
const EHLO: &[u8] = b"EHLO client.example\r\n";
const EHLO_STARTTLS: &[u8] =
    b"250-mx.example.org\r\n250-SIZE 10\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n";
const EHLO_PLAIN: &[u8] = b"250-mx.example.org\r\n250 SIZE 10000\r\n";
const STARTTLS: &[u8] = b"STARTTLS\r\n";
const QUIT: &[u8] = b"QUIT\r\n";
const BYE: &[u8] = b"221 2.0.0 bye\r\n";
const BODY: &[u8] = b"Subject: alarm\r\n\r\npressure high\r\n";

type TlsError = Error<MaybeTlsError<MockError, MockError>>;

/// What a session reports: whether it ran over TLS, whether the
/// extensions in force at MAIL listed STARTTLS and SIZE, and the delivery.
#[derive(Debug)]
struct Outcome {
    secure: bool,
    starttls_listed: bool,
    size_listed: bool,
    delivered: usize,
}

async fn send_with_policy<P>(io: P, policy: TlsPolicy) -> Result<Outcome, TlsError>
where
    P: Scripted + embedded_io_async::Read + embedded_io_async::Write<Error = MockError>,
{
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("alert@client.example", &["ops@example.org"]);
    let config = Config::new("client.example");
    let mut client: Client<'_, MaybeTls<P, P>> =
        Client::connect_with_tls(io, &mut buf, &config, policy, FakeTls).await?;
    let secure = client.is_secure();
    let starttls_listed = client.extensions().contains(Extension::StartTls);
    let size_listed = client.extensions().contains(Extension::Size);
    let delivery = client.send_slice(&envelope, BODY, &mut results).await?;
    client.quit().await?;
    Ok(Outcome {
        secure,
        starttls_listed,
        size_listed,
        delivered: delivery.delivered,
    })
}

/// MAIL to QUIT of one message without SIZE, as sent after the upgrade.
const TRANSACTION: [Step; 8] = [
    C(b"MAIL FROM:<alert@client.example>\r\n"),
    S(b"250 2.1.0 ok\r\n"),
    C(b"RCPT TO:<ops@example.org>\r\n"),
    S(b"250 2.1.5 ok\r\n"),
    C(b"DATA\r\n"),
    S(b"354 go ahead\r\n"),
    C(b"Subject: alarm\r\n\r\npressure high\r\n.\r\n"),
    S(b"250 2.0.0 queued\r\n"),
];

fn with_transaction(head: &[Step], tail: &[Step]) -> std::vec::Vec<Step> {
    let mut steps = head.to_vec();
    steps.extend_from_slice(&TRANSACTION);
    steps.extend_from_slice(tail);
    steps
}

#[test]
fn starttls_forgets_extensions_and_greets_again() {
    let steps = with_transaction(
        &[
            S(GREETING),
            C(EHLO),
            S(EHLO_STARTTLS),
            C(STARTTLS),
            S(b"220 2.0.0 ready\r\n"),
            Tls,
            C(EHLO),
            S(b"250-mx.example.org\r\n250 8BITMIME\r\n"),
        ],
        &[C(QUIT), S(BYE)],
    );
    for policy in [TlsPolicy::Opportunistic, TlsPolicy::Required] {
        transcript!(
            steps,
            |io| send_with_policy(io, policy).await,
            |result: Result<Outcome, TlsError>, _: &Mock| {
                let outcome = result.unwrap();
                assert!(outcome.secure);
                // The pre-TLS reply listed SIZE 10, which this body exceeds;
                // only the EHLO reply over TLS counts.
                assert!(!outcome.size_listed);
                assert!(!outcome.starttls_listed);
                assert_eq!(outcome.delivered, 1);
            }
        );
    }
}

#[test]
fn starttls_reply_with_injected_data_fails() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_STARTTLS),
        C(STARTTLS),
        S(b"220 go\r\n250-AUTH PLAIN\r\n"),
        Tls,
        C(EHLO),
    ];
    transcript!(@unfinished steps, |io| send_with_policy(io, TlsPolicy::Required).await,
        |result: Result<Outcome, TlsError>, mock: &Mock| {
            let error = result.unwrap_err();
            // When a read ends exactly after the 220 line, the injected
            // bytes are still in the network and reach the handshake, which
            // fails on them as a real TLS handshake would.
            let expected = matches!(error, Error::Protocol(ProtocolError::DataAfterStartTls))
                || (mock.plan() != Plan::Whole && matches!(error, Error::TlsHandshake { .. }));
            assert!(expected, "unexpected {error:?} under {:?}", mock.plan());
            assert_eq!(mock.written(), [EHLO, STARTTLS].concat(), "sent after STARTTLS");
        }
    );
}

#[test]
fn required_without_starttls_fails_before_mail() {
    let steps = [S(GREETING), C(EHLO), S(EHLO_PLAIN), C(QUIT), S(BYE)];
    transcript!(
        steps,
        |io| send_with_policy(io, TlsPolicy::Required).await,
        |result: Result<Outcome, TlsError>, mock: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(error, Error::TlsNotOffered), "{error:?}");
            assert!(error.is_permanent());
            assert_eq!(mock.written(), [EHLO, QUIT].concat());
        }
    );
}

#[test]
fn required_starttls_454_fails_before_mail() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_STARTTLS),
        C(STARTTLS),
        S(b"454 4.7.0 TLS not available due to temporary reason\r\n"),
        C(QUIT),
        S(BYE),
    ];
    transcript!(
        steps,
        |io| send_with_policy(io, TlsPolicy::Required).await,
        |result: Result<Outcome, TlsError>, mock: &Mock| {
            let error = result.unwrap_err();
            let Error::Reply { command, reply } = &error else {
                panic!("expected the 454 reply, got {error:?}");
            };
            assert_eq!(*command, CommandKind::StartTls);
            assert_eq!(reply.code.get(), 454);
            assert!(error.is_transient());
            assert_eq!(mock.written(), [EHLO, STARTTLS, QUIT].concat());
        }
    );
}

#[test]
fn opportunistic_without_starttls_stays_plaintext() {
    let steps = with_transaction(
        &[S(GREETING), C(EHLO), S(b"250 mx.example.org\r\n")],
        &[C(QUIT), S(BYE)],
    );
    transcript!(
        steps,
        |io| send_with_policy(io, TlsPolicy::Opportunistic).await,
        |result: Result<Outcome, TlsError>, _: &Mock| {
            let outcome = result.unwrap();
            assert!(!outcome.secure);
            assert_eq!(outcome.delivered, 1);
        }
    );
}

#[test]
fn opportunistic_starttls_454_stays_plaintext() {
    let steps = with_transaction(
        &[
            S(GREETING),
            C(EHLO),
            S(b"250-mx.example.org\r\n250 STARTTLS\r\n"),
            C(STARTTLS),
            S(b"454 4.7.0 TLS not available due to temporary reason\r\n"),
        ],
        &[C(QUIT), S(BYE)],
    );
    transcript!(
        steps,
        |io| send_with_policy(io, TlsPolicy::Opportunistic).await,
        |result: Result<Outcome, TlsError>, _: &Mock| {
            let outcome = result.unwrap();
            assert!(!outcome.secure);
            assert!(outcome.starttls_listed);
        }
    );
}

#[test]
fn policy_none_ignores_starttls() {
    let steps = with_transaction(
        &[
            S(GREETING),
            C(EHLO),
            S(b"250-mx.example.org\r\n250 STARTTLS\r\n"),
        ],
        &[C(QUIT), S(BYE)],
    );
    transcript!(
        steps,
        |io| send_with_policy(io, TlsPolicy::None).await,
        |result: Result<Outcome, TlsError>, _: &Mock| {
            assert!(!result.unwrap().secure);
        }
    );
}

#[test]
fn implicit_tls_handshakes_before_greeting() {
    let steps = with_transaction(
        &[Tls, S(GREETING), C(EHLO), S(b"250 mx.example.org\r\n")],
        &[C(QUIT), S(BYE)],
    );
    transcript!(
        steps,
        |io| send_with_policy(io, TlsPolicy::Implicit).await,
        |result: Result<Outcome, TlsError>, _: &Mock| {
            let outcome = result.unwrap();
            assert!(outcome.secure);
            assert_eq!(outcome.delivered, 1);
        }
    );
}

#[test]
fn failed_handshake_sends_nothing_more() {
    // The handshake fails because the script has server bytes where the
    // fake expects the handshake.
    let steps = [
        S(GREETING),
        C(EHLO),
        S(EHLO_STARTTLS),
        C(STARTTLS),
        S(b"220 go\r\n"),
        S(b"garbage"),
    ];
    transcript!(@unfinished steps, |io| send_with_policy(io, TlsPolicy::Opportunistic).await,
        |result: Result<Outcome, TlsError>, mock: &Mock| {
            let error = result.unwrap_err();
            assert!(matches!(error, Error::TlsHandshake { transient: false, .. }), "{error:?}");
            assert!(error.is_permanent());
            assert_eq!(mock.written(), [EHLO, STARTTLS].concat());
        }
    );
}

#[test]
fn starttls_on_secure_session_does_nothing() {
    let steps = [Tls, S(GREETING), C(EHLO), S(EHLO_STARTTLS), C(QUIT), S(BYE)];
    transcript!(
        steps,
        |io| async {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let config = Config::new("client.example");
            let mut client =
                Client::connect_with_tls(io, &mut buf, &config, TlsPolicy::Implicit, FakeTls)
                    .await?;
            client.starttls("client.example", FakeTls).await?;
            client.quit().await.map(|_| ())
        }
        .await,
        |result: Result<(), TlsError>, _: &Mock| result.unwrap()
    );
}
