//! The project's own client against its own server, in one process over
//! 127.0.0.1.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use embedded_smtp::blocking::block_on;
use embedded_smtp::client::{BodyInfo, Envelope, Error, InputError, RecipientResult, with_session};
use embedded_smtp::codec::command::CommandKind;
use embedded_smtp::codec::ehlo::Extension;
use embedded_smtp::codec::message::{Headers, Mailbox};
use embedded_smtp::codec::server::command::BodyType;
use embedded_smtp::host::listener::{self, ListenerConfig, Service};
use embedded_smtp::host::{ConnectOptions, connect};
use embedded_smtp::server::{self, AbortReason, Handler, MailParameters, Reject};

#[derive(Debug, Clone, Default)]
struct Stored {
    reverse_path: String,
    recipients: Vec<String>,
    body_8bitmime: bool,
    data: Vec<u8>,
}

struct Recorder {
    stored: Arc<Mutex<Vec<Stored>>>,
    current: Option<Stored>,
}

impl Handler for Recorder {
    async fn mail(
        &mut self,
        reverse_path: &str,
        parameters: &MailParameters,
    ) -> Result<(), Reject> {
        self.current = Some(Stored {
            reverse_path: reverse_path.to_owned(),
            body_8bitmime: parameters.body == Some(BodyType::EightBitMime),
            ..Stored::default()
        });
        Ok(())
    }

    async fn rcpt(&mut self, forward_path: &str) -> Result<(), Reject> {
        if forward_path.starts_with("nobody@") {
            return Err(Reject::NO_SUCH_MAILBOX);
        }
        self.current
            .as_mut()
            .unwrap()
            .recipients
            .push(forward_path.to_owned());
        Ok(())
    }

    async fn data(&mut self, chunk: &[u8]) -> Result<(), Reject> {
        self.current.as_mut().unwrap().data.extend_from_slice(chunk);
        Ok(())
    }

    async fn data_end(&mut self) -> Result<(), Reject> {
        let message = self.current.take().unwrap();
        self.stored.lock().unwrap().push(message);
        Ok(())
    }

    async fn abort(&mut self, _reason: AbortReason) {
        self.current = None;
    }
}

struct RecorderService(Arc<Mutex<Vec<Stored>>>);

impl Service for RecorderService {
    type Handler = Recorder;

    fn open(&self, _: SocketAddr) -> Recorder {
        Recorder {
            stored: Arc::clone(&self.0),
            current: None,
        }
    }
}

struct Running {
    address: String,
    stored: Arc<Mutex<Vec<Stored>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap().unwrap();
        }
    }
}

fn start(max_size: u64) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let stored = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let service = RecorderService(Arc::clone(&stored));
    let thread_stop = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let mut config = server::Config::new("mx.test");
        config.max_size = max_size;
        listener::run(
            &listener,
            &config,
            &ListenerConfig::default(),
            &service,
            &thread_stop,
        )
    });
    Running {
        address,
        stored,
        stop,
        thread: Some(thread),
    }
}

#[test]
fn composed_utf8_message_round_trip() {
    let server = start(0);
    let stream = connect(&server.address, &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 1024];
    let mut results = [RecipientResult::NotAttempted; 2];
    let to = ["ops@example.org", "nobody@example.org"];
    let envelope = Envelope::new("pump-7@example.net", &to);
    let to_boxes = [Mailbox::new(to[0]), Mailbox::new(to[1])];
    let headers = Headers {
        from: Mailbox::with_name("Pumpe 7 (Süd)", "pump-7@example.net"),
        to: &to_boxes,
        cc: &[],
        subject: "Druck über Grenzwert",
        date: None,
        message_id: None,
        extra: &[],
    };
    let text = "Grüße\n.leading dot\n".as_bytes();

    let delivery = block_on(with_session(
        stream,
        &mut buf,
        &embedded_smtp::client::Config::new("client.test"),
        async |client| {
            assert!(client.extensions().contains(Extension::Pipelining));
            assert!(client.extensions().contains(Extension::EightBitMime));
            client
                .send_message(&envelope, &headers, text, &mut results)
                .await
        },
    ))
    .unwrap();

    assert_eq!(delivery.delivered, 1);
    assert!(results[0].is_delivered());
    assert!(results[1].is_permanent_failure());
    let stored = server.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].reverse_path, "pump-7@example.net");
    assert_eq!(stored[0].recipients, ["ops@example.org"]);
    assert!(stored[0].body_8bitmime);
    let data = String::from_utf8(stored[0].data.clone()).unwrap();
    assert!(
        data.contains("Content-Transfer-Encoding: 8bit\r\n"),
        "{data}"
    );
    assert!(data.contains("Subject: =?utf-8?"), "{data}");
    assert!(
        data.ends_with("\r\n\r\nGrüße\r\n.leading dot\r\n"),
        "{data}"
    );
}

#[test]
fn size_limits_on_both_sides() {
    let server = start(1000);
    let stream = connect(&server.address, &ConnectOptions::default()).unwrap();
    let mut buf = [0u8; 1024];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("a@example.net", &["ops@example.org"]);
    let big = [[b'x'; 98].as_slice(), b"\r\n"].concat().repeat(20);

    block_on(with_session(
        stream,
        &mut buf,
        &embedded_smtp::client::Config::new("client.test"),
        async |client| {
            assert_eq!(client.extensions().max_size(), Some(1000));
            let local = client
                .send_slice(&envelope, &big, &mut results)
                .await
                .unwrap_err();
            assert!(matches!(
                local,
                Error::Input(InputError::MessageTooLarge {
                    size: 2000,
                    max: 1000
                })
            ));

            let mut source: &[u8] = &big;
            let remote = client
                .send_reader(&envelope, &mut source, BodyInfo::default(), &mut results)
                .await
                .unwrap_err();
            let Error::Reply { command, reply } = &remote else {
                panic!("expected 552 after the data, got {remote:?}");
            };
            assert_eq!(*command, CommandKind::DataEnd);
            assert_eq!(reply.code.get(), 552);
            assert_eq!(
                reply.enhanced.map(|e| e.to_string()),
                Some("5.3.4".to_string())
            );

            client
                .send_slice(&envelope, b"fits\r\n", &mut results)
                .await
                .map(|_| ())
        },
    ))
    .unwrap();

    let stored = server.stored.lock().unwrap().clone();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].data, b"fits\r\n");
}

#[test]
fn demo_runs_and_reports() {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let output = std::process::Command::new(path.join("examples/demo"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("nobody@plant.example: rejected 550 5.1.1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ops@plant.example: delivered 250"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  | Subject: Pump 7: discharge pressure"),
        "{stdout}"
    );
}
