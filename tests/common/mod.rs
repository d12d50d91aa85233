//! Starts real SMTP peers on 127.0.0.1 for the integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the virtual environment's Python, which has aiosmtpd.
pub fn venv_python() -> PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} not found: run scripts/install-deps.sh to create the virtual environment with aiosmtpd",
        python.display()
    );
    python
}

/// Returns the path of a program that the tests need, or fails with the
/// command that installs it.
pub fn require_program(name: &str, candidates: &[&str]) -> PathBuf {
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.exists() {
            return path.to_path_buf();
        }
    }
    panic!("{name} not found at {candidates:?}: run scripts/install-deps.sh");
}

/// A peer process, killed when dropped.
pub struct Peer {
    child: Child,
    // Closing stdin makes the aiosmtpd script stop.
    _stdin: Option<ChildStdin>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Peer {
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits until `count` messages are stored and returns them as
    /// (data, envelope JSON) pairs in arrival order.
    pub fn wait_for_messages(&self, count: usize) -> Vec<(Vec<u8>, String)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stored = (1..=count)
                .filter(|n| self.dir.path().join(format!("{n}.json")).exists())
                .count();
            if stored == count {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {stored} of {count} messages arrived within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        (1..=count)
            .map(|n| {
                let data = std::fs::read(self.dir.path().join(format!("{n}.eml"))).unwrap();
                let meta =
                    std::fs::read_to_string(self.dir.path().join(format!("{n}.json"))).unwrap();
                (data, meta)
            })
            .collect()
    }

    /// Number of messages stored so far.
    pub fn stored(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|entry| {
                entry
                    .as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .count()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts tests/peers/aiosmtpd_server.py with the given extra arguments.
pub fn aiosmtpd(args: &[&str]) -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let script = repo_root().join("tests/peers/aiosmtpd_server.py");
    let mut child = Command::new(venv_python())
        .arg(&script)
        .arg("--outdir")
        .arg(dir.path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("failed to start the aiosmtpd peer");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("aiosmtpd peer printed {line:?} instead of its port"));
    let stdin = child.stdin.take();
    Peer {
        child,
        _stdin: stdin,
        port,
        dir,
    }
}

/// Returns a port that was free a moment ago, for peers that cannot listen
/// on port 0 and report the port they got.
///
/// The system may hand the same ephemeral port to two tests running at
/// once; a peer started second would then fail to bind while the first
/// one answers its test. So no port is returned twice in one test process.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap();
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
    panic!("no new free port on 127.0.0.1 after 100 attempts");
}

/// Waits until something accepts connections on `port`.
pub fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on 127.0.0.1:{port} after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts Postfix's smtp-sink on a free port, dumping each transaction into
/// its directory. smtp-sink refuses to run as root without `-u`, so it runs
/// as `nobody` then, and the directory is made writable for it.
pub fn smtp_sink(extra: &[&str]) -> Peer {
    let program = require_program("smtp-sink", &["/usr/sbin/smtp-sink", "/usr/bin/smtp-sink"]);
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let port = free_port();
    let template = format!("{}/%H%M%S.", dir.path().display());
    let mut command = Command::new(program);
    if is_root() {
        command.args(["-u", "nobody"]);
    }
    let child = command
        .args(["-d", &template])
        .args(extra)
        .arg(format!("127.0.0.1:{port}"))
        .arg("16")
        .stdin(Stdio::null())
        .spawn()
        .expect("failed to start smtp-sink");
    wait_listening(port);
    let mut peer = Peer {
        child,
        _stdin: None,
        port,
        dir,
    };
    // A sink that could not bind exits; then something else answers on
    // the port and the test would talk to the wrong peer.
    std::thread::sleep(Duration::from_millis(50));
    let exited = peer.child.try_wait().unwrap();
    assert!(
        exited.is_none(),
        "smtp-sink on port {port} exited: {exited:?}"
    );
    peer
}

pub fn is_root() -> bool {
    // The effective uid is the third field of the Uid line in
    // /proc/self/status.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .and_then(|line| line.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// Path of a compiled example program.
pub fn example(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let path = path.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not built; run `cargo test` to build the examples",
        path.display()
    );
    path
}
