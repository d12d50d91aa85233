//! The client against aiosmtpd (Python) on 127.0.0.1.

mod common;

use embedded_smtp::blocking::block_on;
use embedded_smtp::client::{
    BodyInfo, Config, Content, Delivery, Envelope, Error, InputError, RecipientResult, with_session,
};
use embedded_smtp::codec::command::CommandKind;
use embedded_smtp::host::{ConnectOptions, connect};

fn config() -> Config<'static> {
    Config::new("client.test")
}

#[test]
fn several_recipients_one_refused() {
    let peer = common::aiosmtpd(&[]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 3];
    let to = [
        "ops@example.org",
        "refused@example.org",
        "later@example.org",
    ];
    let envelope = Envelope::new("pump-7@example.net", &to);
    let message = b"Subject: pressure\r\n\r\nPressure above 6 bar.\r\n";

    let delivery = block_on(with_session(stream, &mut buf, &config(), async |client| {
        client.send_slice(&envelope, message, &mut results).await
    }))
    .unwrap();

    assert_eq!(
        delivery,
        Delivery {
            delivered: 1,
            failed: 2
        }
    );
    assert!(results[0].is_delivered());
    assert!(results[1].is_permanent_failure());
    assert_eq!(results[1].status().unwrap().code.get(), 550);
    assert!(results[2].is_transient_failure());
    assert_eq!(results[2].status().unwrap().code.get(), 451);

    let stored = peer.wait_for_messages(1);
    assert_eq!(stored[0].0, message);
    assert!(
        stored[0].1.contains("\"rcpt_tos\": [\"ops@example.org\"]"),
        "{}",
        stored[0].1
    );
}

#[test]
fn size_limit_refused_locally_and_by_server() {
    let peer = common::aiosmtpd(&["--size", "1000"]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("pump-7@example.net", &["ops@example.org"]);
    // 20 lines of 100 octets: short lines, so only the size is wrong.
    let big = [[b'x'; 98].as_slice(), b"\r\n"].concat().repeat(20);

    block_on(with_session(stream, &mut buf, &config(), async |client| {
        assert_eq!(client.extensions().max_size(), Some(1000));

        // Known size: refused before MAIL, naming both sizes.
        let error = client
            .send_slice(&envelope, &big, &mut results)
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            Error::Input(InputError::MessageTooLarge {
                size: 2000,
                max: 1000
            })
        ));

        // Unknown size: the server counts and refuses after the data.
        let mut source: &[u8] = &big;
        let error = client
            .send_reader(&envelope, &mut source, BodyInfo::default(), &mut results)
            .await
            .unwrap_err();
        let Error::Reply { command, reply } = &error else {
            panic!("expected a 552 reply, got {error:?}");
        };
        assert_eq!(*command, CommandKind::DataEnd);
        assert_eq!(reply.code.get(), 552);
        assert!(error.is_permanent());

        // The session still carries a message that fits.
        client
            .send_slice(&envelope, b"small\r\n", &mut results)
            .await
            .map(|_| ())
    }))
    .unwrap();
    assert_eq!(peer.wait_for_messages(1)[0].0, b"small\r\n");
    assert_eq!(peer.stored(), 1);
}

/// A body source of `len` bytes that never exists in memory as a whole:
/// numbered lines, some starting with dots.
struct GeneratedBody {
    remaining: usize,
    line: u64,
    pending: Vec<u8>,
}

impl GeneratedBody {
    fn new(len: usize) -> Self {
        Self {
            remaining: len,
            line: 0,
            pending: Vec::new(),
        }
    }

    fn next_line(&mut self) {
        self.line += 1;
        let dots = if self.line.is_multiple_of(7) { "." } else { "" };
        self.pending =
            format!("{dots}line {:08} of the generated body\r\n", self.line).into_bytes();
    }
}

impl embedded_io::ErrorType for GeneratedBody {
    type Error = core::convert::Infallible;
}

impl embedded_io_async::Read for GeneratedBody {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.remaining == 0 {
            return Ok(0);
        }
        if self.pending.is_empty() {
            self.next_line();
        }
        let n = buf.len().min(self.pending.len()).min(self.remaining);
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        self.remaining -= n;
        Ok(n)
    }
}

#[test]
fn five_mib_body_streamed() {
    const LEN: usize = 5 * 1024 * 1024;
    let peer = common::aiosmtpd(&[]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    // The whole session runs in this 2 KiB buffer and the writer's 256-byte
    // stage, whatever the message size.
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("sensor@example.net", &["archive@example.org"]);

    block_on(with_session(stream, &mut buf, &config(), async |client| {
        let mut source = GeneratedBody::new(LEN);
        client
            .send_reader(
                &envelope,
                &mut source,
                BodyInfo::new(Some(LEN as u64), Content::SevenBit),
                &mut results,
            )
            .await
    }))
    .unwrap();

    let stored = peer.wait_for_messages(1);
    let data = &stored[0].0;
    // Generated lines are CRLF-terminated except possibly the cut last one,
    // to which the client adds CRLF.
    assert!(
        data.len() == LEN || data.len() == LEN + 2,
        "stored {} bytes",
        data.len()
    );
    let mut expected = GeneratedBody::new(LEN);
    let mut whole = Vec::with_capacity(LEN);
    let mut chunk = [0u8; 4096];
    loop {
        let n = block_on(embedded_io_async::Read::read(&mut expected, &mut chunk)).unwrap();
        if n == 0 {
            break;
        }
        whole.extend_from_slice(&chunk[..n]);
    }
    if !whole.ends_with(b"\r\n") {
        whole.extend_from_slice(b"\r\n");
    }
    assert!(data == &whole, "stored body differs from the generated one");
}

#[test]
fn dots_and_bare_line_ends_arrive_intact() {
    let peer = common::aiosmtpd(&[]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("pump-7@example.net", &["ops@example.org"]);
    let bodies: [&[u8]; 5] = [
        b"a\r\n\r\n.\r\nMAIL FROM:<x@example.net>\r\n",
        b".\r\n.hidden\r\n..two\r\n",
        b"x\n.\r\nRSET\r\n",
        b"x\r.\r\n",
        b"no final line break",
    ];
    let expected: [&[u8]; 5] = [
        b"a\r\n\r\n.\r\nMAIL FROM:<x@example.net>\r\n",
        b".\r\n.hidden\r\n..two\r\n",
        b"x\r\n.\r\nRSET\r\n",
        b"x\r\n.\r\n",
        b"no final line break\r\n",
    ];

    block_on(with_session(stream, &mut buf, &config(), async |client| {
        for body in bodies {
            client.send_slice(&envelope, body, &mut results).await?;
        }
        Ok(())
    }))
    .unwrap();

    let stored = peer.wait_for_messages(bodies.len());
    for (n, ((data, _), want)) in stored.iter().zip(expected).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(want),
            "message {n}"
        );
    }
}

#[test]
fn lmtp_reports_each_recipient() {
    let peer = common::aiosmtpd(&["--lmtp"]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 3];
    let to = [
        "ops@example.org",
        "quota@example.org",
        "refused@example.org",
    ];
    let envelope = Envelope::new("pump-7@example.net", &to);

    let delivery = block_on(with_session(
        stream,
        &mut buf,
        &config().lmtp(),
        async |client| {
            client
                .send_slice(&envelope, b"Subject: x\r\n\r\nbody\r\n", &mut results)
                .await
        },
    ))
    .unwrap();

    assert_eq!(
        delivery,
        Delivery {
            delivered: 1,
            failed: 2
        }
    );
    assert!(results[0].is_delivered());
    assert!(
        matches!(results[1], RecipientResult::Failed(Some(status)) if status.code.get() == 452)
    );
    assert!(results[1].is_transient_failure());
    assert!(matches!(results[2], RecipientResult::Rejected(status) if status.code.get() == 550));
    let stored = peer.wait_for_messages(1);
    assert!(
        stored[0].1.contains("\"rcpt_tos\": [\"ops@example.org\"]"),
        "{}",
        stored[0].1
    );
}

#[test]
fn smtputf8_and_8bitmime_declared() {
    let peer = common::aiosmtpd(&["--smtputf8"]);
    let stream = connect(&peer.address(), &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("pumpe@bücher.example", &["jörg@example.org"]);
    let body = "Subject: Grüße\r\n\r\nDruck über 6 bar.\r\n".as_bytes();

    block_on(with_session(stream, &mut buf, &config(), async |client| {
        client.send_slice(&envelope, body, &mut results).await
    }))
    .unwrap();

    let stored = peer.wait_for_messages(1);
    assert_eq!(stored[0].0, body);
    assert!(stored[0].1.contains("SMTPUTF8"), "{}", stored[0].1);
    assert!(stored[0].1.contains("BODY=8BITMIME"), "{}", stored[0].1);
}

#[cfg(feature = "tokio")]
#[test]
fn async_tokio_transport_delivers() {
    let peer = common::aiosmtpd(&[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async {
            let stream =
                embedded_smtp::host::connect_tokio(&peer.address(), &ConnectOptions::default())
                    .await
                    .unwrap();
            let mut buf = [0u8; 2048];
            let mut results = [RecipientResult::NotAttempted; 1];
            let envelope = Envelope::new("pump-7@example.net", &["ops@example.org"]);
            let mut client =
                embedded_smtp::client::Client::connect(stream, &mut buf, &config()).await?;
            client
                .send_slice(&envelope, b"via tokio\r\n", &mut results)
                .await?;
            client.quit().await.map(|_| ())
        })
        .unwrap();
    assert_eq!(peer.wait_for_messages(1)[0].0, b"via tokio\r\n");
}
