//! Sends one message over SMTP or LMTP from the command line.
//!
//! ```text
//! cargo run --example send -- --server 127.0.0.1:2525 \
//!     --from pump-7@example.net --to ops@example.org \
//!     --subject "Pressure alarm" --body alarm.txt
//! ```
//!
//! TLS: STARTTLS when the server offers it, through embedded-tls with a
//! pinned CA (`--ca`), or else rustls with the system trust store; see
//! `--help`.
//!
//! With `--user` it logs in with AUTH first, over TLS unless
//! `--auth-plaintext` allows the clear. The secret comes from an
//! environment variable, never from the command line, where other users
//! could read it in the process list:
//!
//! ```text
//! SMTP_PASSWORD=... cargo run --example send -- --server 127.0.0.1:587 \
//!     --tls-required --ca ca.pem --user pump --password-env SMTP_PASSWORD \
//!     --from pump-7@example.net --to ops@example.org
//! ```
//!
//! Exit codes follow sysexits.h: 0 every recipient accepted, 64 usage
//! error, 65 invalid input (a missing environment variable among them),
//! 69 permanent failure (wrong credentials or a rejected TLS handshake
//! among them), 74 local I/O error, 75 temporary failure.

use std::fs::File;
use std::io::{self, Read as _};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use embedded_io_adapters::std::FromStd;
use embedded_smtp::blocking::{Blocking, block_on};
use embedded_smtp::client::{
    AuthOptions, BodyInfo, Client, Config, Content, Delivery, Envelope, Error, InputError,
    RecipientResult,
};
use embedded_smtp::codec::address::validate_mailbox;
use embedded_smtp::codec::auth::{Credentials, Mechanism};
use embedded_smtp::codec::dot::{SizeCounter, has_8bit};
use embedded_smtp::codec::message::{Date, Headers, Mailbox, MessageId};
use embedded_smtp::host::{
    ConnectOptions, OsRng, RustlsUpgrade, StdStream, SystemClock, connect, load_certificates,
    rustls_config, rustls_config_insecure_no_verification,
};
use embedded_smtp::tls::embedded::{EmbeddedTls, READ_BUFFER_LEN, WRITE_BUFFER_LEN};
use embedded_smtp::tls::{MaybeTls, TlsPolicy, TlsUpgrade};

const EX_USAGE: u8 = 64;
const EX_DATAERR: u8 = 65;
const EX_UNAVAILABLE: u8 = 69;
const EX_IOERR: u8 = 74;
const EX_TEMPFAIL: u8 = 75;

const USAGE: &str = "\
usage: send --server HOST[:PORT] --from ADDR --to ADDR [--to ADDR]...
            [--subject TEXT] [--body FILE|-] [--message FILE|-]
            [--helo NAME] [--lmtp] [--source-address IP[:PORT]]
            [--timeout SECS] [--quiet]
            [--tls none|starttls|implicit] [--tls-required]
            [--tls-backend embedded|rustls] [--ca FILE] [--insecure]
            [--tls-name NAME]
            [--user NAME (--password-env VAR | --oauth-token-env VAR)
             [--auth MECH] [--auth-plaintext]]

  --server HOST[:PORT]  server to connect to; the port defaults to 25
  --from ADDR           envelope sender and From address; empty for <>
  --to ADDR             recipient, repeatable
  --subject TEXT        Subject of the composed message
  --body FILE|-         text under composed headers (default: empty body);
                        read into memory before connecting
  --message FILE|-      complete RFC 5322 message, sent as it is; a FILE is
                        streamed, standard input is read into memory first
  --helo NAME           EHLO name (default: the local address as a literal)
  --lmtp                speak LMTP (LHLO, one reply per recipient)
  --source-address IP[:PORT]  local address to bind before connecting
  --timeout SECS        connect, read and write timeout in seconds
                        (default: 30 s to connect, RFC 5321 values after)
  --quiet               print neither the SMTP dialog nor notices on stderr;
                        errors are still printed

TLS:
  --tls none|starttls|implicit
                        none: plaintext even when STARTTLS is offered;
                        starttls: upgrade when the server offers STARTTLS,
                        else stay in plaintext with a notice (the default);
                        implicit: TLS from the first byte (port 465)
  --tls-required        fail, before MAIL, when STARTTLS is not offered or
                        is rejected; no plaintext fallback
  --tls-backend embedded|rustls
                        embedded: embedded-tls, as on devices: TLS 1.3
                        only, ECDSA P-256 certificates, needs --ca;
                        rustls: TLS 1.2 and 1.3, RSA and ECDSA
                        certificates, system trust store unless --ca.
                        Default: embedded with --ca or --insecure, else
                        rustls
  --ca FILE             CA certificate to trust, PEM or DER; embedded-tls
                        pins the first certificate of the file
  --insecure            accept any certificate for any name: encryption
                        without authentication, for tests only
  --tls-name NAME       name checked against the certificate (default: the
                        host of --server); embedded-tls checks DNS names
                        only, never IP addresses

AUTH:
  --user NAME           log in with AUTH as NAME before sending
  --password-env VAR    read the password from environment variable VAR
  --oauth-token-env VAR read an OAuth 2.0 access token for XOAUTH2 from
                        environment variable VAR
  --auth MECH           use only this mechanism: PLAIN, LOGIN, CRAM-MD5 or
                        XOAUTH2 (default: the strongest both sides support);
                        CRAM-MD5 needs a build with --features cram-md5
  --auth-plaintext      allow AUTH over a connection without TLS; PLAIN and
                        LOGIN then send the password readable to anyone on
                        the path";

#[derive(Debug, Default)]
struct Args {
    server: String,
    from: Option<String>,
    to: Vec<String>,
    subject: String,
    body: Option<String>,
    message: Option<String>,
    helo: Option<String>,
    lmtp: bool,
    source_address: Option<SocketAddr>,
    timeout: Option<Duration>,
    quiet: bool,
    tls: Option<TlsMode>,
    tls_required: bool,
    /// The backend named with --tls-backend; see `Args::backend`.
    tls_backend: Option<TlsBackend>,
    ca: Option<String>,
    insecure: bool,
    tls_name: Option<String>,
    user: Option<String>,
    password_env: Option<String>,
    oauth_token_env: Option<String>,
    auth: Option<Mechanism>,
    auth_plaintext: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsMode {
    None,
    StartTls,
    Implicit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TlsBackend {
    #[default]
    Embedded,
    Rustls,
}

impl Args {
    /// Returns the TLS backend: the one named with --tls-backend, else
    /// embedded-tls when a CA is pinned or verification is off (as on a
    /// device), else rustls with the system trust store.
    fn backend(&self) -> TlsBackend {
        match self.tls_backend {
            Some(backend) => backend,
            None if self.ca.is_some() || self.insecure => TlsBackend::Embedded,
            None => TlsBackend::Rustls,
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => args.server = value()?,
            "--from" => args.from = Some(value()?),
            "--to" => args.to.push(value()?),
            "--subject" => args.subject = value()?,
            "--body" => args.body = Some(value()?),
            "--message" => args.message = Some(value()?),
            "--helo" => args.helo = Some(value()?),
            "--lmtp" => args.lmtp = true,
            "--quiet" => args.quiet = true,
            "--tls" => {
                args.tls = Some(match value()?.as_str() {
                    "none" => TlsMode::None,
                    "starttls" => TlsMode::StartTls,
                    "implicit" => TlsMode::Implicit,
                    other => {
                        return Err(format!(
                            "invalid --tls {other:?}: expected none, starttls or implicit"
                        ));
                    }
                });
            }
            "--tls-required" => args.tls_required = true,
            "--tls-backend" => {
                args.tls_backend = Some(match value()?.as_str() {
                    "embedded" => TlsBackend::Embedded,
                    "rustls" => TlsBackend::Rustls,
                    other => {
                        return Err(format!(
                            "invalid --tls-backend {other:?}: expected embedded or rustls"
                        ));
                    }
                });
            }
            "--ca" => args.ca = Some(value()?),
            "--insecure" => args.insecure = true,
            "--tls-name" => args.tls_name = Some(value()?),
            "--user" => args.user = Some(value()?),
            "--password-env" => args.password_env = Some(value()?),
            "--oauth-token-env" => args.oauth_token_env = Some(value()?),
            "--auth" => {
                let text = value()?;
                let mechanism = Mechanism::PREFERENCE
                    .into_iter()
                    .find(|m| m.name().eq_ignore_ascii_case(&text))
                    .ok_or_else(|| {
                        format!(
                            "invalid --auth {text:?}: expected PLAIN, LOGIN, CRAM-MD5 or XOAUTH2"
                        )
                    })?;
                if !mechanism.is_available() {
                    return Err(format!(
                        "--auth {} needs the cram-md5 feature: \
                         cargo run --features cram-md5 --example send -- ...",
                        mechanism.name()
                    ));
                }
                args.auth = Some(mechanism);
            }
            "--auth-plaintext" => args.auth_plaintext = true,
            "--source-address" => {
                let text = value()?;
                let address = text
                    .parse::<SocketAddr>()
                    .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
                    .map_err(|_| {
                        format!("invalid --source-address {text:?}: expected IP or IP:PORT")
                    })?;
                args.source_address = Some(address);
            }
            "--timeout" => {
                let text = value()?;
                let seconds: u64 = text.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                    format!("invalid --timeout {text:?}: expected whole seconds > 0")
                })?;
                args.timeout = Some(Duration::from_secs(seconds));
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if args.server.is_empty() {
        return Err("--server is required".into());
    }
    if args.from.is_none() {
        return Err("--from is required".into());
    }
    if args.to.is_empty() {
        return Err("at least one --to is required".into());
    }
    if args.body.is_some() && args.message.is_some() {
        return Err("--body and --message cannot be combined".into());
    }
    check_auth_args(&args)?;
    if args.tls == Some(TlsMode::None) && args.tls_required {
        return Err("--tls none and --tls-required cannot be combined".into());
    }
    if args.ca.is_some() && args.insecure {
        return Err("--ca and --insecure cannot be combined".into());
    }
    if args.tls != Some(TlsMode::None)
        && args.backend() == TlsBackend::Embedded
        && args.ca.is_none()
        && !args.insecure
    {
        return Err(
            "the embedded-tls backend has no trust store: pass --ca FILE, \
             or --tls-backend rustls for the system store"
                .into(),
        );
    }
    Ok(args)
}

/// Checks that the AUTH options come as a complete set: a user name with
/// exactly one source for its secret.
fn check_auth_args(args: &Args) -> Result<(), String> {
    let secrets =
        usize::from(args.password_env.is_some()) + usize::from(args.oauth_token_env.is_some());
    if args.user.is_none() {
        let needs_user = [
            (args.password_env.is_some(), "--password-env"),
            (args.oauth_token_env.is_some(), "--oauth-token-env"),
            (args.auth.is_some(), "--auth"),
            (args.auth_plaintext, "--auth-plaintext"),
        ];
        if let Some((_, flag)) = needs_user.iter().find(|(given, _)| *given) {
            return Err(format!("{flag} needs --user"));
        }
        return Ok(());
    }
    match secrets {
        0 => Err("--user needs --password-env or --oauth-token-env".into()),
        1 => Ok(()),
        _ => Err("--password-env and --oauth-token-env cannot be combined".into()),
    }
}

/// Prints the library's trace lines, the `C:` and `S:` dialog, on stderr.
/// Its debug lines (ignored EHLO keywords, malformed input) are left out:
/// every failure reaches the caller as an error, which `report` prints.
struct DialogLogger;

impl log::Log for DialogLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("embedded_smtp")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) && record.level() == log::Level::Trace {
            eprintln!("{}", record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: DialogLogger = DialogLogger;

fn read_input(path: &str) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    if path == "-" {
        io::stdin().read_to_end(&mut data)?;
    } else {
        File::open(path)?.read_to_end(&mut data)?;
    }
    Ok(data)
}

/// Scans a message file before sending it: its size as SMTP transmits it
/// (CRLF line ends), for SIZE, and whether it has 8-bit bytes.
fn scan_message_file(path: &str) -> io::Result<(u64, bool)> {
    let mut file = File::open(path)?;
    let mut counter = SizeCounter::new();
    let mut eight_bit = false;
    let mut chunk = [0u8; 8192];
    loop {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok((counter.finish(), eight_bit));
        }
        counter.update(&chunk[..n]);
        eight_bit |= has_8bit(&chunk[..n]);
    }
}

fn address_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if message.is_empty() {
                // --help: the usage is the requested output.
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("send: {message}");
            eprintln!("{USAGE}");
            return ExitCode::from(EX_USAGE);
        }
    };
    if !args.quiet {
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Trace);
    }
    ExitCode::from(run(&args))
}

fn run(args: &Args) -> u8 {
    // Read local input before connecting, so a missing file costs no
    // session.
    let body = match args.body.as_deref().map(read_input).transpose() {
        Ok(body) => body,
        Err(e) => {
            eprintln!(
                "send: cannot read --body {:?}: {e}",
                args.body.as_deref().unwrap_or("")
            );
            return EX_IOERR;
        }
    };
    let message = match &args.message {
        Some(path) if path == "-" => match read_input(path) {
            Ok(data) => Some(MessageSource::Memory(data)),
            Err(e) => {
                eprintln!("send: cannot read the message from stdin: {e}");
                return EX_IOERR;
            }
        },
        Some(path) => match scan_message_file(path) {
            Ok((size, eight_bit)) => Some(MessageSource::File(path.clone(), size, eight_bit)),
            Err(e) => {
                eprintln!("send: cannot read --message {path:?}: {e}");
                return EX_IOERR;
            }
        },
        None => None,
    };

    // Invalid addresses are input errors: report them before connecting.
    let from = args.from.as_deref().unwrap_or("");
    let addresses = args
        .to
        .iter()
        .map(String::as_str)
        .chain((!from.is_empty()).then_some(from));
    for address in addresses {
        if let Err(e) = validate_mailbox(address) {
            eprintln!("send: invalid address {address:?}: {e}");
            return EX_DATAERR;
        }
    }

    let secret = match secret_from_env(args) {
        Ok(secret) => secret,
        Err(message) => {
            eprintln!("send: {message}");
            return EX_DATAERR;
        }
    };
    let credentials = args
        .user
        .as_deref()
        .zip(secret.as_deref())
        .map(|(user, secret)| {
            if args.oauth_token_env.is_some() {
                Credentials::oauth2(user, secret)
            } else {
                Credentials::new(user, secret)
            }
        });
    let auth_options = AuthOptions {
        mechanism: args.auth,
        allow_plaintext: args.auth_plaintext,
        ..AuthOptions::new()
    };

    let policy = tls_policy(args);
    let ca = match args
        .ca
        .as_deref()
        .map(|path| load_certificates(Path::new(path)))
    {
        None => None,
        Some(Ok(certificates)) => Some(certificates),
        Some(Err(e)) => {
            eprintln!("send: cannot use --ca: {e}");
            return if e.kind() == io::ErrorKind::InvalidData {
                EX_DATAERR
            } else {
                EX_IOERR
            };
        }
    };

    let server_name = args
        .tls_name
        .clone()
        .unwrap_or_else(|| host_of(&args.server).to_string());
    // embedded-tls checks DNS names only, and RFC 6066 section 3 forbids
    // an IP address as the TLS server name, so a server given by address
    // needs the certificate's DNS name.
    if args.backend() == TlsBackend::Embedded
        && policy != TlsPolicy::None
        && !args.insecure
        && server_name.parse::<IpAddr>().is_ok()
    {
        eprintln!(
            "send: embedded-tls cannot check a certificate for the IP address {server_name}: \
             pass --tls-name with the DNS name in the server's certificate"
        );
        return EX_USAGE;
    }

    let mut options = ConnectOptions::default();
    if let Some(timeout) = args.timeout {
        options = options.with_timeout(timeout);
    }
    options.source_address = args.source_address;
    let stream = match connect(&args.server, &options) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("send: cannot connect to {}: {e}", args.server);
            return EX_TEMPFAIL;
        }
    };
    let helo = match &args.helo {
        Some(name) => name.clone(),
        None => match stream.inner().get_ref().local_addr() {
            Ok(local) => address_literal(local.ip()),
            Err(e) => {
                eprintln!("send: cannot read the local address: {e}");
                return EX_TEMPFAIL;
            }
        },
    };

    let mut config = Config::new(&helo);
    if args.lmtp {
        config = config.lmtp();
    }
    let to: Vec<&str> = args.to.iter().map(String::as_str).collect();
    let job = Job {
        quiet: args.quiet,
        credentials,
        secret_len: secret.as_deref().map_or(0, str::len),
        auth_options,
        config,
        policy,
        envelope: Envelope::new(from, &to),
        subject: &args.subject,
        body: body.as_deref(),
        message: message.as_ref(),
    };
    let mut results = vec![RecipientResult::NotAttempted; to.len()];

    match args.backend() {
        TlsBackend::Embedded => {
            let mut read_buffer = vec![0u8; READ_BUFFER_LEN];
            let mut write_buffer = vec![0u8; WRITE_BUFFER_LEN];
            let upgrade = match ca.as_ref().and_then(|certificates| certificates.first()) {
                Some(ca_der) => EmbeddedTls::new(
                    &server_name,
                    ca_der,
                    OsRng,
                    &mut read_buffer,
                    &mut write_buffer,
                )
                .with_clock::<SystemClock>(),
                // Without --ca this is reached only with --insecure or with
                // TLS off (`tls_policy`), where the upgrade is never used.
                None => EmbeddedTls::insecure_no_verification(
                    &server_name,
                    OsRng,
                    &mut read_buffer,
                    &mut write_buffer,
                )
                .with_clock::<SystemClock>(),
            };
            let outcome = block_on(job.run(stream, upgrade, &mut results));
            report(&to, &results, outcome)
        }
        TlsBackend::Rustls => {
            let tls_config = if args.insecure {
                rustls_config_insecure_no_verification()
            } else {
                rustls_config(args.ca.as_deref().map(Path::new))
            };
            let upgrade = match tls_config.and_then(|c| RustlsUpgrade::new(c, &server_name)) {
                Ok(upgrade) => upgrade,
                Err(e) => {
                    eprintln!("send: cannot set up rustls: {e}");
                    return EX_DATAERR;
                }
            };
            let outcome = block_on(job.run(stream, upgrade, &mut results));
            report(&to, &results, outcome)
        }
    }
}

/// Chooses the TLS policy from the flags.
fn tls_policy(args: &Args) -> TlsPolicy {
    match (args.tls, args.tls_required) {
        (Some(TlsMode::None), _) => TlsPolicy::None,
        (Some(TlsMode::Implicit), _) => TlsPolicy::Implicit,
        (_, true) => TlsPolicy::Required,
        (Some(TlsMode::StartTls) | None, false) => TlsPolicy::Opportunistic,
    }
}

/// Returns the host part of `HOST[:PORT]`, without IPv6 brackets.
fn host_of(server: &str) -> &str {
    if let Some(rest) = server.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match server.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => server,
    }
}

/// What to send and how: everything `run` prepared before the session.
struct Job<'a> {
    quiet: bool,
    credentials: Option<Credentials<'a>>,
    /// Length of the password or token, which sizes the session buffer.
    secret_len: usize,
    auth_options: AuthOptions,
    config: Config<'a>,
    policy: TlsPolicy,
    envelope: Envelope<'a>,
    subject: &'a str,
    body: Option<&'a [u8]>,
    message: Option<&'a MessageSource>,
}

type SessionError<S> =
    Error<embedded_smtp::tls::MaybeTlsError<io::Error, <S as embedded_io::ErrorType>::Error>>;

impl Job<'_> {
    /// Returns a session buffer whose command half fits the longest AUTH
    /// line these credentials produce: base64 of the user name, the secret
    /// and at most 64 octets of mechanism framing, plus the command word.
    fn buffer_len(&self) -> usize {
        const DEFAULT: usize = 16 * 1024;
        let Some(credentials) = &self.credentials else {
            return DEFAULT;
        };
        let payload = credentials.username().len() + self.secret_len + 64;
        let line = 32 + payload.div_ceil(3) * 4;
        DEFAULT.max(2 * line)
    }

    /// Runs one session with the TLS policy and sends the message.
    async fn run<U>(
        &self,
        stream: StdStream,
        upgrade: U,
        results: &mut [RecipientResult],
    ) -> Result<Delivery, SessionError<U::Stream>>
    where
        U: TlsUpgrade<StdStream>,
    {
        // Half of the buffer takes each command line, and an AUTH line
        // carries the user name and the whole secret in base64.
        let mut buf = vec![0u8; self.buffer_len()];
        let mut client: Client<'_, MaybeTls<StdStream, U::Stream>> =
            Client::connect_with_tls(stream, &mut buf, &self.config, self.policy, upgrade).await?;
        if !client.is_secure() && self.policy != TlsPolicy::None && !self.quiet {
            eprintln!(
                "send: notice: STARTTLS was not offered or was rejected; sending in plaintext"
            );
        }
        if let Some(credentials) = &self.credentials
            && let Err(e) = client.authenticate(credentials, &self.auth_options).await
        {
            let _ = client.quit().await;
            return Err(e);
        }
        let sent = self.send(&mut client, results).await;
        let quit = client.quit().await;
        match (sent, quit) {
            (Err(e), _) => Err(e),
            (Ok(delivery), Ok(_)) => Ok(delivery),
            (Ok(delivery), Err(e)) => {
                eprintln!("send: QUIT failed after the message was accepted: {e}");
                Ok(delivery)
            }
        }
    }

    async fn send<T: embedded_io_async::Read + embedded_io_async::Write>(
        &self,
        client: &mut Client<'_, T>,
        results: &mut [RecipientResult],
    ) -> Result<Delivery, Error<T::Error>> {
        let envelope = &self.envelope;
        match self.message {
            Some(MessageSource::Memory(data)) => client.send_slice(envelope, data, results).await,
            Some(MessageSource::File(path, size, eight_bit)) => match File::open(path) {
                Ok(file) => {
                    // The scan before connecting found the content, so an
                    // 8-bit file meets a server without 8BITMIME with a
                    // refusal before MAIL, and a 7-bit file declares no BODY.
                    let content = if *eight_bit {
                        Content::EightBit
                    } else {
                        Content::SevenBit
                    };
                    let info = BodyInfo::new(Some(*size), content);
                    let mut source = Blocking::new(FromStd::new(file));
                    client
                        .send_reader(envelope, &mut source, info, results)
                        .await
                }
                Err(e) => Err(Error::Body(embedded_io::Error::kind(&e))),
            },
            None => {
                let from = envelope.from;
                let to_boxes: Vec<Mailbox<'_>> =
                    envelope.to.iter().map(|a| Mailbox::new(a)).collect();
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let unique = format!(
                    "{}.{}.{}",
                    now.as_secs(),
                    now.subsec_nanos(),
                    std::process::id()
                );
                let domain = from
                    .rsplit_once('@')
                    .map_or("localhost", |(_, domain)| domain);
                let headers = Headers {
                    from: Mailbox::new(from),
                    to: &to_boxes,
                    cc: &[],
                    subject: self.subject,
                    date: Some(Date {
                        unix_seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
                        utc_offset_minutes: 0,
                    }),
                    message_id: Some(MessageId {
                        unique: &unique,
                        domain,
                    }),
                    extra: &[],
                };
                let text = self.body.unwrap_or(b"");
                client.send_message(envelope, &headers, text, results).await
            }
        }
    }
}

/// Reads the password or token from the environment variable that
/// `--password-env` or `--oauth-token-env` names.
fn secret_from_env(args: &Args) -> Result<Option<String>, String> {
    let Some(var) = args.password_env.as_ref().or(args.oauth_token_env.as_ref()) else {
        return Ok(None);
    };
    match std::env::var(var) {
        Ok(secret) => Ok(Some(secret)),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "environment variable {var} is not set; export the secret there"
        )),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable {var} is not valid UTF-8"))
        }
    }
}

enum MessageSource {
    Memory(Vec<u8>),
    /// Path, size for SIZE, and whether the file has 8-bit bytes.
    File(String, u64, bool),
}

fn report<E: std::fmt::Display>(
    to: &[&str],
    results: &[RecipientResult],
    outcome: Result<Delivery, Error<E>>,
) -> u8 {
    for (address, result) in to.iter().zip(results) {
        let reply = result
            .status()
            .map(|status| match status.enhanced {
                Some(enhanced) => format!(" ({} {enhanced})", status.code),
                None => format!(" ({})", status.code),
            })
            .unwrap_or_default();
        let verdict = match result {
            RecipientResult::Delivered(_) => "delivered",
            RecipientResult::Rejected(_) => "rejected",
            RecipientResult::Failed(_) => "failed",
            RecipientResult::Accepted(_) => "accepted, message not delivered",
            RecipientResult::NotAttempted => "not attempted",
        };
        println!("{address}: {verdict}{reply}");
    }

    let any_permanent = results.iter().any(RecipientResult::is_permanent_failure);
    match outcome {
        Ok(_) if results.iter().all(RecipientResult::is_delivered) => 0,
        Ok(_) if any_permanent => EX_UNAVAILABLE,
        Ok(_) => EX_TEMPFAIL,
        // The server would refuse these permanently, so retrying the same
        // message is pointless.
        Err(Error::Input(
            e @ (InputError::MessageTooLarge { .. } | InputError::Utf8NotSupported),
        )) => {
            eprintln!("send: {e}");
            EX_UNAVAILABLE
        }
        Err(Error::Input(e)) => {
            eprintln!("send: {e}");
            EX_DATAERR
        }
        Err(Error::Body(kind)) => {
            eprintln!("send: reading the message failed: {kind:?}");
            EX_IOERR
        }
        Err(e) => {
            eprintln!("send: {e}");
            if any_permanent || e.is_permanent() {
                EX_UNAVAILABLE
            } else {
                EX_TEMPFAIL
            }
        }
    }
}
