//! A server that stops replying: the client fails with a timeout within
//! the configured limit instead of hanging.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use embedded_smtp::blocking::block_on;
use embedded_smtp::client::{Client, Config, Envelope, Error, RecipientResult};
use embedded_smtp::host::{ConnectOptions, connect};

const TIMEOUT: Duration = Duration::from_millis(300);

#[test]
fn silent_greeting_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        // Hold the connection open without a greeting.
        std::thread::sleep(Duration::from_secs(2));
        drop(socket);
    });

    let started = Instant::now();
    let stream = connect(&address, &ConnectOptions::default().with_timeout(TIMEOUT)).unwrap();
    let mut buf = [0u8; 1024];
    let error = block_on(Client::connect(
        stream,
        &mut buf,
        &Config::new("client.test"),
    ))
    .unwrap_err();
    let elapsed = started.elapsed();

    let Error::Io(io_error) = &error else {
        panic!("expected a transport timeout, got {error:?}");
    };
    assert_eq!(io_error.kind(), std::io::ErrorKind::TimedOut);
    assert!(error.is_transient());
    assert!(
        elapsed < Duration::from_secs(2),
        "timed out only after {elapsed:?}"
    );
    server.join().unwrap();
}

#[test]
fn stall_after_354_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut writer = socket;
        writer.write_all(b"220 stall.test ESMTP\r\n").unwrap();
        let mut line = String::new();
        for reply in ["250 stall.test", "250 ok", "250 ok", "354 go ahead"] {
            line.clear();
            reader.read_line(&mut line).unwrap();
            writer.write_all(format!("{reply}\r\n").as_bytes()).unwrap();
        }
        // Read the data but never reply to the end of data.
        std::thread::sleep(Duration::from_secs(2));
    });

    let stream = connect(&address, &ConnectOptions::default().with_timeout(TIMEOUT)).unwrap();
    let mut buf = [0u8; 1024];
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("a@client.test", &["b@example.org"]);
    let started = Instant::now();
    let (error, open) = block_on(async {
        let mut client = Client::connect(stream, &mut buf, &Config::new("client.test"))
            .await
            .unwrap();
        let error = client
            .send_slice(&envelope, b"body\r\n", &mut results)
            .await
            .unwrap_err();
        (error, client.is_open())
    });

    assert!(
        matches!(&error, Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut),
        "{error:?}"
    );
    assert!(error.is_transient());
    assert!(!open, "a timed-out session must not be reused");
    assert!(matches!(results[0], RecipientResult::Accepted(_)));
    assert!(results[0].is_transient_failure());
    assert!(started.elapsed() < Duration::from_secs(2));
    server.join().unwrap();
}

/// Starts a server that sends its greeting one byte every 50 ms: each read
/// succeeds long before the timeout, but the whole greeting takes 2.5 s.
fn spawn_dripping_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        for byte in b"220 drip.test ESMTP greeting sent one byte at a time\r\n" {
            if socket.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    (address, server)
}

#[test]
fn dripping_reply_times_out() {
    let (address, server) = spawn_dripping_server();

    let started = Instant::now();
    let stream = connect(&address, &ConnectOptions::default().with_timeout(TIMEOUT)).unwrap();
    let mut buf = [0u8; 1024];
    let error = block_on(Client::connect(
        stream,
        &mut buf,
        &Config::new("client.test"),
    ))
    .unwrap_err();
    let elapsed = started.elapsed();

    assert!(
        matches!(&error, Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut),
        "{error:?}"
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "timed out only after {elapsed:?}"
    );
    server.join().unwrap();
}

#[cfg(feature = "tokio")]
#[test]
fn dripping_reply_times_out_on_tokio() {
    let (address, server) = spawn_dripping_server();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let error = runtime.block_on(async {
        let options = ConnectOptions::default().with_timeout(TIMEOUT);
        let stream = embedded_smtp::host::connect_tokio(&address, &options)
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        Client::connect(stream, &mut buf, &Config::new("client.test"))
            .await
            .unwrap_err()
    });
    let elapsed = started.elapsed();

    assert!(
        matches!(&error, Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut),
        "{error:?}"
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "timed out only after {elapsed:?}"
    );
    server.join().unwrap();
}
