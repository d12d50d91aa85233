//! The std listener in-process on 127.0.0.1: stopping with a session in
//! the middle of DATA, the session limit, and the greeting delay.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use embedded_smtp::host::listener::{self, ListenerConfig, Service, SessionResult};
use embedded_smtp::server::{AbortReason, Config, Ended, Handler, MailParameters, Reject};

/// Records what every session's handler saw.
#[derive(Clone, Default)]
struct Recording {
    events: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
}

struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn push(&self, event: String) {
        self.0.lock().unwrap().push(event);
    }
}

impl Handler for Recorder {
    async fn mail(&mut self, reverse_path: &str, _: &MailParameters) -> Result<(), Reject> {
        self.push(format!("mail {reverse_path}"));
        Ok(())
    }

    async fn rcpt(&mut self, forward_path: &str) -> Result<(), Reject> {
        self.push(format!("rcpt {forward_path}"));
        Ok(())
    }

    async fn data(&mut self, _: &[u8]) -> Result<(), Reject> {
        Ok(())
    }

    async fn data_end(&mut self) -> Result<(), Reject> {
        self.push("delivered".into());
        Ok(())
    }

    async fn abort(&mut self, reason: AbortReason) {
        self.push(format!("abort: {reason}"));
    }
}

impl Service for Recording {
    type Handler = Recorder;

    fn open(&self, _: SocketAddr) -> Recorder {
        Recorder(Arc::clone(&self.events))
    }

    fn close(&self, _: SocketAddr, _: Recorder, result: &SessionResult) {
        let ended = match result {
            Ok(Ended::Closed) => "closed".to_string(),
            other => format!("{other:?}"),
        };
        self.events.lock().unwrap().push(format!("ended {ended}"));
    }
}

struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<std::io::Result<()>>,
}

fn start(service: Recording, options: ListenerConfig) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let thread = thread::spawn(move || {
        let config = Config::new("listener.test");
        listener::run(&listener, &config, &options, &service, &thread_stop)
    });
    Server { addr, stop, thread }
}

impl Server {
    /// Stops the server and waits for it, failing after 10 seconds.
    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.thread.is_finished() {
            assert!(
                Instant::now() < deadline,
                "listener did not stop within 10 s"
            );
            thread::sleep(Duration::from_millis(10));
        }
        self.thread.join().unwrap().unwrap();
    }
}

fn connect(addr: SocketAddr) -> (BufReader<TcpStream>, TcpStream) {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (BufReader::new(stream.try_clone().unwrap()), stream)
}

/// Reads one reply, all its lines, and returns its last line.
fn read_reply(reader: &mut BufReader<TcpStream>) -> String {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.len() >= 4, "short reply line {line:?}");
        if line.as_bytes()[3] == b' ' {
            return line.trim_end().to_string();
        }
    }
}

#[test]
fn stop_mid_data_aborts_transaction() {
    let recording = Recording::default();
    let server = start(recording.clone(), ListenerConfig::default());
    let (mut reader, mut writer) = connect(server.addr);
    assert_eq!(read_reply(&mut reader), "220 listener.test ESMTP");
    writer
        .write_all(b"EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        .unwrap();
    assert_eq!(read_reply(&mut reader), "250 SMTPUTF8");
    assert_eq!(read_reply(&mut reader), "250 2.1.0 Sender OK");
    assert_eq!(read_reply(&mut reader), "250 2.1.5 Recipient OK");
    assert!(read_reply(&mut reader).starts_with("354 "));
    writer
        .write_all(b"Subject: half\r\n\r\nonly half of it\r\n")
        .unwrap();

    server.stop();

    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "unexpected output {rest:?}");
    assert_eq!(
        recording.events(),
        [
            "mail a@b",
            "rcpt c@d",
            "abort: connection closed before the end of data",
            "ended closed"
        ]
    );
}

#[test]
fn session_limit_replies_421() {
    let options = ListenerConfig {
        max_sessions: 1,
        ..ListenerConfig::default()
    };
    let server = start(Recording::default(), options);
    let (mut first, _first_writer) = connect(server.addr);
    assert_eq!(read_reply(&mut first), "220 listener.test ESMTP");

    let (mut second, _second_writer) = connect(server.addr);
    assert_eq!(
        read_reply(&mut second),
        "421 4.3.2 Too many sessions, try again later"
    );
    let mut rest = Vec::new();
    second.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());

    server.stop();
}

/// A connection is accepted as soon as it arrives, not when the stop-flag
/// interval ends. The interval is 2 s here, so a listener that sleeps
/// between polls delays every greeting by up to 2 s. Only Linux and
/// Android apply the listening socket's receive timeout to `accept`;
/// elsewhere the listener polls and this delay is expected.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn greeting_not_delayed_by_poll_interval() {
    let options = ListenerConfig {
        poll_interval: Duration::from_secs(2),
        ..ListenerConfig::default()
    };
    let server = start(Recording::default(), options);
    // Let the accept loop start waiting before the first connection.
    thread::sleep(Duration::from_millis(50));

    for attempt in 0..5 {
        let started = Instant::now();
        let (mut reader, mut writer) = connect(server.addr);
        assert_eq!(read_reply(&mut reader), "220 listener.test ESMTP");
        let latency = started.elapsed();
        assert!(
            latency < Duration::from_millis(500),
            "greeting of connection {attempt} took {latency:?}"
        );
        writer.write_all(b"QUIT\r\n").unwrap();
        assert!(read_reply(&mut reader).starts_with("221 "));
    }

    let stop_started = Instant::now();
    server.stop();
    let stop_time = stop_started.elapsed();
    assert!(
        stop_time < Duration::from_secs(4),
        "stop took {stop_time:?} with a 2 s interval"
    );
}
