//! Threaded TCP listener that runs many server sessions at once over std
//! sockets.
//!
//! Each accepted connection gets its own thread, a stack buffer of
//! [`SESSION_BUFFER_LEN`] bytes and a handler from a [`Service`]. The
//! transport is the std stream behind [`FromStd`] and [`Blocking`], so the
//! session is the same async code that runs on a device.

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use embedded_io_adapters::std::FromStd;

use crate::blocking::{Blocking, block_on};
use crate::server::{Config, Ended, Handler, ServeError, serve};

/// Server timeout for reads and writes. RFC 5321 section 4.5.3.2.7: a
/// server SHOULD wait at least 5 minutes for the next command.
pub const SERVER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Session buffer on each session thread's stack. Message data reaches the
/// handler in pieces of up to this length minus the 512-byte reply area.
pub const SESSION_BUFFER_LEN: usize = 8192;

/// Result of one session as the listener reports it.
pub type SessionResult = Result<Ended, ServeError<io::Error>>;

/// Source of session handlers, shared by all session threads.
pub trait Service: Sync {
    /// Handler type for one session.
    type Handler: Handler;

    /// Creates the handler for a new connection from `peer`.
    fn open(&self, peer: SocketAddr) -> Self::Handler;

    /// Receives the handler back when the session with `peer` has ended,
    /// with the way it ended. Any open transaction was already aborted.
    fn close(&self, peer: SocketAddr, handler: Self::Handler, result: &SessionResult) {
        let _ = (peer, handler, result);
    }
}

/// Listener settings.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// Read timeout for each connection; must not be zero. Default
    /// [`SERVER_TIMEOUT`].
    ///
    /// NOTE: the timeout applies to each read, so a client that sends a
    /// byte within every interval keeps its session open without limit;
    /// only `max_sessions` bounds how many such sessions there are.
    pub read_timeout: Duration,
    /// Write timeout for each connection; must not be zero. Default
    /// [`SERVER_TIMEOUT`].
    pub write_timeout: Duration,
    /// Maximum sessions at once. Connections beyond it get 421 4.3.2 and
    /// are closed. Default 100.
    pub max_sessions: usize,
    /// Maximum time between two checks of the stop flag by the accept
    /// loop, so also the maximum delay before a stop takes effect. Default
    /// 100 ms.
    ///
    /// On Linux and Android the loop blocks in `accept` with this value as
    /// the listening socket's receive timeout (`SO_RCVTIMEO`, which those
    /// kernels apply to `accept`), so a new connection is accepted at once.
    /// Other systems ignore that timeout for `accept`: there the loop polls
    /// a non-blocking `accept` and sleeps this long whenever no connection
    /// is waiting, which delays a new connection by up to this interval.
    pub poll_interval: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            read_timeout: SERVER_TIMEOUT,
            write_timeout: SERVER_TIMEOUT,
            max_sessions: 100,
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// Sockets of the running sessions, kept so that a stop can end them.
struct Sessions {
    streams: Mutex<HashMap<u64, TcpStream>>,
    next_id: AtomicU64,
}

impl Sessions {
    fn len(&self) -> usize {
        self.streams
            .lock()
            .map(|streams| streams.len())
            .unwrap_or(0)
    }

    fn insert(&self, stream: &TcpStream) -> io::Result<u64> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let clone = stream.try_clone()?;
        if let Ok(mut streams) = self.streams.lock() {
            streams.insert(id, clone);
        }
        Ok(id)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut streams) = self.streams.lock() {
            streams.remove(&id);
        }
    }

    /// Ends every session at its next read, which returns end of stream.
    /// An open transaction is therefore aborted and nothing half-received
    /// is delivered.
    fn shut_down_all(&self) {
        if let Ok(streams) = self.streams.lock() {
            for stream in streams.values() {
                let _ = stream.shutdown(Shutdown::Read);
            }
        }
    }
}

/// Accepts connections on `listener` and serves each in its own thread
/// until `stop` becomes true, then ends the running sessions at their next
/// read and returns once all of them have finished.
///
/// To run a server in-process, bind `127.0.0.1:0`, read the port from
/// [`TcpListener::local_addr`] and call this in a spawned thread.
///
/// Returns an error only if the listener's accept mode cannot be set (see
/// [`ListenerConfig::poll_interval`]); failed accepts are logged and
/// retried.
pub fn run<S: Service>(
    listener: &TcpListener,
    server: &Config<'_>,
    options: &ListenerConfig,
    service: &S,
    stop: &AtomicBool,
) -> io::Result<()> {
    let accept_mode = AcceptMode::set_up(listener, options.poll_interval)?;
    let sessions = Sessions {
        streams: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(0),
    };

    thread::scope(|scope| {
        while !stop.load(Ordering::Relaxed) {
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                // No connection within the timeout, or none waiting.
                Err(e) if is_timeout(&e) => {
                    if accept_mode == AcceptMode::Polling {
                        thread::sleep(options.poll_interval);
                    }
                    continue;
                }
                Err(e) => {
                    warn!("accept failed: {}", DisplayIo(&e));
                    thread::sleep(options.poll_interval);
                    continue;
                }
            };
            if sessions.len() >= options.max_sessions {
                debug!(
                    "rejecting {}: {} sessions running",
                    DisplayAddr(peer),
                    options.max_sessions
                );
                reject_busy(stream);
                continue;
            }
            let id = match sessions.insert(&stream) {
                Ok(id) => id,
                Err(e) => {
                    warn!(
                        "cannot track connection from {}: {}",
                        DisplayAddr(peer),
                        DisplayIo(&e)
                    );
                    continue;
                }
            };
            let sessions = &sessions;
            let spawned = thread::Builder::new()
                .name("smtp-session".into())
                .spawn_scoped(scope, move || {
                    serve_connection(stream, peer, server, options, service);
                    sessions.remove(id);
                });
            if let Err(e) = spawned {
                warn!(
                    "cannot start a session thread for {}: {}",
                    DisplayAddr(peer),
                    DisplayIo(&e)
                );
                sessions.remove(id);
            }
        }
        debug!("stop requested, ending {} sessions", sessions.len());
        sessions.shut_down_all();
    });
    Ok(())
}

/// Wait strategy of the accept loop between checks of the stop flag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AcceptMode {
    /// `accept` blocks until a connection arrives or the listening
    /// socket's receive timeout passes.
    Blocking,
    /// `accept` never blocks, and the loop sleeps when nothing is waiting.
    Polling,
}

impl AcceptMode {
    /// Sets up `listener` for the mode this system supports. A zero
    /// `interval` is raised to 1 ms, because a zero socket timeout means
    /// no timeout at all.
    fn set_up(listener: &TcpListener, interval: Duration) -> io::Result<Self> {
        if cfg!(any(target_os = "linux", target_os = "android")) {
            listener.set_nonblocking(false)?;
            let timeout = interval.max(Duration::from_millis(1));
            socket2::SockRef::from(listener).set_read_timeout(Some(timeout))?;
            Ok(Self::Blocking)
        } else {
            listener.set_nonblocking(true)?;
            Ok(Self::Polling)
        }
    }
}

/// Returns whether an `accept` error only means that no connection came
/// within the timeout (`EAGAIN` on Linux) or none is waiting.
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Runs one session on an accepted connection.
fn serve_connection<S: Service>(
    stream: TcpStream,
    peer: SocketAddr,
    server: &Config<'_>,
    options: &ListenerConfig,
    service: &S,
) {
    let mut handler = service.open(peer);
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(options.read_timeout)))
        .and_then(|()| stream.set_write_timeout(Some(options.write_timeout)))
        .and_then(|()| stream.set_nodelay(true));
    let result = match setup {
        Ok(()) => {
            let mut transport = Blocking::new(FromStd::new(stream));
            let mut buffer = [0u8; SESSION_BUFFER_LEN];
            block_on(serve(&mut transport, &mut buffer, server, &mut handler))
        }
        Err(e) => Err(ServeError::Io(e)),
    };
    service.close(peer, handler, &result);
}

/// Replies to a connection over the session limit with 421 (service not
/// available) and closes it.
fn reject_busy(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.write_all(b"421 4.3.2 Too many sessions, try again later\r\n");
}

/// Formats an I/O error for the logging macros, which take `Display` under
/// `log` and `defmt::Format` under `defmt`; std builds use only `log`.
struct DisplayIo<'a>(&'a io::Error);

impl core::fmt::Display for DisplayIo<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self.0, f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DisplayIo<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", defmt::Debug2Format(&self.0.kind()));
    }
}

/// Formats a socket address for the logging macros.
struct DisplayAddr(SocketAddr);

impl core::fmt::Display for DisplayAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DisplayAddr {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", defmt::Display2Format(&self.0));
    }
}
