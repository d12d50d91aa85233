//! The project's embedded default: its own server receives an alert from its
//! own client, both on 127.0.0.1, in one process.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! The server listens on an ephemeral loopback port and stores messages in
//! memory; its handler rejects `nobody@plant.example` to show per-recipient
//! results. The client composes an alert as a pump controller would and
//! sends it to three recipients. The program prints the client's dialog,
//! each recipient's outcome and the message as stored, then exits 0, or 1
//! when any step fails.

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use embedded_smtp::blocking::block_on;
use embedded_smtp::client::{self, Envelope, RecipientResult, with_session};
use embedded_smtp::codec::message::{Date, Headers, Mailbox, MessageId};
use embedded_smtp::host::listener::{self, ListenerConfig, Service};
use embedded_smtp::host::{ConnectOptions, connect};
use embedded_smtp::server::{self, AbortReason, Handler, MailParameters, Reject};

const SERVER_NAME: &str = "mx.plant.example";
const REFUSED: &str = "nobody@plant.example";

/// A message as the demo server stored it.
#[derive(Debug, Clone)]
struct Stored {
    reverse_path: String,
    recipients: Vec<String>,
    data: Vec<u8>,
}

/// Keeps accepted messages in memory.
#[derive(Default)]
struct MemoryStore {
    messages: Mutex<Vec<Stored>>,
}

/// One session's transaction in progress.
struct Transaction {
    store: Arc<MemoryStore>,
    current: Option<Stored>,
}

impl Handler for Transaction {
    async fn mail(&mut self, reverse_path: &str, _: &MailParameters) -> Result<(), Reject> {
        self.current = Some(Stored {
            reverse_path: reverse_path.to_owned(),
            recipients: Vec::new(),
            data: Vec::new(),
        });
        Ok(())
    }

    async fn rcpt(&mut self, forward_path: &str) -> Result<(), Reject> {
        if forward_path.eq_ignore_ascii_case(REFUSED) {
            return Err(Reject::NO_SUCH_MAILBOX);
        }
        let current = self.current.as_mut().ok_or(Reject::LOCAL_ERROR)?;
        current.recipients.push(forward_path.to_owned());
        Ok(())
    }

    async fn data(&mut self, chunk: &[u8]) -> Result<(), Reject> {
        let current = self.current.as_mut().ok_or(Reject::LOCAL_ERROR)?;
        current.data.extend_from_slice(chunk);
        Ok(())
    }

    async fn data_end(&mut self) -> Result<(), Reject> {
        let message = self.current.take().ok_or(Reject::LOCAL_ERROR)?;
        let mut messages = self
            .store
            .messages
            .lock()
            .map_err(|_| Reject::LOCAL_ERROR)?;
        messages.push(message);
        Ok(())
    }

    async fn abort(&mut self, _reason: AbortReason) {
        self.current = None;
    }
}

/// Gives each session a handler that shares the store.
struct DemoService {
    store: Arc<MemoryStore>,
}

impl Service for DemoService {
    type Handler = Transaction;

    fn open(&self, _peer: SocketAddr) -> Transaction {
        Transaction {
            store: Arc::clone(&self.store),
            current: None,
        }
    }
}

/// Prints the client's `C:` and `S:` lines; the server's own log lines
/// (from `embedded_smtp::server`) are left out to keep one point of view.
struct ClientDialog;

impl log::Log for ClientDialog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("embedded_smtp::client")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            println!("  {}", record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: ClientDialog = ClientDialog;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);

    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let store = Arc::new(MemoryStore::default());
    let stop = Arc::new(AtomicBool::new(false));

    let mut config = server::Config::new(SERVER_NAME);
    config.max_size = 64 * 1024;
    let server_thread = {
        let service = DemoService {
            store: Arc::clone(&store),
        };
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            listener::run(
                &listener,
                &config,
                &ListenerConfig::default(),
                &service,
                &stop,
            )
        })
    };
    println!("server: {SERVER_NAME} listening on {address}");

    let result = send_alert(&address.to_string());

    stop.store(true, Ordering::SeqCst);
    match server_thread.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("server failed: {e}")),
        Err(_) => return Err("server thread panicked".into()),
    }
    let results = result?;

    println!("\nrecipients:");
    for (address, result) in RECIPIENTS.iter().zip(&results) {
        let verdict = match result {
            RecipientResult::Delivered(_) => "delivered",
            RecipientResult::Rejected(_) => "rejected",
            _ => "not delivered",
        };
        let reply = match result.status() {
            Some(status) => match status.enhanced {
                Some(enhanced) => format!("{} {enhanced}", status.code),
                None => status.code.to_string(),
            },
            None => String::new(),
        };
        println!("  {address}: {verdict} {reply}");
    }

    let messages = store
        .messages
        .lock()
        .map_err(|_| "message store poisoned".to_string())?;
    let [stored] = messages.as_slice() else {
        return Err(format!(
            "expected one stored message, found {}",
            messages.len()
        ));
    };
    println!(
        "\nstored message, from <{}> to {:?}:",
        stored.reverse_path, stored.recipients
    );
    for line in String::from_utf8_lossy(&stored.data).split("\r\n") {
        println!("  | {line}");
    }

    let expected: Vec<&str> = RECIPIENTS
        .iter()
        .copied()
        .filter(|r| *r != REFUSED)
        .collect();
    if stored.recipients != expected {
        return Err(format!(
            "stored recipients {:?}, expected {expected:?}",
            stored.recipients
        ));
    }
    Ok(())
}

const RECIPIENTS: [&str; 3] = ["ops@plant.example", REFUSED, "oncall@plant.example"];

/// Sends the alert and returns each recipient's result.
fn send_alert(server: &str) -> Result<[RecipientResult; 3], String> {
    let options = ConnectOptions::default().with_timeout(Duration::from_secs(10));
    let stream =
        connect(server, &options).map_err(|e| format!("cannot connect to {server}: {e}"))?;

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let unique = format!("{}.{}", now.as_secs(), std::process::id());
    let to = [Mailbox::new(RECIPIENTS[0]), Mailbox::new(RECIPIENTS[2])];
    let cc = [Mailbox::new(RECIPIENTS[1])];
    let headers = Headers {
        from: Mailbox::with_name("Pump 7", "pump-7@plant.example"),
        to: &to,
        cc: &cc,
        subject: "Pump 7: discharge pressure 6.4 bar (limit 6.0)",
        date: Some(Date {
            unix_seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            utc_offset_minutes: 0,
        }),
        message_id: Some(MessageId {
            unique: &unique,
            domain: "pump-7.plant.example",
        }),
        extra: &[("X-Priority", "1")],
    };
    let text = b"Discharge pressure has been above 6.0 bar for 30 s.\n\
                 Current value: 6.4 bar. The pump keeps running.\n";

    // The same 2 KiB buffer a microcontroller would give the client.
    let mut buf = [0u8; 2048];
    let mut results = [RecipientResult::NotAttempted; 3];
    let envelope = Envelope::new("pump-7@plant.example", &RECIPIENTS);
    println!("client dialog:");
    let sent = block_on(with_session(
        stream,
        &mut buf,
        &client::Config::new("pump-7.plant.example"),
        async |client| {
            client
                .send_message(&envelope, &headers, text, &mut results)
                .await
        },
    ));
    match sent {
        Ok(delivery) if delivery.delivered == 2 => Ok(results),
        Ok(delivery) => Err(format!(
            "{} recipients delivered, expected 2",
            delivery.delivered
        )),
        Err(e) => Err(format!("sending failed: {e}")),
    }
}
