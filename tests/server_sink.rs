//! The `sink` example as a program on 127.0.0.1, driven by a raw TCP
//! client: what it stores in the Maildir, what it logs, and its command
//! line.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A running `sink` process with its log lines; killed when dropped.
struct SinkProcess {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
    maildir: tempfile::TempDir,
}

impl SinkProcess {
    fn start(extra_args: &[&str]) -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let mut child = Command::new(common::example("sink"))
            .args(["--listen", "127.0.0.1:0", "--hostname", "sink.test"])
            .arg("--maildir")
            .arg(maildir.path())
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start the sink example");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let thread_log = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                thread_log.lock().unwrap().push(line);
            }
        });
        let mut sink = Self {
            child,
            log,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            maildir,
        };
        let listening = sink.wait_for_log("sink: listening on ");
        let addr = listening
            .trim_start_matches("sink: listening on ")
            .split(',')
            .next()
            .unwrap();
        sink.addr = addr.parse().unwrap();
        sink
    }

    /// Waits up to 10 seconds for a log line containing `text` and
    /// returns it.
    fn wait_for_log(&self, text: &str) -> String {
        self.wait_for_log_line(text, |line| line.contains(text))
    }

    /// Waits for the line that logs the end of the session from client
    /// port `port`, whether it ended or failed.
    fn wait_for_session_end(&self, port: u16) -> String {
        let prefix = format!("sink: 127.0.0.1:{port}: session ");
        self.wait_for_log_line(&prefix, |line| {
            line.strip_prefix(&prefix)
                .is_some_and(|rest| rest.starts_with("ended") || rest.starts_with("failed"))
        })
    }

    fn wait_for_log_line(&self, description: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| matches(l)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no log line matching {description:?} within 10 s; log:\n{}",
                self.log().join("\n")
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn files(&self, sub: &str) -> Vec<PathBuf> {
        list(&self.maildir.path().join(sub))
    }

    /// Waits up to 10 seconds until `tmp/` contains at least one file.
    fn wait_for_tmp_file(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.files("tmp").is_empty() {
            assert!(
                Instant::now() < deadline,
                "no file appeared in tmp/ within 10 s"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
}

/// Raw SMTP client that reads one reply at a time.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut client = Self {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        assert!(client.reply().starts_with("220 "));
        client
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// Reads one reply, all its lines, and returns its last line.
    fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            assert!(line.len() >= 4, "short reply line {line:?}");
            if line.as_bytes()[3] == b' ' {
                return line.trim_end().to_string();
            }
        }
    }

    /// Sends one command line and returns the last line of its reply.
    fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
}

#[test]
fn received_header_uses_checked_name() {
    let sink = SinkProcess::start(&[]);
    let mut client = Client::connect(sink.addr);
    let forged = client.command("EHLO trusted.example)by(mx.bank.example;");
    assert!(forged.starts_with("501 "), "{forged}");
    assert!(
        client
            .command("MAIL FROM:<a@b.example>")
            .starts_with("503 ")
    );

    assert!(client.command("EHLO client.example").starts_with("250 "));
    assert!(
        client
            .command("MAIL FROM:<a@b.example>")
            .starts_with("250 ")
    );
    assert!(client.command("RCPT TO:<c@d.example>").starts_with("250 "));
    assert!(client.command("DATA").starts_with("354 "));
    let stored = client.command("Subject: t\r\n\r\nbody\r\n.");
    assert!(stored.starts_with("250 "), "{stored}");
    assert!(client.command("QUIT").starts_with("221 "));

    let messages = sink.files("new");
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = fs::read_to_string(&messages[0]).unwrap();
    assert!(
        message.contains("\r\nReceived: from client.example ([127.0.0.1])\r\n"),
        "{message}"
    );
    assert!(!message.contains("bank"), "{message}");
}

/// Opens a transaction and sends `data` after DATA. With `read_354` false
/// the 354 reply stays unread, so closing the socket sends a reset
/// (RFC 1122 section 4.2.2.13) in place of a FIN.
fn client_in_data(sink: &SinkProcess, data: &[u8], read_354: bool) -> Client {
    let mut client = Client::connect(sink.addr);
    assert!(client.command("EHLO client.example").starts_with("250 "));
    assert!(
        client
            .command("MAIL FROM:<a@b.example>")
            .starts_with("250 ")
    );
    assert!(client.command("RCPT TO:<c@d.example>").starts_with("250 "));
    client.send(b"DATA\r\n");
    if read_354 {
        assert!(client.reply().starts_with("354 "));
    }
    client.send(data);
    client
}

#[test]
fn connection_lost_mid_data_leaves_nothing() {
    let sink = SinkProcess::start(&[]);
    // More than one session buffer, so part of the message reaches the
    // handler and a file exists under tmp/ before the connection drops.
    let lines = [b"x".repeat(70), b"\r\n".to_vec()].concat().repeat(400);
    let head = [b"Subject: half\r\n\r\n".to_vec(), lines].concat();
    let endings: [&[u8]; 4] = [b"", b"last line", b".", b".\r"];

    for ending in endings {
        for read_354 in [true, false] {
            let case = format!(
                "ending {:?}, read 354: {read_354}",
                String::from_utf8_lossy(ending)
            );
            let body = [&head[..], ending].concat();
            let client = client_in_data(&sink, &body, read_354);
            sink.wait_for_tmp_file();
            let port = client.writer.local_addr().unwrap().port();
            drop(client);

            sink.wait_for_session_end(port);
            let tmp = sink.files("tmp");
            assert!(tmp.is_empty(), "{case}: tmp/ keeps {tmp:?}");
            let new = sink.files("new");
            assert!(new.is_empty(), "{case}: new/ keeps {new:?}");
        }
    }
}

#[test]
fn rejected_messages_logged_with_reason() {
    let sink = SinkProcess::start(&["--max-size", "1000"]);
    let mut client = Client::connect(sink.addr);
    assert!(client.command("EHLO client.example").starts_with("250 "));

    let declared = client.command("MAIL FROM:<big@b.example> SIZE=5000");
    assert!(declared.starts_with("552 5.3.4 "), "{declared}");
    sink.wait_for_log(
        "MAIL FROM:<big@b.example> rejected: declared size over the maximum, \
         rejected with 552, declared SIZE=5000",
    );

    let cases: [(&str, Vec<u8>, &str, &str); 3] = [
        (
            "over@b.example",
            [b"x".repeat(998), b"\r\n".to_vec()].concat().repeat(2),
            "552 5.3.4 ",
            "message over the maximum size, rejected with 552",
        ),
        (
            "bare@b.example",
            b"Subject: x\n\nbare line feed\r\n".to_vec(),
            "554 5.6.0 ",
            "bare LF or bare CR in the data, rejected with 554",
        ),
        (
            "long@b.example",
            [b"y".repeat(999), b"\r\n".to_vec()].concat(),
            "500 5.5.2 ",
            "text line over the maximum length, rejected with 500",
        ),
    ];
    for (sender, body, reply, reason) in cases {
        assert!(
            client
                .command(&format!("MAIL FROM:<{sender}>"))
                .starts_with("250 ")
        );
        assert!(client.command("RCPT TO:<c@d.example>").starts_with("250 "));
        assert!(client.command("DATA").starts_with("354 "));
        client.send(&body);
        let refused = client.command(".");
        assert!(refused.starts_with(reply), "{sender}: {refused}");
        let line = sink.wait_for_log(&format!("message from <{sender}> dropped after "));
        assert!(line.ends_with(reason), "{line}");
    }

    assert!(
        client
            .command("MAIL FROM:<reset@b.example>")
            .starts_with("250 ")
    );
    assert!(client.command("RSET").starts_with("250 "));
    let line = sink.wait_for_log("message from <reset@b.example> dropped after 0 octets: ");
    assert!(line.ends_with("client sent RSET"), "{line}");
    assert!(client.command("QUIT").starts_with("221 "));

    assert!(sink.files("new").is_empty());
    assert!(sink.files("tmp").is_empty());
}

#[test]
fn transport_error_logged_as_text() {
    let sink = SinkProcess::start(&[]);
    // The 354 stays unread, so dropping the socket sends a reset.
    let client = client_in_data(&sink, b"Subject: x\r\n\r\npartial", false);
    thread::sleep(Duration::from_millis(100));
    let port = client.writer.local_addr().unwrap().port();
    drop(client);

    let line = sink.wait_for_session_end(port);
    // Linux adds " (os error 104)" to the text, other systems their code.
    assert!(
        line.contains("session failed: transport error: Connection reset by peer"),
        "{line}"
    );
    assert!(!line.contains("Os {"), "{line}");
    let dropped = sink.wait_for_log(&format!(
        "127.0.0.1:{port}: message from <a@b.example> dropped"
    ));
    assert!(dropped.ends_with("transport error"), "{dropped}");
}

#[test]
fn help_prints_usage_and_exits_0() {
    for flag in ["--help", "-h"] {
        let output = Command::new(common::example("sink"))
            .arg(flag)
            .output()
            .expect("failed to run the sink example");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{flag}: {stdout}");
        assert!(
            stdout.starts_with("usage: sink --listen ADDR:PORT"),
            "{flag}: {stdout}"
        );
        assert!(
            stdout.contains("(default: 10485760, which is 10 MiB)"),
            "{flag}: {stdout}"
        );
        assert!(output.stderr.is_empty(), "{flag}");
    }

    let output = Command::new(common::example("sink"))
        .arg("[--max-size")
        .output()
        .expect("failed to run the sink example");
    assert_eq!(output.status.code(), Some(2));
}
