//! The `send` example's AUTH options against aiosmtpd on 127.0.0.1, which
//! runs with `--auth`: AUTH required, no TLS, user "pump" with password
//! "s3cret" or access token "ya29.valid-token", and 454 to PLAIN and LOGIN
//! for user "later".

mod common;

use std::process::{Command, Output, Stdio};

/// Runs `send` with `args` and the environment variables in `env`.
fn send(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(common::example("send"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("failed to start the send example")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Returns the arguments for one message to `address`, followed by `auth`.
fn message_args<'a>(address: &'a str, auth: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--server",
        address,
        "--from",
        "pump-7@example.net",
        "--to",
        "ops@example.org",
        "--subject",
        "Pressure alarm",
    ];
    args.extend_from_slice(auth);
    args
}

#[test]
fn every_mechanism_delivers() {
    let peer = common::aiosmtpd(&["--auth"]);
    let address = peer.address();
    let mut cases = vec![
        ("PLAIN", "--password-env", "s3cret"),
        ("LOGIN", "--password-env", "s3cret"),
        ("XOAUTH2", "--oauth-token-env", "ya29.valid-token"),
    ];
    if cfg!(feature = "cram-md5") {
        cases.push(("CRAM-MD5", "--password-env", "s3cret"));
    }

    for (n, (mechanism, flag, secret)) in cases.iter().enumerate() {
        let auth = [
            "--user",
            "pump",
            flag,
            "SMTP_SECRET",
            "--auth",
            mechanism,
            "--auth-plaintext",
        ];
        let output = send(&message_args(&address, &auth), &[("SMTP_SECRET", secret)]);
        let dialog = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{mechanism}: {dialog}");
        assert!(
            text(&output.stdout).contains("ops@example.org: delivered"),
            "{mechanism}: {}",
            text(&output.stdout)
        );
        assert!(dialog.contains("S: 235 "), "{mechanism}: {dialog}");
        assert!(
            !dialog.contains(secret),
            "{mechanism} shows the secret: {dialog}"
        );

        let stored = peer.wait_for_messages(n + 1);
        assert!(
            stored[n].1.contains("\"auth_login\": \"pump\""),
            "{mechanism}: {}",
            stored[n].1
        );
    }
}

#[test]
fn dialog_redacts_credentials() {
    let peer = common::aiosmtpd(&["--auth"]);
    let address = peer.address();
    let auth = [
        "--user",
        "pump",
        "--password-env",
        "SMTP_PASSWORD",
        "--auth",
        "plain",
        "--auth-plaintext",
    ];
    let output = send(
        &message_args(&address, &auth),
        &[("SMTP_PASSWORD", "s3cret")],
    );
    let dialog = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{dialog}");
    assert!(dialog.contains("C: AUTH PLAIN <redacted>"), "{dialog}");
    // "\0pump\0s3cret" and "s3cret" in base64.
    for secret in ["s3cret", "AHB1bXAAczNjcmV0", "czNjcmV0"] {
        assert!(!dialog.contains(secret), "dialog shows {secret}: {dialog}");
    }

    let auth = [
        "--user",
        "pump",
        "--password-env",
        "SMTP_PASSWORD",
        "--auth",
        "LOGIN",
        "--auth-plaintext",
    ];
    let output = send(
        &message_args(&address, &auth),
        &[("SMTP_PASSWORD", "s3cret")],
    );
    let dialog = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{dialog}");
    assert!(dialog.contains("C: AUTH LOGIN\n"), "{dialog}");
    assert!(dialog.contains("C: <redacted>"), "{dialog}");
    for secret in ["s3cret", "czNjcmV0", "cHVtcA=="] {
        assert!(!dialog.contains(secret), "dialog shows {secret}: {dialog}");
    }
}

#[test]
fn auth_failures_set_exit_codes() {
    let peer = common::aiosmtpd(&["--auth"]);
    let address = peer.address();

    let wrong = send(
        &message_args(
            &address,
            &["--user", "pump", "--password-env", "PW", "--auth-plaintext"],
        ),
        &[("PW", "wrong")],
    );
    let stderr = text(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(69), "{stderr}");
    assert!(stderr.contains("credentials invalid"), "{stderr}");

    let later = send(
        &message_args(
            &address,
            &[
                "--user",
                "later",
                "--password-env",
                "PW",
                "--auth",
                "PLAIN",
                "--auth-plaintext",
            ],
        ),
        &[("PW", "s3cret")],
    );
    let stderr = text(&later.stderr);
    assert_eq!(later.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("454"), "{stderr}");

    let token = send(
        &message_args(
            &address,
            &[
                "--user",
                "pump",
                "--oauth-token-env",
                "TOKEN",
                "--auth-plaintext",
            ],
        ),
        &[("TOKEN", "ya29.expired")],
    );
    assert_eq!(token.status.code(), Some(69), "{}", text(&token.stderr));

    assert_eq!(peer.stored(), 0);
}

#[test]
fn plaintext_needs_explicit_flag() {
    let peer = common::aiosmtpd(&["--auth"]);
    let address = peer.address();
    let output = send(
        &message_args(&address, &["--user", "pump", "--password-env", "PW"]),
        &[("PW", "s3cret")],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("not encrypted"), "{stderr}");
    assert!(!stderr.contains("C: AUTH"), "{stderr}");
    assert_eq!(peer.stored(), 0);
}

#[test]
fn missing_environment_variable() {
    let peer = common::aiosmtpd(&["--auth"]);
    let address = peer.address();
    let output = send(
        &message_args(
            &address,
            &[
                "--user",
                "pump",
                "--password-env",
                "SEND_AUTH_TEST_UNSET",
                "--auth-plaintext",
            ],
        ),
        &[],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(65), "{stderr}");
    assert!(
        stderr.contains("environment variable SEND_AUTH_TEST_UNSET is not set"),
        "{stderr}"
    );
    // Local input is checked before connecting.
    assert!(!stderr.contains("S: 220"), "{stderr}");
}

#[test]
fn incomplete_auth_options_are_usage_errors() {
    let peer = common::aiosmtpd(&["--auth"]);
    let address = peer.address();
    for (auth, message) in [
        (&["--password-env", "PW"][..], "--password-env needs --user"),
        (
            &["--oauth-token-env", "PW"],
            "--oauth-token-env needs --user",
        ),
        (&["--auth", "PLAIN"], "--auth needs --user"),
        (&["--auth-plaintext"], "--auth-plaintext needs --user"),
        (
            &["--user", "pump"],
            "--user needs --password-env or --oauth-token-env",
        ),
        (
            &[
                "--user",
                "pump",
                "--password-env",
                "PW",
                "--oauth-token-env",
                "PW",
            ],
            "--password-env and --oauth-token-env cannot be combined",
        ),
        (
            &[
                "--user",
                "pump",
                "--password-env",
                "PW",
                "--auth",
                "DIGEST-MD5",
            ],
            "invalid --auth \"DIGEST-MD5\"",
        ),
    ] {
        let output = send(&message_args(&address, auth), &[("PW", "s3cret")]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{auth:?}: {stderr}");
        assert!(stderr.contains(message), "{auth:?}: {stderr}");
    }
}

#[test]
fn help_describes_auth_options() {
    let output = send(&["--help"], &[]);
    let help = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{help}");
    for option in [
        "--user NAME",
        "--password-env VAR",
        "--oauth-token-env VAR",
        "--auth MECH",
        "--auth-plaintext",
    ] {
        assert!(help.contains(option), "help lacks {option}: {help}");
    }
    assert!(help.contains("without TLS"), "{help}");
}
