//! SMTP sink: accepts every message and stores it in a Maildir.
//!
//! ```text
//! cargo run --example sink -- --listen 127.0.0.1:2525 [--max-size BYTES]
//!     [--max-recipients N] [--hostname NAME] [--maildir DIR]
//! ```
//!
//! Each message is written under `DIR/tmp/` and renamed into `DIR/new/`
//! only once it is complete and synced, so a reader never sees a partial
//! file. Trace headers `Return-Path` and `Received` are prepended, as RFC 5321
//! section 4.4 requires of a delivering server. Messages are stored with the
//! CRLF line endings they had on the wire. Sessions and messages are logged
//! to standard error. Ctrl-C (SIGINT) or SIGTERM ends the running sessions,
//! dropping any message not yet complete, and exits.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{SystemTime, UNIX_EPOCH};

use embedded_smtp::codec::message::Date;
use embedded_smtp::codec::validate_domain;
use embedded_smtp::host::listener::{self, ListenerConfig, Service, SessionResult};
use embedded_smtp::server::{
    AbortReason, Config, EnhancedCode, Handler, MailParameters, MailRejection, Reject,
};

const USAGE: &str = "usage: sink --listen ADDR:PORT [--max-size BYTES] [--max-recipients N] \
                     [--hostname NAME] [--maildir DIR]";

const HELP: &str = "\
Receives mail over SMTP and stores each message in a Maildir, with CRLF
line endings as on the wire.

options:
  --listen ADDR:PORT    address to listen on (required); port 0 picks a free port
  --maildir DIR         Maildir root; tmp/, new/ and cur/ are created under it
                        (default: Maildir)
  --max-size BYTES      maximum message size in octets, 0 for no limit
                        (default: 10485760, which is 10 MiB)
  --max-recipients N    maximum recipients per message, 0 for no limit
                        (default: 100)
  --hostname NAME       name in the greeting and in Received headers
                        (default: localhost)
  -h, --help            print this help and exit

Ctrl-C or SIGTERM stops the sink and drops any message not yet complete.";

/// Command-line settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Maximum message size in octets.
    pub max_size: u64,
    /// Maximum recipients per message.
    pub max_recipients: usize,
    /// Name in the greeting and in `Received` headers.
    pub hostname: String,
    /// Maildir root; `tmp`, `new` and `cur` are created under it.
    pub maildir: PathBuf,
}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let defaults = Config::new("localhost");
        let mut listen = None;
        let mut options = Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 2525)),
            max_size: defaults.max_size,
            max_recipients: defaults.max_recipients,
            hostname: "localhost".into(),
            maildir: PathBuf::from("Maildir"),
        };
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("missing value for {flag}\n{USAGE}"))?;
            let invalid =
                |e: &dyn std::fmt::Display| format!("invalid {flag} {value:?}: {e}\n{USAGE}");
            match flag.as_str() {
                "--listen" => listen = Some(value.parse().map_err(|e| invalid(&e))?),
                "--max-size" => options.max_size = value.parse().map_err(|e| invalid(&e))?,
                "--max-recipients" => {
                    options.max_recipients = value.parse().map_err(|e| invalid(&e))?
                }
                "--hostname" => options.hostname = value,
                "--maildir" => options.maildir = PathBuf::from(value),
                _ => return Err(format!("unknown option {flag:?}\n{USAGE}")),
            }
        }
        options.listen = listen.ok_or_else(|| format!("missing --listen\n{USAGE}"))?;
        Ok(options)
    }
}

/// A sink running in a background thread.
pub struct Running {
    /// Bound address, with the port chosen when `--listen` gave port 0.
    pub addr: SocketAddr,
    /// Set to true to stop the sink.
    pub stop: Arc<AtomicBool>,
    /// Accept loop; returns once every session has ended.
    pub thread: JoinHandle<io::Result<()>>,
}

/// Creates the Maildir, binds the listener and starts serving in a thread.
pub fn start(options: Options) -> io::Result<Running> {
    for sub in ["tmp", "new", "cur"] {
        fs::create_dir_all(options.maildir.join(sub))?;
    }
    let listener = TcpListener::bind(options.listen)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let sink = Sink {
        maildir: options.maildir.clone(),
        hostname: options.hostname.clone(),
        // Maildir file names may not contain `/` or `:`.
        name_host: options.hostname.replace('/', "\\057").replace(':', "\\072"),
        counter: AtomicU64::new(0),
    };
    let thread_stop = Arc::clone(&stop);
    let thread = thread::Builder::new().name("sink".into()).spawn(move || {
        let config = Config {
            max_size: options.max_size,
            max_recipients: options.max_recipients,
            ..Config::new(&options.hostname)
        };
        let service = &sink;
        listener::run(
            &listener,
            &config,
            &ListenerConfig::default(),
            &service,
            &thread_stop,
        )
    })?;
    Ok(Running { addr, stop, thread })
}

#[allow(dead_code)]
fn main() {
    if std::env::args()
        .skip(1)
        .any(|arg| arg == "--help" || arg == "-h")
    {
        println!("{USAGE}\n\n{HELP}");
        return;
    }
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let maildir = options.maildir.clone();
    let running = match start(options) {
        Ok(running) => running,
        Err(e) => {
            eprintln!("sink: failed to start: {e}");
            std::process::exit(1);
        }
    };
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&running.stop)) {
            eprintln!("sink: cannot handle signal {signal}: {e}");
            std::process::exit(1);
        }
    }
    eprintln!(
        "sink: listening on {}, storing mail in {}",
        running.addr,
        maildir.display()
    );
    match running.thread.join() {
        Ok(Ok(())) => eprintln!("sink: stopped"),
        Ok(Err(e)) => {
            eprintln!("sink: listener failed: {e}");
            std::process::exit(1);
        }
        Err(_) => {
            eprintln!("sink: listener thread panicked");
            std::process::exit(1);
        }
    }
}

/// Reply to an EHLO or HELO name that is not a domain or address literal.
const INVALID_CLIENT_NAME: Reject = Reject::new(
    501,
    Some(EnhancedCode::new(5, 5, 4)),
    "Invalid domain: expected a domain or an address literal",
);

/// Shared state of all sessions.
struct Sink {
    maildir: PathBuf,
    hostname: String,
    name_host: String,
    counter: AtomicU64,
}

impl Sink {
    /// Returns a Maildir file name unique on this host: time, process id
    /// and a counter.
    fn unique_name(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}.M{}P{}Q{}.{}",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            count,
            self.name_host
        )
    }
}

impl<'a> Service for &'a Sink {
    type Handler = Delivery<'a>;

    fn open(&self, peer: SocketAddr) -> Delivery<'a> {
        eprintln!("sink: {peer}: session opened");
        Delivery {
            sink: self,
            peer,
            client_name: String::new(),
            extended: false,
            reverse_path: String::new(),
            smtputf8: false,
            recipients: Vec::new(),
            file: None,
        }
    }

    fn close(&self, peer: SocketAddr, _handler: Delivery<'a>, result: &SessionResult) {
        match result {
            Ok(ended) => eprintln!("sink: {peer}: session ended: {ended:?}"),
            Err(e) => eprintln!("sink: {peer}: session failed: {e}"),
        }
    }
}

/// Message being written under `tmp/`.
struct OpenFile {
    writer: BufWriter<File>,
    tmp_path: PathBuf,
    name: String,
    octets: u64,
}

/// Handler of one session: writes each accepted message into the Maildir.
struct Delivery<'a> {
    sink: &'a Sink,
    peer: SocketAddr,
    client_name: String,
    extended: bool,
    reverse_path: String,
    smtputf8: bool,
    recipients: Vec<String>,
    file: Option<OpenFile>,
}

impl Delivery<'_> {
    /// Creates the file under `tmp/` and writes the trace headers.
    fn create(&self) -> io::Result<OpenFile> {
        let name = self.sink.unique_name();
        let tmp_path = self.sink.maildir.join("tmp").join(&name);
        let mut writer = BufWriter::new(File::create_new(&tmp_path)?);
        let protocol = match (self.extended, self.smtputf8) {
            (true, true) => "UTF8SMTP",
            (true, false) => "ESMTP",
            (false, _) => "SMTP",
        };
        // One recipient is named in `for`; more would disclose the others.
        let for_clause = match self.recipients.as_slice() {
            [only] => format!("\r\n\tfor <{only}>"),
            _ => String::new(),
        };
        write!(
            writer,
            "Return-Path: <{}>\r\nReceived: from {} ([{}])\r\n\tby {} with {} id {}{};\r\n\t{}\r\n",
            self.reverse_path,
            self.client_name,
            self.peer.ip(),
            self.sink.hostname,
            protocol,
            name,
            for_clause,
            rfc5322_date(SystemTime::now()),
        )?;
        Ok(OpenFile {
            writer,
            tmp_path,
            name,
            octets: 0,
        })
    }

    fn open_file(&mut self) -> io::Result<&mut OpenFile> {
        if self.file.is_none() {
            self.file = Some(self.create()?);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("message file missing"))
    }

    /// Syncs the file and moves it from `tmp/` into `new/`.
    fn commit(&mut self) -> io::Result<(String, u64)> {
        self.open_file()?;
        let Some(file) = self.file.take() else {
            return Err(io::Error::other("message file missing"));
        };
        let OpenFile {
            writer,
            tmp_path,
            name,
            octets,
        } = file;
        let result = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| fs::rename(&tmp_path, self.sink.maildir.join("new").join(&name)));
        if let Err(e) = result {
            remove_quietly(&tmp_path);
            return Err(e);
        }
        Ok((name, octets))
    }

    fn discard(&mut self) {
        if let Some(file) = self.file.take() {
            drop(file.writer);
            remove_quietly(&file.tmp_path);
        }
        self.recipients.clear();
    }
}

impl Handler for Delivery<'_> {
    async fn hello(&mut self, name: &str, extended: bool) -> Result<(), Reject> {
        // The server checks the name too. Checking it again here keeps
        // anything that could end or fake a part of the `Received` header
        // out of it, whatever the server lets through.
        if let Err(e) = validate_domain(name) {
            eprintln!(
                "sink: {}: greeting rejected, invalid name {name:?}: {e}",
                self.peer
            );
            return Err(INVALID_CLIENT_NAME);
        }
        self.client_name = name.to_string();
        self.extended = extended;
        Ok(())
    }

    async fn mail(
        &mut self,
        reverse_path: &str,
        parameters: &MailParameters,
    ) -> Result<(), Reject> {
        self.reverse_path = reverse_path.to_string();
        self.smtputf8 = parameters.smtputf8;
        self.recipients.clear();
        Ok(())
    }

    async fn rcpt(&mut self, forward_path: &str) -> Result<(), Reject> {
        self.recipients.push(forward_path.to_string());
        Ok(())
    }

    async fn data(&mut self, chunk: &[u8]) -> Result<(), Reject> {
        let peer = self.peer;
        let written = self.open_file().and_then(|file| {
            file.octets = file.octets.saturating_add(chunk.len() as u64);
            file.writer.write_all(chunk)
        });
        written.map_err(|e| {
            eprintln!("sink: {peer}: failed to write message: {e}");
            Reject::LOCAL_ERROR
        })
    }

    async fn data_end(&mut self) -> Result<(), Reject> {
        let result = self.commit();
        let recipients = self.recipients.len();
        self.recipients.clear();
        match result {
            Ok((name, octets)) => {
                eprintln!(
                    "sink: {}: stored {name} from <{}> for {recipients} recipients, {octets} octets",
                    self.peer, self.reverse_path
                );
                Ok(())
            }
            Err(e) => {
                eprintln!("sink: {}: failed to store message: {e}", self.peer);
                Err(Reject::LOCAL_ERROR)
            }
        }
    }

    async fn mail_rejected(
        &mut self,
        reverse_path: &str,
        parameters: &MailParameters,
        reason: MailRejection,
    ) {
        let declared = match parameters.size {
            Some(size) => format!(", declared SIZE={size}"),
            None => String::new(),
        };
        eprintln!(
            "sink: {}: MAIL FROM:<{reverse_path}> rejected: {reason}{declared}",
            self.peer
        );
    }

    async fn abort(&mut self, reason: AbortReason) {
        let octets = self.file.as_ref().map_or(0, |file| file.octets);
        eprintln!(
            "sink: {}: message from <{}> dropped after {octets} octets: {reason}",
            self.peer, self.reverse_path
        );
        self.discard();
    }
}

fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        eprintln!("sink: failed to remove {}: {e}", path.display());
    }
}

/// Formats a time as an RFC 5322 section 3.3 date-time in UTC, with the
/// library's message-composition code.
fn rfc5322_date(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = Date::new(i64::try_from(seconds).unwrap_or(i64::MAX), 0);
    // `format` fails only outside the years 1900 to 9999.
    date.format()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 +0000".to_string())
}
