//! TLS against aiosmtpd on 127.0.0.1 with certificates made by `openssl`
//! for each test run: STARTTLS and implicit TLS through embedded-tls and
//! rustls, rejected certificates and chains, and a TLS 1.2 server with an
//! RSA certificate that only rustls reaches.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use embedded_smtp::blocking::Blocking;
use embedded_smtp::client::{AuthOptions, Config, Envelope, Error, RecipientResult};
use embedded_smtp::codec::auth::{Credentials, Mechanism};
use embedded_smtp::host::{
    ConnectOptions, RustlsStream, RustlsUpgrade, StdStream, TlsClient, TlsClientError,
    connect_with_tls, embedded_tls, load_certificates, rustls_config,
};
use embedded_smtp::tls::embedded::{READ_BUFFER_LEN, TlsStream, WRITE_BUFFER_LEN};
use embedded_smtp::tls::{MaybeTls, TlsPolicy};

/// A CA, a second CA that signed nothing, and server certificates for
/// `localhost` and 127.0.0.1 in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn path_str(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }

    /// DER of the CA certificate `name` (a PEM file).
    fn der(&self, name: &str) -> Vec<u8> {
        load_certificates(&self.path(name)).unwrap()[0].to_vec()
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl not found: run scripts/install-deps.sh");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// Makes `name`.pem and `name`.key: a self-signed ECDSA P-256 CA.
fn make_ca(dir: &Path, name: &str) {
    let subject = format!("/CN=embedded-smtp test {name}");
    let mut args = vec!["req", "-x509", "-nodes", "-days", "2"];
    args.extend(EC_KEY);
    let key = format!("{name}.key");
    let cert = format!("{name}.pem");
    args.extend([
        "-keyout",
        &key,
        "-out",
        &cert,
        "-subj",
        &subject,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &args);
}

/// Makes `name`.pem and `name`.key for localhost and 127.0.0.1, signed by
/// the CA `ca`, with a key made by `key_args`.
fn make_server(dir: &Path, name: &str, ca: &str, key_args: &[&str]) {
    let extensions = "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    make_certificate(dir, name, "/CN=localhost", ca, key_args, extensions);
}

/// Makes `name`.pem and `name`.key: a certificate for `subject` with a
/// key made by `key_args`, signed by `issuer` (`issuer`.pem and
/// `issuer`.key), with the X.509 v3 extensions in `extensions` (an OpenSSL
/// extension file).
fn make_certificate(
    dir: &Path,
    name: &str,
    subject: &str,
    issuer: &str,
    key_args: &[&str],
    extensions: &str,
) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let cert = format!("{name}.pem");
    let extfile = format!("{name}.ext");
    let mut args = vec!["req", "-new", "-nodes", "-subj", subject];
    args.extend(key_args);
    args.extend(["-keyout", &key, "-out", &csr]);
    openssl(dir, &args);
    std::fs::write(dir.join(&extfile), extensions).unwrap();
    let issuer_cert = format!("{issuer}.pem");
    let issuer_key = format!("{issuer}.key");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-sha256",
            "-days",
            "2",
            "-in",
            &csr,
            "-CA",
            &issuer_cert,
            "-CAkey",
            &issuer_key,
            "-CAcreateserial",
            "-extfile",
            &extfile,
            "-out",
            &cert,
        ],
    );
}

/// Writes `name`.pem: the PEM certificates `parts`, leaf first.
fn make_chain(dir: &Path, name: &str, parts: &[&str]) {
    let chain: String = parts
        .iter()
        .map(|part| std::fs::read_to_string(dir.join(format!("{part}.pem"))).unwrap())
        .collect();
    std::fs::write(dir.join(format!("{name}.pem")), chain).unwrap();
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    make_ca(dir.path(), "ca");
    make_ca(dir.path(), "other-ca");
    make_server(dir.path(), "server", "ca", &EC_KEY);
    make_server(dir.path(), "rsa-server", "ca", &["-newkey", "rsa:2048"]);
    Pki { dir }
}

/// Adds to `pki` the chains that test the X.509 checks of the embedded
/// backend:
/// - `forged-chain`: a certificate for localhost signed with the key of
///   `attacker`, an ordinary CA:FALSE server certificate from `ca` for
///   another name, followed by `attacker`;
/// - `inter-chain`: a server certificate for localhost from `inter`, a
///   CA:TRUE intermediate from `ca`, followed by `inter`;
/// - `cn-only`: common name localhost, but DNS name mail.example.org only.
fn add_chain_cases(pki: &Pki) {
    let dir = pki.dir.path();
    make_certificate(
        dir,
        "attacker",
        "/CN=attacker.example",
        "ca",
        &EC_KEY,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=DNS:attacker.example\n",
    );
    make_certificate(
        dir,
        "forged",
        "/CN=localhost",
        "attacker",
        &EC_KEY,
        "subjectAltName=DNS:localhost\n",
    );
    make_chain(dir, "forged-chain", &["forged", "attacker"]);
    make_certificate(
        dir,
        "inter",
        "/CN=embedded-smtp test intermediate",
        "ca",
        &EC_KEY,
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n",
    );
    make_certificate(
        dir,
        "inter-leaf",
        "/CN=localhost",
        "inter",
        &EC_KEY,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         subjectAltName=DNS:localhost\n",
    );
    make_chain(dir, "inter-chain", &["inter-leaf", "inter"]);
    make_certificate(
        dir,
        "cn-only",
        "/CN=localhost",
        "ca",
        &EC_KEY,
        "subjectAltName=DNS:mail.example.org\n",
    );
}

fn starttls_peer(pki: &Pki) -> common::Peer {
    common::aiosmtpd(&[
        "--starttls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ])
}

fn options() -> ConnectOptions {
    ConnectOptions::default().with_timeout(std::time::Duration::from_secs(20))
}

/// Sends one message over `client`, quits and returns the transport.
fn deliver<S>(mut client: TlsClient<'_, S>) -> Result<MaybeTls<StdStream, S>, TlsClientError<S>>
where
    S: embedded_io_async::Read + embedded_io_async::Write,
{
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("device@example.net", &["ops@example.org"]);
    embedded_smtp::blocking::block_on(async {
        client
            .send_slice(&envelope, b"Subject: tls\r\n\r\nover TLS\r\n", &mut results)
            .await?;
        client.quit().await
    })
}

/// Connects to `peer` with embedded-tls, checking `name` against a chain
/// pinned to `ca`, and returns the connected client.
fn embedded_session<'b>(
    peer: &common::Peer,
    buf: &'b mut [u8],
    policy: TlsPolicy,
    name: &str,
    ca_der: &[u8],
) -> Result<TlsClient<'b, TlsStream<'static, StdStream>>, String> {
    // The buffers live as long as the test process, like static buffers on
    // a device.
    let read_buffer = Vec::leak(vec![0u8; READ_BUFFER_LEN]);
    let write_buffer = Vec::leak(vec![0u8; WRITE_BUFFER_LEN]);
    let name = String::leak(name.to_string());
    let ca_der = Vec::leak(ca_der.to_vec());
    let upgrade = embedded_tls(name, ca_der, read_buffer, write_buffer);
    let config = Config::new("client.test");
    connect_with_tls(&peer.address(), &options(), buf, &config, policy, upgrade).map_err(|e| {
        assert!(e.is_permanent(), "{e} should be permanent");
        assert!(matches!(e, Error::TlsHandshake { .. }), "{e}");
        e.to_string()
    })
}

/// Connects to `peer` under the `Required` policy, checking the name
/// localhost against `ca_der`, and returns the handshake error message.
fn localhost_failure(peer: &common::Peer, ca_der: &[u8]) -> String {
    let mut buf = [0u8; 2048];
    match embedded_session(peer, &mut buf, TlsPolicy::Required, "localhost", ca_der) {
        Ok(_) => panic!("the handshake with {} succeeded", peer.address()),
        Err(error) => error,
    }
}

#[test]
fn embedded_starttls_delivers() {
    let pki = pki();
    let peer = starttls_peer(&pki);
    let mut buf = [0u8; 2048];
    let client = embedded_session(
        &peer,
        &mut buf,
        TlsPolicy::Required,
        "localhost",
        &pki.der("ca.pem"),
    )
    .unwrap();
    assert!(client.is_secure());
    deliver(client).unwrap();
    assert_eq!(peer.wait_for_messages(1).len(), 1);
}

#[test]
fn embedded_implicit_tls_delivers() {
    let pki = pki();
    let peer = common::aiosmtpd(&[
        "--implicit-tls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ]);
    let mut buf = [0u8; 2048];
    let client = embedded_session(
        &peer,
        &mut buf,
        TlsPolicy::Implicit,
        "localhost",
        &pki.der("ca.pem"),
    )
    .unwrap();
    assert!(client.is_secure());
    deliver(client).unwrap();
    assert_eq!(peer.wait_for_messages(1).len(), 1);
}

#[test]
fn embedded_wrong_host_name_fails() {
    let pki = pki();
    let peer = starttls_peer(&pki);
    let mut buf = [0u8; 2048];
    let error = embedded_session(
        &peer,
        &mut buf,
        TlsPolicy::Required,
        "mail.example.org",
        &pki.der("ca.pem"),
    )
    .unwrap_err();
    assert!(
        error.contains("host name not in the certificate"),
        "{error}"
    );
    assert_eq!(peer.stored(), 0);
}

#[test]
fn embedded_unknown_ca_fails() {
    let pki = pki();
    let peer = starttls_peer(&pki);
    let error = localhost_failure(&peer, &pki.der("other-ca.pem"));
    assert!(
        error.contains("certificate chain not signed by the pinned CA"),
        "{error}"
    );
}

/// Starts a STARTTLS server with AUTH that presents the chain `name`.pem
/// with the key of its first certificate, `key`.key.
fn chain_peer(pki: &Pki, name: &str, key: &str) -> common::Peer {
    common::aiosmtpd(&[
        "--auth",
        "--starttls",
        &pki.path_str(&format!("{name}.pem")),
        &pki.path_str(&format!("{key}.key")),
    ])
}

#[test]
fn embedded_end_entity_issuer_fails() {
    let pki = pki();
    add_chain_cases(&pki);
    let peer = chain_peer(&pki, "forged-chain", "forged");
    let error = localhost_failure(&peer, &pki.der("ca.pem"));
    assert!(
        error.contains("certificate 1 of the chain issued another certificate but is not a CA"),
        "{error}"
    );
    assert!(error.contains("basic constraints"), "{error}");

    // The same through `send` with a password: nothing after STARTTLS.
    let address = peer.address();
    let ca = pki.path_str("ca.pem");
    let output = Command::new(common::example("send"))
        .args([
            "--server",
            address.as_str(),
            "--tls-required",
            "--ca",
            &ca,
            "--tls-name",
            "localhost",
            "--user",
            "pump",
            "--password-env",
            "SEND_TEST_PASSWORD",
        ])
        .args(ENVELOPE)
        .env("SEND_TEST_PASSWORD", "s3cret")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("is not a CA"), "{stderr}");
    assert!(!stderr.contains("C: AUTH"), "{stderr}");
    assert!(!stderr.contains("C: MAIL"), "{stderr}");
    assert_eq!(peer.stored(), 0);
}

#[test]
fn embedded_common_name_ignored_with_dns_names() {
    let pki = pki();
    add_chain_cases(&pki);
    let peer = chain_peer(&pki, "cn-only", "cn-only");
    let error = localhost_failure(&peer, &pki.der("ca.pem"));
    assert!(
        error.contains("host name not in the certificate"),
        "{error}"
    );
}

#[test]
fn embedded_intermediate_chain_delivers() {
    let pki = pki();
    add_chain_cases(&pki);
    let peer = chain_peer(&pki, "inter-chain", "inter-leaf");
    let mut buf = [0u8; 2048];
    let client = embedded_session(
        &peer,
        &mut buf,
        TlsPolicy::Required,
        "localhost",
        &pki.der("ca.pem"),
    )
    .unwrap();
    authenticate_and_deliver(client, Mechanism::Plain).unwrap();
    assert_eq!(peer.wait_for_messages(1).len(), 1);

    // embedded-tls checks the last certificate sent against the pinned
    // one, so pinning the intermediate that the server sends fails.
    let error = localhost_failure(&peer, &pki.der("inter.pem"));
    assert!(
        error.contains("pin the issuer of that certificate, usually the root"),
        "{error}"
    );
}

fn tls12_rsa_peer(pki: &Pki) -> common::Peer {
    common::aiosmtpd(&[
        "--starttls",
        &pki.path_str("rsa-server.pem"),
        &pki.path_str("rsa-server.key"),
        "--tls12-only",
    ])
}

#[test]
fn embedded_tls12_server_fails_clearly() {
    let pki = pki();
    let peer = tls12_rsa_peer(&pki);
    let error = localhost_failure(&peer, &pki.der("ca.pem"));
    // OpenSSL answers a TLS 1.3-only ClientHello with a protocol_version
    // alert, but aiosmtpd closes the connection without sending it.
    assert!(
        error.contains("server closed the connection during the TLS handshake before answering"),
        "{error}"
    );
    assert!(error.contains("may not support TLS 1.3"), "{error}");
}

fn rustls_session<'b>(
    peer: &common::Peer,
    buf: &'b mut [u8],
    ca_file: &Path,
) -> TlsClient<'b, Blocking<RustlsStream>> {
    let upgrade = RustlsUpgrade::new(rustls_config(Some(ca_file)).unwrap(), "localhost").unwrap();
    let config = Config::new("client.test");
    connect_with_tls(
        &peer.address(),
        &options(),
        buf,
        &config,
        TlsPolicy::Required,
        upgrade,
    )
    .unwrap()
}

#[test]
fn rustls_starttls_delivers() {
    let pki = pki();
    let peer = starttls_peer(&pki);
    let mut buf = [0u8; 2048];
    let client = rustls_session(&peer, &mut buf, &pki.path("ca.pem"));
    assert!(client.is_secure());
    deliver(client).unwrap();
    assert_eq!(peer.wait_for_messages(1).len(), 1);
}

#[test]
fn rustls_reaches_tls12_rsa_server() {
    let pki = pki();
    let peer = tls12_rsa_peer(&pki);
    let mut buf = [0u8; 2048];
    let client = rustls_session(&peer, &mut buf, &pki.path("ca.pem"));
    let MaybeTls::Tls(stream) = deliver(client).unwrap() else {
        panic!("session ended in plaintext");
    };
    let version = stream.inner().connection().protocol_version();
    assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(peer.wait_for_messages(1).len(), 1);
}

#[test]
fn rustls_unknown_ca_fails() {
    let pki = pki();
    let peer = starttls_peer(&pki);
    let upgrade = RustlsUpgrade::new(
        rustls_config(Some(&pki.path("other-ca.pem"))).unwrap(),
        "localhost",
    )
    .unwrap();
    let mut buf = [0u8; 2048];
    let config = Config::new("client.test");
    let error = connect_with_tls(
        &peer.address(),
        &options(),
        &mut buf,
        &config,
        TlsPolicy::Required,
        upgrade,
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            Error::TlsHandshake {
                transient: false,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");
}

fn send(args: &[&str]) -> Output {
    Command::new(common::example("send"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start the send example")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const ENVELOPE: [&str; 4] = ["--from", "device@example.net", "--to", "ops@example.org"];

#[test]
fn send_cli_tls_modes() {
    let pki = pki();
    let peer = starttls_peer(&pki);
    let address = peer.address();
    let ca = pki.path_str("ca.pem");
    let ca_der = pki.path("ca.der");
    std::fs::write(&ca_der, pki.der("ca.pem")).unwrap();
    let ca_der = ca_der.to_str().unwrap().to_string();
    let other_ca = pki.path_str("other-ca.pem");
    let server = ["--server", address.as_str(), "--tls-name", "localhost"];

    let cases: [(&[&str], i32, &str); 7] = [
        (
            &["--tls", "starttls", "--ca", &ca],
            0,
            "S: 220 Ready to start TLS",
        ),
        (&["--tls-required", "--ca", &ca_der], 0, "C: STARTTLS"),
        (&["--tls-required", "--insecure"], 0, "C: STARTTLS"),
        (
            &["--tls-required", "--tls-backend", "rustls", "--ca", &ca],
            0,
            "C: STARTTLS",
        ),
        (
            &["--tls-required", "--ca", &other_ca],
            69,
            "certificate chain not signed by the pinned CA",
        ),
        (
            &["--tls-required", "--tls-backend", "embedded"],
            64,
            "no trust store",
        ),
        // Without --ca the default backend is rustls with the system trust
        // store, which does not know the test CA.
        (&["--tls-required"], 69, "certificate"),
    ];
    let mut delivered = 0;
    for (flags, expected, needle) in cases {
        let output = send(&[&server[..], &ENVELOPE[..], flags].concat());
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(expected), "{flags:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{flags:?}: {needle:?} missing in {stderr}"
        );
        if expected == 0 {
            delivered += 1;
        }
    }
    assert_eq!(peer.wait_for_messages(delivered).len(), delivered);
}

#[test]
fn send_cli_plaintext_notice_and_required() {
    let peer = common::aiosmtpd(&[]);
    let address = peer.address();
    let server = ["--server", address.as_str()];

    // No TLS flags: opportunistic STARTTLS, which this server does not
    // offer, so the message goes in plaintext with a notice.
    let output = send(&[&server[..], &ENVELOPE[..]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("notice: STARTTLS was not offered"),
        "{}",
        text(&output.stderr)
    );

    let output = send(
        &[
            &server[..],
            &ENVELOPE[..],
            &["--tls-required", "--insecure"],
        ]
        .concat(),
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("does not offer STARTTLS"), "{stderr}");
    assert!(!stderr.contains("C: MAIL"), "{stderr}");
    assert_eq!(peer.stored(), 1);
}

/// Logs in with `mechanism` over an established TLS session, sends one
/// message and quits.
fn authenticate_and_deliver<S>(
    mut client: TlsClient<'_, S>,
    mechanism: Mechanism,
) -> Result<MaybeTls<StdStream, S>, TlsClientError<S>>
where
    S: embedded_io_async::Read + embedded_io_async::Write,
{
    let credentials = match mechanism {
        Mechanism::XOAuth2 => Credentials::oauth2("pump", "ya29.valid-token"),
        _ => Credentials::new("pump", "s3cret"),
    };
    let options = AuthOptions {
        mechanism: Some(mechanism),
        ..AuthOptions::new()
    };
    embedded_smtp::blocking::block_on(async {
        let used = client.authenticate(&credentials, &options).await?;
        assert_eq!(used, mechanism);
        let mut results = [RecipientResult::NotAttempted; 1];
        let envelope = Envelope::new("device@example.net", &["ops@example.org"]);
        client
            .send_slice(
                &envelope,
                b"Subject: auth\r\n\r\nafter AUTH\r\n",
                &mut results,
            )
            .await?;
        client.quit().await
    })
}

/// Returns the mechanisms this build can use.
fn mechanisms() -> Vec<Mechanism> {
    Mechanism::PREFERENCE
        .into_iter()
        .filter(|mechanism| mechanism.is_available())
        .collect()
}

#[test]
fn embedded_starttls_auth_each_mechanism() {
    let pki = pki();
    let peer = common::aiosmtpd(&[
        "--auth",
        "--starttls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ]);
    let mechanisms = mechanisms();
    for mechanism in &mechanisms {
        let mut buf = [0u8; 4096];
        let client = embedded_session(
            &peer,
            &mut buf,
            TlsPolicy::Required,
            "localhost",
            &pki.der("ca.pem"),
        )
        .unwrap();
        // aiosmtpd offers AUTH only after STARTTLS: the list comes from the
        // EHLO sent over TLS.
        assert!(!client.extensions().auth_mechanisms().is_empty());
        authenticate_and_deliver(client, *mechanism)
            .unwrap_or_else(|e| panic!("{}: {e}", mechanism.name()));
    }
    assert_eq!(
        peer.wait_for_messages(mechanisms.len()).len(),
        mechanisms.len()
    );
}

#[test]
fn embedded_implicit_tls_auth_each_mechanism() {
    let pki = pki();
    let peer = common::aiosmtpd(&[
        "--auth",
        "--implicit-tls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ]);
    let mechanisms = mechanisms();
    for mechanism in &mechanisms {
        let mut buf = [0u8; 4096];
        let client = embedded_session(
            &peer,
            &mut buf,
            TlsPolicy::Implicit,
            "localhost",
            &pki.der("ca.pem"),
        )
        .unwrap();
        authenticate_and_deliver(client, *mechanism)
            .unwrap_or_else(|e| panic!("{}: {e}", mechanism.name()));
    }
    assert_eq!(
        peer.wait_for_messages(mechanisms.len()).len(),
        mechanisms.len()
    );
}

#[test]
fn auth_over_starttls_wrong_password_is_permanent() {
    let pki = pki();
    let peer = common::aiosmtpd(&[
        "--auth",
        "--starttls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ]);
    let mut buf = [0u8; 4096];
    let mut client = embedded_session(
        &peer,
        &mut buf,
        TlsPolicy::Required,
        "localhost",
        &pki.der("ca.pem"),
    )
    .unwrap();
    let credentials = Credentials::new("pump", "wrong");
    let error =
        embedded_smtp::blocking::block_on(client.authenticate(&credentials, &AuthOptions::new()))
            .unwrap_err();
    assert!(error.is_permanent(), "{error}");
    assert!(matches!(error, Error::Auth { .. }), "{error}");
    assert!(
        !error.to_string().contains("wrong"),
        "the password leaked: {error}"
    );
}

#[test]
fn send_cli_auth_over_tls() {
    let pki = pki();
    let starttls = common::aiosmtpd(&[
        "--auth",
        "--starttls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ]);
    let implicit = common::aiosmtpd(&[
        "--auth",
        "--implicit-tls",
        &pki.path_str("server.pem"),
        &pki.path_str("server.key"),
    ]);
    let ca = pki.path_str("ca.pem");
    let starttls_address = starttls.address();
    let implicit_address = implicit.address();
    let mut delivered = [0, 0];
    for mechanism in mechanisms() {
        let secret = match mechanism {
            Mechanism::XOAuth2 => ["--oauth-token-env", "SEND_TEST_TOKEN"],
            _ => ["--password-env", "SEND_TEST_PASSWORD"],
        };
        let modes: [(&str, &[&str]); 2] = [
            (starttls_address.as_str(), &["--tls-required"]),
            (implicit_address.as_str(), &["--tls", "implicit"]),
        ];
        for (index, (address, tls)) in modes.into_iter().enumerate() {
            let args = [
                &["--server", address, "--tls-name", "localhost", "--ca", &ca][..],
                tls,
                &ENVELOPE[..],
                &["--user", "pump", "--auth", mechanism.name()][..],
                &secret[..],
            ]
            .concat();
            let output = Command::new(common::example("send"))
                .args(&args)
                .env("SEND_TEST_PASSWORD", "s3cret")
                .env("SEND_TEST_TOKEN", "ya29.valid-token")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = text(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
            let auth_line = format!("C: AUTH {} <redacted>", mechanism.name());
            let login_line = format!("C: AUTH {}", mechanism.name());
            assert!(
                stderr.contains(&auth_line) || stderr.contains(&login_line),
                "{stderr}"
            );
            assert!(!stderr.contains("s3cret"), "the password leaked: {stderr}");
            assert!(
                !stderr.contains("ya29.valid-token"),
                "the token leaked: {stderr}"
            );
            delivered[index] += 1;
        }
    }
    assert_eq!(starttls.wait_for_messages(delivered[0]).len(), delivered[0]);
    assert_eq!(implicit.wait_for_messages(delivered[1]).len(), delivered[1]);
}
