//! Transcript tests for AUTH: every exchange runs against a scripted server
//! through the async and the blocking API, with the server's bytes split at
//! every offset.

extern crate std;

use std::boxed::Box;
use std::format;
use std::string::String;
use std::vec::Vec;

use super::test_support::{C, Eof, Mock, MockError, S, Step, Suspending, plans, transcript};
use super::*;
use crate::blocking::{Blocking, block_on};
use crate::codec::auth::{AuthError, CredentialField, Credentials, Mechanism};
use crate::codec::command::CommandKind;
use crate::codec::ehlo::{AuthMechanisms, Extension, Extensions};

const GREETING: &[u8] = b"220 mx.example.org ESMTP\r\n";
const EHLO: &[u8] = b"EHLO client.example\r\n";
const QUIT: &[u8] = b"QUIT\r\n";
const BYE: &[u8] = b"221 2.0.0 bye\r\n";
const OK: &[u8] = b"235 2.7.0 Authentication successful\r\n";

/// `\0pump\0s3cret` in base64.
const PLAIN_PUMP: &[u8] = b"AUTH PLAIN AHB1bXAAczNjcmV0\r\n";
/// `pump` and `s3cret` in base64.
const LOGIN_USER: &[u8] = b"cHVtcA==\r\n";
const LOGIN_PASSWORD: &[u8] = b"czNjcmV0\r\n";
/// LOGIN with the challenges "Username:" and "Password:", then success.
const LOGIN_EXCHANGE: [Step; 6] = [
    C(b"AUTH LOGIN\r\n"),
    S(b"334 VXNlcm5hbWU6\r\n"),
    C(LOGIN_USER),
    S(b"334 UGFzc3dvcmQ6\r\n"),
    C(LOGIN_PASSWORD),
    S(OK),
];
/// `user=pump@example.net ^A auth=Bearer ya29.token ^A^A` in base64.
const XOAUTH2_PUMP: &[u8] =
    b"AUTH XOAUTH2 dXNlcj1wdW1wQGV4YW1wbGUubmV0AWF1dGg9QmVhcmVyIHlhMjkudG9rZW4BAQ==\r\n";

fn secure() -> Config<'static> {
    Config {
        secure: true,
        ..Config::new("client.example")
    }
}

fn password() -> Credentials<'static> {
    Credentials::new("pump", "s3cret")
}

fn token() -> Credentials<'static> {
    Credentials::oauth2("pump@example.net", "ya29.token")
}

fn forced(mechanism: Mechanism) -> AuthOptions {
    AuthOptions {
        mechanism: Some(mechanism),
        ..AuthOptions::new()
    }
}

type AuthResult = Result<(Mechanism, Extensions, bool), Error<MockError>>;

/// Connects, authenticates, records what the session looks like after it,
/// and quits.
async fn authenticate<T>(
    io: T,
    config: Config<'_>,
    credentials: Credentials<'_>,
    options: AuthOptions,
) -> AuthResult
where
    T: embedded_io_async::Read
        + embedded_io_async::Write
        + embedded_io::ErrorType<Error = MockError>,
{
    let mut buf = [0u8; MIN_BUFFER_LEN];
    with_session(io, &mut buf, &config, async |client| {
        let mechanism = client.authenticate(&credentials, &options).await?;
        Ok((mechanism, *client.extensions(), client.is_open()))
    })
    .await
}

/// Builds a script: greeting, EHLO with `ehlo_reply`, `exchange`, QUIT.
fn script(ehlo_reply: &'static [u8], exchange: &[Step]) -> Vec<Step> {
    let mut steps = std::vec![S(GREETING), C(EHLO), S(ehlo_reply)];
    steps.extend_from_slice(exchange);
    steps.extend_from_slice(&[C(QUIT), S(BYE)]);
    steps
}

/// Runs `exchange` after an EHLO reply of `ehlo_reply` on a secure session
/// and checks that AUTH succeeds with `expected`.
fn assert_authenticates(
    ehlo_reply: &'static [u8],
    exchange: &[Step],
    credentials: Credentials<'static>,
    options: AuthOptions,
    expected: Mechanism,
) {
    let steps = script(ehlo_reply, exchange);
    transcript!(
        steps,
        |io| authenticate(io, secure(), credentials, options).await,
        expect_mechanism(expected)
    );
}

fn expect_mechanism(expected: Mechanism) -> impl Fn(AuthResult, &Mock) {
    move |result, _| {
        let (mechanism, _, open) = result.unwrap();
        assert_eq!(mechanism, expected);
        assert!(open);
    }
}

fn expect_input_error(expected: InputError) -> impl Fn(AuthResult, &Mock) {
    move |result, mock| {
        match result {
            Err(Error::Input(error)) => assert_eq!(error, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
        let written = String::from_utf8(mock.written()).unwrap();
        assert!(!written.contains("AUTH"), "client wrote {written:?}");
    }
}

fn expect_auth_failure(
    code: u16,
    failure: AuthFailure,
    transient: bool,
) -> impl Fn(AuthResult, &Mock) {
    move |result, _| {
        let error = result.unwrap_err();
        let Error::Auth {
            failure: found,
            reply,
            ..
        } = &error
        else {
            panic!("expected an AUTH failure, got {error:?}");
        };
        assert_eq!(*found, failure);
        assert_eq!(reply.code.get(), code);
        assert_eq!(error.is_transient(), transient, "{error}");
        assert_eq!(error.is_permanent(), !transient, "{error}");
        assert_eq!(error.reply().map(|r| r.code.get()), Some(code));
    }
}

#[test]
fn plain_with_initial_response() {
    let steps = script(
        b"250-mx.example.org\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 1000\r\n",
        &[C(PLAIN_PUMP), S(OK)],
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        |result: AuthResult, _: &Mock| {
            let (mechanism, extensions, open) = result.unwrap();
            assert_eq!(mechanism, Mechanism::Plain);
            assert!(open);
            // No security layer was negotiated, so RFC 4954 section 4 needs
            // no new EHLO and the extensions from the first one stay.
            assert_eq!(extensions.max_size(), Some(1000));
            assert!(extensions.contains(Extension::Auth));
        }
    );
}

#[test]
fn plain_preferred_over_login() {
    assert_authenticates(
        b"250-mx.example.org\r\n250 AUTH LOGIN PLAIN\r\n",
        &[C(PLAIN_PUMP), S(OK)],
        password(),
        AuthOptions::new(),
        Mechanism::Plain,
    );
}

#[test]
fn login_challenges_answered_by_position() {
    // "User Name\0" and "Password:", then a text that is not base64 at all.
    for (first, second) in [
        (
            &b"334 VXNlciBOYW1lAA==\r\n"[..],
            &b"334 UGFzc3dvcmQ6\r\n"[..],
        ),
        (b"334 UGFzc3dvcmQ6\r\n", b"334 VXNlcm5hbWU6\r\n"),
        (b"334 Username:\r\n", b"334 what now?\r\n"),
    ] {
        assert_authenticates(
            b"250-mx.example.org\r\n250 AUTH LOGIN\r\n",
            &[
                C(b"AUTH LOGIN\r\n"),
                S(first),
                C(LOGIN_USER),
                S(second),
                C(LOGIN_PASSWORD),
                S(OK),
            ],
            password(),
            AuthOptions::new(),
            Mechanism::Login,
        );
    }
}

#[test]
fn bare_334_without_text() {
    assert_authenticates(
        b"250-mx.example.org\r\n250 AUTH LOGIN\r\n",
        &[
            C(b"AUTH LOGIN\r\n"),
            S(b"334\r\n"),
            C(LOGIN_USER),
            S(b"334 \r\n"),
            C(LOGIN_PASSWORD),
            S(OK),
        ],
        password(),
        AuthOptions::new(),
        Mechanism::Login,
    );
}

#[test]
fn long_plain_waits_for_challenge() {
    // A 372-byte password makes the AUTH line 517 octets long, over the
    // limit of 512, so the 506-octet response goes on its own line after
    // `334` without text, and fits the 512-octet transmit half.
    let long_password: &'static str = Box::leak("p".repeat(372).into_boxed_str());
    let mut payload = [0u8; 600];
    let n = base64::Engine::encode_slice(
        &base64::engine::general_purpose::STANDARD,
        format!("\0pump\0{long_password}"),
        &mut payload,
    )
    .unwrap();
    let response: &'static [u8] = Box::leak([&payload[..n], b"\r\n"].concat().into_boxed_slice());

    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN\r\n",
        &[C(b"AUTH PLAIN\r\n"), S(b"334\r\n"), C(response), S(OK)],
    );
    transcript!(
        steps,
        |io| {
            let credentials = Credentials::new("pump", long_password);
            authenticate(io, secure(), credentials, AuthOptions::new()).await
        },
        expect_mechanism(Mechanism::Plain)
    );
}

#[test]
fn old_style_auth_equals_line() {
    assert_authenticates(
        b"250-mx.example.org\r\n250-AUTH=LOGIN\r\n250 8BITMIME\r\n",
        &LOGIN_EXCHANGE,
        password(),
        AuthOptions::new(),
        Mechanism::Login,
    );

    // Both forms together: the mechanisms merge.
    assert_authenticates(
        b"250-mx.example.org\r\n250-AUTH=LOGIN\r\n250 AUTH PLAIN\r\n",
        &[C(PLAIN_PUMP), S(OK)],
        password(),
        AuthOptions::new(),
        Mechanism::Plain,
    );
}

#[test]
fn plain_clienttoken_is_not_plain() {
    let steps = script(b"250-mx.example.org\r\n250 AUTH PLAIN-CLIENTTOKEN\r\n", &[]);
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        expect_input_error(InputError::NoCommonMechanism {
            offered: AuthMechanisms::NONE
        })
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), forced(Mechanism::Plain)).await,
        expect_input_error(InputError::MechanismNotOffered {
            mechanism: Mechanism::Plain,
            offered: AuthMechanisms::NONE
        })
    );
}

#[test]
fn forced_mechanism_not_offered() {
    let steps = script(b"250-mx.example.org\r\n250 AUTH PLAIN\r\n", &[]);
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), forced(Mechanism::Login)).await,
        expect_input_error(InputError::MechanismNotOffered {
            mechanism: Mechanism::Login,
            offered: AuthMechanisms::PLAIN
        })
    );
}

#[test]
fn forced_mechanism_used() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN LOGIN\r\n",
        &LOGIN_EXCHANGE,
    );
    // Forcing overrides the enabled set.
    let options = AuthOptions {
        enabled: AuthMechanisms::PLAIN,
        ..forced(Mechanism::Login)
    };
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), options).await,
        expect_mechanism(Mechanism::Login)
    );
}

#[test]
fn enabled_set_limits_choice() {
    let steps = script(b"250-mx.example.org\r\n250 AUTH PLAIN\r\n", &[]);
    let options = AuthOptions {
        enabled: AuthMechanisms::LOGIN,
        ..AuthOptions::new()
    };
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), options).await,
        expect_input_error(InputError::NoCommonMechanism {
            offered: AuthMechanisms::PLAIN
        })
    );
}

#[test]
fn no_auth_extension() {
    let steps = script(b"250-mx.example.org\r\n250 8BITMIME\r\n", &[]);
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        expect_input_error(InputError::NoCommonMechanism {
            offered: AuthMechanisms::NONE
        })
    );
}

#[test]
fn xoauth2_chosen_for_token() {
    assert_authenticates(
        b"250-mx.example.org\r\n250 AUTH LOGIN PLAIN XOAUTH2\r\n",
        &[C(XOAUTH2_PUMP), S(OK)],
        token(),
        AuthOptions::new(),
        Mechanism::XOAuth2,
    );
}

#[test]
fn xoauth2_error_challenge_then_535() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH XOAUTH2\r\n",
        &[
            C(XOAUTH2_PUMP),
            S(b"334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n"),
            C(b"\r\n"),
            S(b"535 5.7.8 Username and Password not accepted\r\n"),
        ],
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), token(), AuthOptions::new()).await,
        expect_auth_failure(535, AuthFailure::CredentialsInvalid, false)
    );
}

#[test]
fn xoauth2_token_needs_token_credentials() {
    let steps = script(b"250-mx.example.org\r\n250 AUTH XOAUTH2\r\n", &[]);
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        expect_input_error(InputError::NoCommonMechanism {
            offered: AuthMechanisms::XOAUTH2
        })
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), forced(Mechanism::XOAuth2)).await,
        expect_input_error(InputError::Auth(AuthError::SecretMismatch {
            mechanism: Mechanism::XOAuth2
        }))
    );
}

#[test]
fn long_token_exceeding_buffer_rejected_first() {
    let long_token: &'static str = Box::leak("t".repeat(600).into_boxed_str());
    let steps = script(b"250-mx.example.org\r\n250 AUTH XOAUTH2\r\n", &[]);
    transcript!(
        steps,
        |io| {
            let credentials = Credentials::oauth2("pump@example.net", long_token);
            authenticate(io, secure(), credentials, AuthOptions::new()).await
        },
        |result: AuthResult, mock: &Mock| {
            // Base64 of the 636-byte payload is 848 octets plus CRLF, which
            // needs a transmit half of 850 octets.
            assert!(
                matches!(result, Err(Error::BufferTooSmall { needed: 1700 })),
                "{result:?}"
            );
            assert!(!String::from_utf8(mock.written()).unwrap().contains("AUTH"));
        }
    );
}

#[cfg(feature = "cram-md5")]
#[test]
fn cram_md5_rfc2195_example() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n",
        &[
            C(b"AUTH CRAM-MD5\r\n"),
            S(b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
            C(b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
            S(OK),
        ],
    );
    transcript!(
        steps,
        |io| {
            let credentials = Credentials::new("tim", "tanstaaftanstaaf");
            authenticate(io, secure(), credentials, AuthOptions::new()).await
        },
        expect_mechanism(Mechanism::CramMd5)
    );
}

#[cfg(feature = "cram-md5")]
#[test]
fn cram_md5_invalid_challenge_cancelled() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH CRAM-MD5\r\n",
        &[
            C(b"AUTH CRAM-MD5\r\n"),
            S(b"334 not base64!\r\n"),
            C(b"*\r\n"),
            S(b"501 5.7.0 Authentication cancelled\r\n"),
        ],
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        |result: AuthResult, _: &Mock| {
            assert!(
                matches!(
                    result,
                    Err(Error::Protocol(ProtocolError::InvalidAuthChallenge))
                ),
                "{result:?}"
            );
        }
    );
}

#[cfg(not(feature = "cram-md5"))]
#[test]
fn cram_md5_skipped_without_feature() {
    assert_authenticates(
        b"250-mx.example.org\r\n250 AUTH CRAM-MD5 PLAIN\r\n",
        &[C(PLAIN_PUMP), S(OK)],
        password(),
        AuthOptions::new(),
        Mechanism::Plain,
    );
}

#[test]
fn negative_replies_mapped() {
    for (reply, code, failure, transient) in [
        (
            &b"535 5.7.8 Authentication credentials invalid\r\n"[..],
            535,
            AuthFailure::CredentialsInvalid,
            false,
        ),
        (
            b"534 5.7.9 Authentication mechanism is too weak\r\n",
            534,
            AuthFailure::MechanismTooWeak,
            false,
        ),
        (
            b"538 5.7.11 Encryption required for requested authentication mechanism\r\n",
            538,
            AuthFailure::EncryptionRequired,
            false,
        ),
        (
            b"454 4.7.0 Temporary authentication failure\r\n",
            454,
            AuthFailure::TemporaryFailure,
            true,
        ),
        (
            b"432 4.7.12 A password transition is needed\r\n",
            432,
            AuthFailure::PasswordTransitionNeeded,
            true,
        ),
        (
            b"504 5.5.4 Unrecognized authentication type\r\n",
            504,
            AuthFailure::MechanismNotSupported,
            false,
        ),
        (
            b"502 5.5.1 Command not implemented\r\n",
            502,
            AuthFailure::NotImplemented,
            false,
        ),
        (
            b"500 5.5.6 Authentication Exchange line is too long\r\n",
            500,
            AuthFailure::LineTooLong,
            false,
        ),
        (
            b"501 5.5.2 Cannot decode\r\n",
            501,
            AuthFailure::Other,
            false,
        ),
    ] {
        let steps = script(
            b"250-mx.example.org\r\n250 AUTH PLAIN\r\n",
            &[C(PLAIN_PUMP), S(reply)],
        );
        transcript!(
            steps,
            |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
            expect_auth_failure(code, failure, transient)
        );
    }
}

#[test]
fn failure_after_login_password() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH LOGIN\r\n",
        &[
            C(b"AUTH LOGIN\r\n"),
            S(b"334 VXNlcm5hbWU6\r\n"),
            C(LOGIN_USER),
            S(b"334 UGFzc3dvcmQ6\r\n"),
            C(LOGIN_PASSWORD),
            S(b"535 5.7.8 Authentication credentials invalid\r\n"),
        ],
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        expect_auth_failure(535, AuthFailure::CredentialsInvalid, false)
    );
}

#[test]
fn unexpected_challenge_cancelled() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN\r\n",
        &[
            C(PLAIN_PUMP),
            S(b"334 \r\n"),
            C(b"*\r\n"),
            S(b"501 5.7.0 Authentication cancelled\r\n"),
        ],
    );
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        |result: AuthResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::Protocol(ProtocolError::UnexpectedCode {
                        command: CommandKind::Auth,
                        code
                    }) if code.get() == 334
                ),
                "{error:?}"
            );
        }
    );
}

#[test]
fn service_closing_during_auth() {
    let steps = [
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 AUTH PLAIN\r\n"),
        C(PLAIN_PUMP),
        S(b"421 4.3.2 shutting down\r\n"),
        Eof,
    ];
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        |result: AuthResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(
                matches!(
                    &error,
                    Error::Reply {
                        command: CommandKind::Auth,
                        reply
                    } if reply.code.get() == 421
                ),
                "{error:?}"
            );
            assert!(error.is_transient());
        }
    );
}

#[test]
fn plaintext_rejected_without_a_byte() {
    let steps = script(b"250-mx.example.org\r\n250 AUTH PLAIN LOGIN\r\n", &[]);
    transcript!(
        steps,
        |io| {
            authenticate(
                io,
                Config::new("client.example"),
                password(),
                AuthOptions::new(),
            )
            .await
        },
        expect_input_error(InputError::AuthNotEncrypted)
    );
}

#[test]
fn plaintext_allowed_explicitly() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN\r\n",
        &[C(PLAIN_PUMP), S(OK)],
    );
    let options = AuthOptions {
        allow_plaintext: true,
        ..AuthOptions::new()
    };
    transcript!(
        steps,
        |io| authenticate(io, Config::new("client.example"), password(), options).await,
        expect_mechanism(Mechanism::Plain)
    );
}

#[test]
fn line_breaks_in_credentials_rejected() {
    let steps = script(b"250-mx.example.org\r\n250 AUTH PLAIN\r\n", &[]);
    transcript!(
        steps,
        |io| {
            let credentials = Credentials::new("pump", "s3cret\r\nRCPT TO:<x@example.org>");
            authenticate(io, secure(), credentials, AuthOptions::new()).await
        },
        expect_input_error(InputError::Auth(AuthError::InvalidCharacter {
            field: CredentialField::Password
        }))
    );
}

#[test]
fn secure_flag_from_config() {
    let steps = [S(GREETING), C(EHLO), S(b"250 mx.example.org\r\n")];
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let secure_client = Client::connect(io, &mut buf, &secure()).await;
            secure_client.map(|client| client.is_secure())
        },
        |result: Result<bool, Error<MockError>>, _: &Mock| assert!(result.unwrap())
    );
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let config = Config::new("client.example");
            let plain_client = Client::connect(io, &mut buf, &config).await;
            plain_client.map(|client| client.is_secure())
        },
        |result: Result<bool, Error<MockError>>, _: &Mock| assert!(!result.unwrap())
    );
}

#[test]
fn transmit_buffer_wiped_after_auth() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN\r\n",
        &[C(PLAIN_PUMP), S(OK)],
    );
    transcript!(
        steps,
        |io| {
            let mut buf = [0u8; MIN_BUFFER_LEN];
            let result = with_session(io, &mut buf, &secure(), async |client| {
                client.authenticate(&password(), &AuthOptions::new()).await
            })
            .await;
            let needle = b"AHB1bXAAczNjcmV0";
            let kept = buf.windows(needle.len()).any(|window| window == needle);
            result.map(|_| kept)
        },
        |result: Result<bool, Error<MockError>>, _: &Mock| {
            assert!(!result.unwrap(), "the credentials stayed in the buffer");
        }
    );
}

#[test]
fn errors_never_show_secrets() {
    let credentials = Credentials::new("pump", "s3cret");
    let errors: [Error<MockError>; 4] = [
        InputError::AuthNotEncrypted.into(),
        InputError::Auth(AuthError::InvalidCharacter {
            field: CredentialField::Password,
        })
        .into(),
        InputError::MechanismNotOffered {
            mechanism: Mechanism::Login,
            offered: AuthMechanisms::PLAIN,
        }
        .into(),
        Error::Auth {
            mechanism: Mechanism::Plain,
            failure: AuthFailure::CredentialsInvalid,
            reply: Reply::new(crate::codec::reply::ReplyCode::new(535).unwrap()),
        },
    ];
    for error in &errors {
        for text in [format!("{error}"), format!("{error:?}")] {
            assert!(!text.contains("s3cret"), "{text}");
            assert!(!text.contains("czNjcmV0"), "{text}");
        }
    }
    assert_eq!(
        format!("{}", errors[3]),
        "AUTH PLAIN failed: credentials invalid (535)"
    );
    let debug = format!("{credentials:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
}

/// A `log` logger that keeps each thread's messages apart, so that tests
/// running in parallel see only their own lines.
#[cfg(feature = "log")]
mod capture {
    use std::cell::RefCell;
    use std::string::{String, ToString};
    use std::vec::Vec;

    std::thread_local! {
        static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    }

    struct ThreadLogger;

    impl log::Log for ThreadLogger {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }

        fn log(&self, record: &log::Record<'_>) {
            LINES.with(|lines| lines.borrow_mut().push(record.args().to_string()));
        }

        fn flush(&self) {}
    }

    static LOGGER: ThreadLogger = ThreadLogger;

    /// Installs the logger once per test binary and clears this thread's
    /// lines.
    pub(super) fn start() {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            // Another test binary's logger cannot be here: each binary is
            // its own process.
            let _ = log::set_logger(&LOGGER);
            log::set_max_level(log::LevelFilter::Trace);
        });
        LINES.with(|lines| lines.borrow_mut().clear());
    }

    /// Returns the lines this thread logged since [`start`].
    pub(super) fn lines() -> Vec<String> {
        LINES.with(|lines| lines.borrow().clone())
    }
}

#[cfg(feature = "log")]
#[test]
fn trace_redacts_credentials() {
    let steps = script(
        b"250-mx.example.org\r\n250 AUTH PLAIN LOGIN\r\n",
        &[C(PLAIN_PUMP), S(OK)],
    );
    capture::start();
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        expect_mechanism(Mechanism::Plain)
    );
    let lines = capture::lines();
    assert!(
        lines.iter().any(|l| l == "C: AUTH PLAIN <redacted>"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("S: 235")), "{lines:?}");

    let steps = script(b"250-mx.example.org\r\n250 AUTH LOGIN\r\n", &LOGIN_EXCHANGE);
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        expect_mechanism(Mechanism::Login)
    );
    let lines = capture::lines();
    assert!(lines.iter().any(|l| l == "C: AUTH LOGIN"), "{lines:?}");
    assert!(lines.iter().any(|l| l == "C: <redacted>"), "{lines:?}");

    for line in &lines {
        for secret in ["s3cret", "czNjcmV0", "AHB1bXAAczNjcmV0", "cHVtcA=="] {
            assert!(!line.contains(secret), "log line {line:?} shows {secret}");
        }
    }
}

#[test]
fn success_other_than_235_is_protocol_error() {
    // RFC 4954 reports success with 235 only; a 250 means the server did
    // something AUTH does not define, so the session closes without QUIT.
    let steps = std::vec![
        S(GREETING),
        C(EHLO),
        S(b"250-mx.example.org\r\n250 AUTH PLAIN\r\n"),
        C(PLAIN_PUMP),
        S(b"250 2.0.0 ok\r\n"),
        Eof,
    ];
    transcript!(
        steps,
        |io| authenticate(io, secure(), password(), AuthOptions::new()).await,
        |result: AuthResult, _: &Mock| {
            let error = result.unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::Protocol(ProtocolError::UnexpectedCode {
                        command: CommandKind::Auth,
                        ..
                    })
                ),
                "{error:?}"
            );
        }
    );
}
