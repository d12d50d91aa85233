//! Real SMTP clients against the `sink` example on 127.0.0.1: Python
//! smtplib, curl and swaks. Each test fails when its client is missing.

mod server_support;

use std::fs;
use std::process::Command;
use std::time::Duration;

use server_support::{TestSink, program, run_python, run_with_timeout};

const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024;

#[test]
fn smtplib_ehlo_sees_size() {
    let sink = TestSink::start(DEFAULT_MAX_SIZE);
    let out = run_python(
        r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.test")
code, _ = s.ehlo()
print("ehlo", code)
print("has_size", s.has_extn("size"))
print("size", s.esmtp_features.get("size"))
print("features", " ".join(sorted(s.esmtp_features)))
s.quit()
"#,
        sink.port,
    );
    assert!(out.contains("ehlo 250\n"), "{out}");
    assert!(out.contains("has_size True\n"), "{out}");
    assert!(out.contains(&format!("size {DEFAULT_MAX_SIZE}\n")), "{out}");
    assert!(
        out.contains("features 8bitmime enhancedstatuscodes pipelining size smtputf8\n"),
        "{out}"
    );
}

#[test]
fn smtplib_send_message_several_recipients() {
    let sink = TestSink::start(DEFAULT_MAX_SIZE);
    let out = run_python(
        r#"
import smtplib, sys
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = "alerts@device.test"
msg["To"] = "ops@example.org, oncall@example.org"
msg["Cc"] = "audit@example.org"
msg["Subject"] = "Pump 3 pressure high"
msg.set_content("Pressure 7.1 bar at 12:00.\n.leading dot line\n")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.test") as s:
    refused = s.send_message(msg)
    print("refused", refused)
"#,
        sink.port,
    );
    assert!(out.contains("refused {}\n"), "{out}");
    let message = sink.only_message();
    assert!(
        message.starts_with(
            "Return-Path: <alerts@device.test>\r\nReceived: from client.test ([127.0.0.1])\r\n"
        ),
        "{message}"
    );
    assert!(message.contains("by sink.test with ESMTP id "), "{message}");
    assert!(!message.contains("\tfor <"), "{message}");
    assert!(
        message.contains("Subject: Pump 3 pressure high\r\n"),
        "{message}"
    );
    assert!(
        message.contains("\r\n\r\nPressure 7.1 bar at 12:00.\r\n.leading dot line\r\n"),
        "{message}"
    );
    assert!(sink.tmp_files().is_empty());
}

#[test]
fn smtplib_helo_path() {
    let sink = TestSink::start(DEFAULT_MAX_SIZE);
    let out = run_python(
        r#"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="client.test")
code, text = s.helo()
print("helo", code, text.decode())
print("does_esmtp", bool(s.does_esmtp))
print("refused", s.sendmail("a@device.test", ["b@example.org"], "Subject: helo\r\n\r\nplain SMTP\r\n"))
s.quit()
"#,
        sink.port,
    );
    assert!(out.contains("helo 250 sink.test\n"), "{out}");
    assert!(out.contains("does_esmtp False\n"), "{out}");
    assert!(out.contains("refused {}\n"), "{out}");
    let message = sink.only_message();
    assert!(message.contains("by sink.test with SMTP id "), "{message}");
    assert!(message.contains("\tfor <b@example.org>;\r\n"), "{message}");
    assert!(message.ends_with("\r\n\r\nplain SMTP\r\n"), "{message}");
}

#[test]
fn smtplib_over_limit_gets_552() {
    let sink = TestSink::start(1000);
    let out = run_python(
        r#"
import smtplib, sys
body = "Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 30
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo()
try:
    s.sendmail("a@device.test", ["b@example.org"], body)
except smtplib.SMTPSenderRefused as e:
    print("declared", e.smtp_code, e.smtp_error.decode())
s.rset()
s.mail("a@device.test")
s.rcpt("b@example.org")
code, text = s.data(body)
print("undeclared", code, text.decode())
code, _ = s.noop()
print("noop", code)
s.quit()
"#,
        sink.port,
    );
    assert!(
        out.contains("declared 552 5.3.4 Message size exceeds the maximum of 1000 octets\n"),
        "{out}"
    );
    assert!(
        out.contains("undeclared 552 5.3.4 Message size exceeds the maximum of 1000 octets\n"),
        "{out}"
    );
    assert!(out.contains("noop 250\n"), "{out}");
    assert!(sink.new_messages().is_empty());
    assert!(sink.tmp_files().is_empty());
}

#[test]
fn curl_smtp_upload() {
    let curl = program(&["curl"]);
    let sink = TestSink::start(DEFAULT_MAX_SIZE);
    let dir = sink.maildir.join("upload");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mail.txt");
    fs::write(
        &file,
        "From: a@device.test\r\nSubject: curl\r\n\r\nsent by curl\r\n",
    )
    .unwrap();
    let output = run_with_timeout(
        Command::new(curl)
            .arg("--silent")
            .arg("--show-error")
            .arg("--url")
            .arg(format!("smtp://127.0.0.1:{}/client.test", sink.port))
            .args(["--mail-from", "a@device.test"])
            .args([
                "--mail-rcpt",
                "b@example.org",
                "--mail-rcpt",
                "c@example.org",
            ])
            .arg("--upload-file")
            .arg(&file),
        Duration::from_secs(60),
    );
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let message = sink.only_message();
    assert!(
        message.contains("Received: from client.test ([127.0.0.1])"),
        "{message}"
    );
    assert!(message.ends_with("\r\n\r\nsent by curl\r\n"), "{message}");
}

#[test]
fn swaks_message() {
    let swaks = program(&["swaks"]);
    let sink = TestSink::start(DEFAULT_MAX_SIZE);
    let output = run_with_timeout(
        Command::new(swaks)
            .args(["--server", "127.0.0.1", "--port", &sink.port.to_string()])
            .args([
                "--helo",
                "client.test",
                "--from",
                "a@device.test",
                "--to",
                "b@example.org,c@example.org",
            ])
            .args(["--header", "Subject: swaks", "--body", "sent by swaks"]),
        Duration::from_secs(60),
    );
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "swaks failed:\n{transcript}");
    assert!(
        transcript.contains("<-  250 2.0.0 Message accepted"),
        "{transcript}"
    );
    let message = sink.only_message();
    assert!(message.contains("Subject: swaks\r\n"), "{message}");
    assert!(message.contains("sent by swaks"), "{message}");
}
