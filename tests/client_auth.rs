//! AUTH against aiosmtpd (Python) on 127.0.0.1, without TLS: the peer runs
//! with `--auth`, so it requires AUTH before MAIL and accepts the user
//! "pump" with the password "s3cret" or the access token "ya29.valid-token".

mod common;

use embedded_smtp::blocking::block_on;
use embedded_smtp::client::{
    AuthFailure, AuthOptions, Config, Envelope, Error, InputError, RecipientResult, with_session,
};
use embedded_smtp::codec::auth::{Credentials, Mechanism};
use embedded_smtp::codec::ehlo::AuthMechanisms;
use embedded_smtp::host::{ConnectOptions, StdStream, connect};

const PASSWORD: Credentials<'static> = Credentials::new("pump", "s3cret");
const TOKEN: Credentials<'static> = Credentials::oauth2("pump", "ya29.valid-token");

fn config() -> Config<'static> {
    Config::new("client.test")
}

/// Options for a connection without TLS, with `mechanism` forced.
fn plaintext(mechanism: Option<Mechanism>) -> AuthOptions {
    AuthOptions {
        mechanism,
        allow_plaintext: true,
        ..AuthOptions::new()
    }
}

fn open(peer: &common::Peer) -> StdStream {
    connect(&peer.address(), &ConnectOptions::default()).unwrap()
}

/// Authenticates and sends one message; returns the mechanism used.
fn authenticate_and_send(
    peer: &common::Peer,
    credentials: &Credentials<'_>,
    options: &AuthOptions,
) -> Result<Mechanism, Error<std::io::Error>> {
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("pump-7@example.net", &["ops@example.org"]);
    let message = b"Subject: pressure\r\n\r\nPressure above 6 bar.\r\n";
    block_on(with_session(
        open(peer),
        &mut buf,
        &config(),
        async |client| {
            let mechanism = client.authenticate(credentials, options).await?;
            client.send_slice(&envelope, message, &mut results).await?;
            Ok(mechanism)
        },
    ))
}

#[test]
fn every_mechanism_delivers() {
    let peer = common::aiosmtpd(&["--auth"]);
    let mut cases = vec![
        (Mechanism::Plain, PASSWORD),
        (Mechanism::Login, PASSWORD),
        (Mechanism::XOAuth2, TOKEN),
    ];
    if cfg!(feature = "cram-md5") {
        cases.push((Mechanism::CramMd5, PASSWORD));
    }

    for (n, (mechanism, credentials)) in cases.iter().enumerate() {
        let used = authenticate_and_send(&peer, credentials, &plaintext(Some(*mechanism)))
            .unwrap_or_else(|e| panic!("{mechanism}: {e}"));
        assert_eq!(used, *mechanism);

        let stored = peer.wait_for_messages(n + 1);
        let meta = &stored[n].1;
        assert!(
            meta.contains("\"auth_login\": \"pump\""),
            "{mechanism}: {meta}"
        );
    }
}

#[test]
fn offered_mechanisms_recorded() {
    let peer = common::aiosmtpd(&["--auth"]);
    let mut buf = [0u8; 2048];
    let offered = block_on(with_session(
        open(&peer),
        &mut buf,
        &config(),
        async |client| Ok(client.extensions().auth_mechanisms()),
    ))
    .unwrap();
    let all = AuthMechanisms::PLAIN
        .union(AuthMechanisms::LOGIN)
        .union(AuthMechanisms::CRAM_MD5)
        .union(AuthMechanisms::XOAUTH2);
    assert_eq!(offered, all);
}

#[test]
fn preferred_mechanism_chosen() {
    let peer = common::aiosmtpd(&["--auth"]);
    let expected = if cfg!(feature = "cram-md5") {
        Mechanism::CramMd5
    } else {
        Mechanism::Plain
    };
    let used = authenticate_and_send(&peer, &PASSWORD, &plaintext(None)).unwrap();
    assert_eq!(used, expected);
    let used = authenticate_and_send(&peer, &TOKEN, &plaintext(None)).unwrap();
    assert_eq!(used, Mechanism::XOAuth2);
    peer.wait_for_messages(2);
}

#[test]
fn wrong_password_is_permanent() {
    let peer = common::aiosmtpd(&["--auth"]);
    let wrong = Credentials::new("pump", "wrong");
    let mut mechanisms = vec![Mechanism::Plain, Mechanism::Login];
    if cfg!(feature = "cram-md5") {
        mechanisms.push(Mechanism::CramMd5);
    }

    for mechanism in mechanisms {
        let error = authenticate_and_send(&peer, &wrong, &plaintext(Some(mechanism))).unwrap_err();
        assert!(
            matches!(
                error,
                Error::Auth {
                    failure: AuthFailure::CredentialsInvalid,
                    ..
                }
            ),
            "{mechanism}: {error:?}"
        );
        assert!(error.is_permanent(), "{mechanism}: {error}");
        assert_eq!(error.reply().map(|r| r.code.get()), Some(535));
    }
    assert_eq!(peer.stored(), 0);
}

#[test]
fn wrong_token_gets_failure_flow() {
    let peer = common::aiosmtpd(&["--auth"]);
    let wrong = Credentials::oauth2("pump", "ya29.expired-token");
    let error = authenticate_and_send(&peer, &wrong, &plaintext(None)).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Auth {
                mechanism: Mechanism::XOAuth2,
                failure: AuthFailure::CredentialsInvalid,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_permanent(), "{error}");
    assert_eq!(peer.stored(), 0);
}

#[test]
fn plaintext_rejected_by_default() {
    let peer = common::aiosmtpd(&["--auth"]);
    let error = authenticate_and_send(&peer, &PASSWORD, &AuthOptions::new()).unwrap_err();
    assert!(
        matches!(error, Error::Input(InputError::AuthNotEncrypted)),
        "{error:?}"
    );
    assert!(error.is_permanent());
    assert_eq!(peer.stored(), 0);
}
