//! The `send` example against real servers on 127.0.0.1: delivery, exit
//! codes and the printed dialog.

mod common;

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn send(args: &[&str]) -> Output {
    send_with_stdin(args, None)
}

fn send_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(common::example("send"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start the send example");
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        input.write_all(data).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn composed_message_delivered() {
    let peer = common::aiosmtpd(&[]);
    let body = peer.dir.path().join("body.txt");
    std::fs::write(&body, "Pressure above 6 bar.\n.leading dot\n").unwrap();
    let output = send(&[
        "--server",
        &peer.address(),
        "--from",
        "pump-7@example.net",
        "--to",
        "ops@example.org",
        "--subject",
        "Pressure alarm",
        "--body",
        body.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stdout).contains("ops@example.org: delivered (250 2.0.0)"),
        "{}",
        text(&output.stdout)
    );
    let dialog = text(&output.stderr);
    assert!(dialog.contains("C: EHLO [127.0.0.1]"), "{dialog}");
    assert!(dialog.contains("S: 220 "), "{dialog}");
    assert!(dialog.contains("C: QUIT"), "{dialog}");

    let stored = peer.wait_for_messages(1);
    let message = text(&stored[0].0);
    for header in [
        "From: pump-7@example.net\r\n",
        "To: ops@example.org\r\n",
        "Subject: Pressure alarm\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: 7bit\r\n",
    ] {
        assert!(message.contains(header), "missing {header:?} in {message}");
    }
    assert!(message.contains("\r\nDate: "), "{message}");
    assert!(message.contains("\r\nMessage-ID: <"), "{message}");
    assert!(
        message.ends_with("\r\n\r\nPressure above 6 bar.\r\n.leading dot\r\n"),
        "{message}"
    );
}

#[test]
fn complete_message_from_file_and_stdin() {
    let peer = common::aiosmtpd(&[]);
    let path = peer.dir.path().join("message.eml");
    let message = b"From: a@example.net\r\nSubject: as is\r\n\r\nline\n..two dots\n";
    std::fs::write(&path, message).unwrap();
    let output = send(&[
        "--server",
        &peer.address(),
        "--quiet",
        "--from",
        "a@example.net",
        "--to",
        "ops@example.org",
        "--message",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "--quiet printed {}",
        text(&output.stderr)
    );

    let output = send_with_stdin(
        &[
            "--server",
            &peer.address(),
            "--quiet",
            "--from",
            "a@example.net",
            "--to",
            "ops@example.org",
            "--message",
            "-",
        ],
        Some(message),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );

    let stored = peer.wait_for_messages(2);
    let expected = b"From: a@example.net\r\nSubject: as is\r\n\r\nline\r\n..two dots\r\n";
    assert_eq!(text(&stored[0].0), text(expected));
    assert_eq!(text(&stored[1].0), text(expected));
}

#[test]
fn exit_codes_follow_outcomes() {
    let peer = common::aiosmtpd(&[]);
    let server = peer.address();
    let base = [
        "--server",
        server.as_str(),
        "--from",
        "a@example.net",
        "--quiet",
    ];

    let refused = send(
        &[
            &base[..],
            &["--to", "ok@example.org", "--to", "refused@example.org"],
        ]
        .concat(),
    );
    assert_eq!(refused.status.code(), Some(69), "{}", text(&refused.stderr));
    let stdout = text(&refused.stdout);
    assert!(stdout.contains("ok@example.org: delivered"), "{stdout}");
    assert!(
        stdout.contains("refused@example.org: rejected (550 5.1.1)"),
        "{stdout}"
    );

    let later = send(&[&base[..], &["--to", "later@example.org"]].concat());
    assert_eq!(later.status.code(), Some(75), "{}", text(&later.stderr));

    let injected = send(&[&base[..], &["--to", "x@example.org>\r\nDATA"]].concat());
    assert_eq!(
        injected.status.code(),
        Some(65),
        "{}",
        text(&injected.stderr)
    );

    let usage = send(&["--server", server.as_str(), "--to", "x@example.org"]);
    assert_eq!(usage.status.code(), Some(64));
    assert!(text(&usage.stderr).contains("--from is required"));

    let missing = send(
        &[
            &base[..],
            &["--to", "x@example.org", "--body", "/nonexistent/body.txt"],
        ]
        .concat(),
    );
    assert_eq!(missing.status.code(), Some(74), "{}", text(&missing.stderr));
}

#[test]
fn eight_bit_message_without_8bitmime_refused() {
    // aiosmtpd always offers 8BITMIME, so this test uses a scripted server
    // without it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader};
        let (socket, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut writer = socket;
        writer.write_all(b"220 plain.test ESMTP\r\n").unwrap();
        let mut received = Vec::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            received.push(line.clone());
            let reply = if line.starts_with("QUIT") {
                "221 bye"
            } else {
                "250 plain.test"
            };
            writer.write_all(format!("{reply}\r\n").as_bytes()).unwrap();
            line.clear();
        }
        received
    });
    let peer_dir = tempfile::tempdir().unwrap();
    let path = peer_dir.path().join("message.eml");
    std::fs::write(&path, "Subject: x\r\n\r\nGrüße\r\n").unwrap();
    let output = send(&[
        "--server",
        &address,
        "--from",
        "a@example.net",
        "--to",
        "b@example.org",
        "--message",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(65), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("8BITMIME"),
        "{}",
        text(&output.stderr)
    );
    let received = server.join().unwrap();
    assert!(
        !received.iter().any(|line| line.starts_with("MAIL")),
        "{received:?}"
    );
    assert_eq!(received.last().map(String::as_str), Some("QUIT\r\n"));
}

#[test]
fn silent_server_exits_tempfail() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let holder = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
        drop(socket);
    });
    let started = std::time::Instant::now();
    let output = send(&[
        "--server",
        &address,
        "--from",
        "a@example.net",
        "--to",
        "b@example.org",
        "--timeout",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(75), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("timed out"),
        "{}",
        text(&output.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    holder.join().unwrap();
}

#[test]
fn lmtp_and_source_address() {
    let peer = common::aiosmtpd(&["--lmtp"]);
    let output = send(&[
        "--server",
        &peer.address(),
        "--lmtp",
        "--source-address",
        "127.0.0.1",
        "--helo",
        "sensor.test",
        "--from",
        "a@example.net",
        "--to",
        "ok@example.org",
        "--to",
        "quota@example.org",
        "--subject",
        "LMTP",
    ]);
    assert_eq!(output.status.code(), Some(75), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("ok@example.org: delivered"), "{stdout}");
    assert!(
        stdout.contains("quota@example.org: failed (452 4.2.2)"),
        "{stdout}"
    );
    assert!(text(&output.stderr).contains("C: LHLO sensor.test"));
}

#[test]
fn delivers_to_smtp_sink() {
    let peer = common::smtp_sink(&[]);
    let output = send(&[
        "--server",
        &peer.address(),
        "--from",
        "a@example.net",
        "--to",
        "b@example.org",
        "--to",
        "c@example.org",
        "--subject",
        "sink",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let dialog = text(&output.stderr);
    // smtp-sink offers PIPELINING: MAIL, both RCPTs and DATA leave in one
    // write, so their C: lines come before any S: line of the group.
    let mail = dialog.find("C: MAIL FROM:").unwrap();
    let data = dialog.find("C: DATA").unwrap();
    assert!(!dialog[mail..data].contains("S: "), "{dialog}");
}

#[test]
fn invalid_address_refused_before_connecting() {
    // Nothing listens on this port: an exit code of 65 (not 75) shows the
    // address was checked before any connection attempt.
    let port = common::free_port();
    let server = format!("127.0.0.1:{port}");
    let output = send(&[
        "--server",
        &server,
        "--quiet",
        "--from",
        "a@example.net",
        "--to",
        "bad address@example.org",
    ]);
    assert_eq!(output.status.code(), Some(65), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("invalid address"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn help_goes_to_stdout() {
    let output = send(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("usage: send"));
    assert!(output.stderr.is_empty());
}

#[test]
fn oversized_message_exits_unavailable() {
    let peer = common::aiosmtpd(&["--size", "100"]);
    let path = peer.dir.path().join("big.eml");
    std::fs::write(
        &path,
        "Subject: big\r\n\r\n".to_string() + &"0123456789\r\n".repeat(20),
    )
    .unwrap();
    let output = send(&[
        "--server",
        &peer.address(),
        "--quiet",
        "--from",
        "a@example.net",
        "--to",
        "b@example.org",
        "--message",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(69), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("exceeds the server's maximum of 100 octets"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn embedded_tls_needs_name_for_ip_server() {
    // embedded-tls checks DNS names only: a server given by IP address
    // without --tls-name is a usage error, reported before connecting.
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.der");
    std::fs::write(&ca, [0x30, 0x03, 0x02, 0x01, 0x01]).unwrap();
    let port = common::free_port();
    let server = format!("127.0.0.1:{port}");
    let output = send(&[
        "--server",
        &server,
        "--quiet",
        "--tls-required",
        "--ca",
        ca.to_str().unwrap(),
        "--from",
        "a@example.net",
        "--to",
        "b@example.org",
    ]);
    assert_eq!(output.status.code(), Some(64), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("--tls-name"),
        "{}",
        text(&output.stderr)
    );
}
