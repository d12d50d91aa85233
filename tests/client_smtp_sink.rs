//! The client against Postfix's smtp-sink, which offers PIPELINING.

mod common;

use embedded_smtp::blocking::block_on;
use embedded_smtp::client::{Config, Delivery, Envelope, RecipientResult, with_session};
use embedded_smtp::codec::ehlo::Extension;
use embedded_smtp::host::{ConnectOptions, connect};

fn dumped_files(peer: &common::Peer, count: usize) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut files: Vec<_> = std::fs::read_dir(peer.dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        if files.len() >= count {
            files.sort();
            return files
                .iter()
                .map(|path| std::fs::read(path).unwrap())
                .collect();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "smtp-sink dumped {} of {count} messages",
            files.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn pipelined_session_delivers() {
    let peer = common::smtp_sink(&[]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 3];
    let to = ["a@example.org", "b@example.org", "c@example.org"];
    let envelope = Envelope::new("pump-7@example.net", &to);
    let message = b"Subject: pipelined\r\n\r\n.leading dot\r\nend\r\n";

    let delivery = block_on(with_session(
        stream,
        &mut buf,
        &Config::new("client.test"),
        async |client| {
            assert!(client.extensions().contains(Extension::Pipelining));
            let first = client.send_slice(&envelope, message, &mut results).await?;
            // A second message in the same session.
            client.send_slice(&envelope, message, &mut results).await?;
            Ok(first)
        },
    ))
    .unwrap();

    assert_eq!(
        delivery,
        Delivery {
            delivered: 3,
            failed: 0
        }
    );
    assert!(results.iter().all(RecipientResult::is_delivered));
    let dumps = dumped_files(&peer, 2);
    for dump in dumps {
        let text = String::from_utf8_lossy(&dump);
        // smtp-sink writes its own trace headers, then the data as received
        // with the dot-stuffing removed.
        assert!(
            text.contains("\n.leading dot\r\nend\r\n") || text.contains("\n.leading dot\nend\n"),
            "{text}"
        );
        assert!(!text.contains("..leading"), "{text}");
        assert!(text.contains("c@example.org"), "{text}");
    }
}

#[test]
fn refused_recipients_reset_transaction() {
    // `-r RCPT` makes smtp-sink refuse every RCPT with a 4xx reply (and
    // turns PIPELINING off). The client sends no data, resets the
    // transaction and keeps the session usable.
    let peer = common::smtp_sink(&["-r", "RCPT"]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 2];
    let to = ["a@example.org", "b@example.org"];
    let envelope = Envelope::new("pump-7@example.net", &to);
    let noop = block_on(with_session(
        stream,
        &mut buf,
        &Config::new("client.test"),
        async |client| {
            let error = client
                .send_slice(&envelope, b"x\r\n", &mut results)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    error,
                    embedded_smtp::client::Error::NoRecipientAccepted { transient: true }
                ),
                "{error:?}"
            );
            client.noop().await
        },
    ))
    .unwrap();
    assert_eq!(noop.code.get(), 250);
    assert!(results.iter().all(RecipientResult::is_transient_failure));
    assert!(
        results
            .iter()
            .all(|r| r.status().is_some_and(|s| s.code.get() / 100 == 4))
    );
}

#[test]
fn reply_421_ends_session_without_quit() {
    // `-Q RCPT` makes smtp-sink answer RCPT with 421 and disconnect.
    let peer = common::smtp_sink(&["-Q", "RCPT"]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("pump-7@example.net", &["a@example.org"]);
    let error = block_on(with_session(
        stream,
        &mut buf,
        &Config::new("client.test"),
        async |client| {
            let sent = client.send_slice(&envelope, b"x\r\n", &mut results).await;
            assert!(!client.is_open());
            sent
        },
    ))
    .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(error.reply().map(|reply| reply.code.get()), Some(421));
}
