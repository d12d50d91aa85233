//! Postfix `smtp-source` sends 10,000 messages over 10 parallel sessions to
//! the `sink` example on 127.0.0.1; every message must be stored exactly
//! once.

mod server_support;

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use server_support::{TestSink, program, run_with_timeout};

const MESSAGES: usize = 10_000;
const SESSIONS: usize = 10;
/// Upper bound for the whole run; a debug build on a 2-core machine needs
/// far less.
const TIME_LIMIT: Duration = Duration::from_secs(240);

#[test]
fn smtp_source_messages_stored_once() {
    let smtp_source = program(&["/usr/sbin/smtp-source", "smtp-source"]);
    let sink = TestSink::start(10 * 1024 * 1024);
    let started = Instant::now();
    // -N prefixes each recipient with a sequence number, so that every
    // stored message is identified by the `for <...>` clause of its trace header.
    let output = run_with_timeout(
        Command::new(smtp_source)
            .args(["-s", &SESSIONS.to_string(), "-m", &MESSAGES.to_string()])
            .args(["-d", "-N", "-l", "200", "-M", "client.test"])
            .args(["-f", "load@device.test", "-t", "sink@example.org"])
            .arg(format!("127.0.0.1:{}", sink.port)),
        TIME_LIMIT,
    );
    assert!(
        output.status.success(),
        "smtp-source failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let elapsed = started.elapsed();

    let names = sink.new_messages();
    assert_eq!(names.len(), MESSAGES, "stored messages after {elapsed:?}");
    assert!(sink.tmp_files().is_empty());

    let mut recipients = BTreeSet::new();
    for name in &names {
        let message = fs::read_to_string(sink.maildir.join("new").join(name)).unwrap();
        let recipient = message
            .split("\tfor <")
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .unwrap_or_else(|| panic!("no recipient in the trace header of {name}"));
        assert!(recipient.ends_with("sink@example.org"), "{recipient}");
        assert!(
            recipients.insert(recipient.to_string()),
            "{recipient} stored twice"
        );
    }
    assert_eq!(recipients.len(), MESSAGES);
}
