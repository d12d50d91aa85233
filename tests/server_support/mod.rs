//! Helpers for the tests that drive real SMTP clients against the `sink`
//! example, which runs in-process on an ephemeral 127.0.0.1 port.

#![allow(dead_code)]

#[path = "../../examples/sink.rs"]
pub mod sink;

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "run `bash scripts/install-deps.sh` in the repository root";

/// A sink serving a fresh Maildir; stopped and removed on drop.
pub struct TestSink {
    running: Option<sink::Running>,
    pub maildir: PathBuf,
    pub port: u16,
}

impl TestSink {
    /// Starts a sink with the given maximum message size.
    pub fn start(max_size: u64) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let maildir = std::env::temp_dir().join(format!(
            "embedded-smtp-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&maildir);
        let options = sink::Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            max_size,
            max_recipients: 100,
            hostname: "sink.test".into(),
            maildir: maildir.clone(),
        };
        let running = sink::start(options).expect("sink failed to start");
        let port = running.addr.port();
        Self {
            running: Some(running),
            maildir,
            port,
        }
    }

    /// Returns the file names in `new/`, sorted.
    pub fn new_messages(&self) -> Vec<String> {
        list(&self.maildir.join("new"))
    }

    /// Returns the contents of the only message in `new/`.
    pub fn only_message(&self) -> String {
        let names = self.new_messages();
        assert_eq!(
            names.len(),
            1,
            "expected one stored message, found {names:?}"
        );
        fs::read_to_string(self.maildir.join("new").join(&names[0])).unwrap()
    }

    /// Returns the file names left in `tmp/`, which should be none.
    pub fn tmp_files(&self) -> Vec<String> {
        list(&self.maildir.join("tmp"))
    }
}

impl Drop for TestSink {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop.store(true, Ordering::Relaxed);
            let _ = running.thread.join();
        }
        let _ = fs::remove_dir_all(&self.maildir);
    }
}

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Returns the path of a peer program, failing the test with the install
/// hint when it is missing.
pub fn program(candidates: &[&str]) -> PathBuf {
    for candidate in candidates {
        let path = Path::new(candidate);
        if path.is_absolute() {
            if path.exists() {
                return path.to_path_buf();
            }
            continue;
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(candidate);
                if full.is_file() {
                    return full;
                }
            }
        }
    }
    panic!("peer program not found: {candidates:?}; {INSTALL_HINT}");
}

/// Returns the Python interpreter of the repository's virtual environment.
pub fn python() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        path.exists(),
        "{} not found; {INSTALL_HINT}",
        path.display()
    );
    path
}

/// Runs a command with a time limit, killing it when the limit passes.
pub fn run_with_timeout(command: &mut Command, limit: Duration) -> Output {
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {command:?}: {e}; {INSTALL_HINT}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        stdout
            .read_to_end(&mut buf)
            .map(|_| buf)
            .unwrap_or_default()
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        stderr
            .read_to_end(&mut buf)
            .map(|_| buf)
            .unwrap_or_default()
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} timed out after {limit:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// Runs a Python script with the virtual environment's interpreter and
/// returns its standard output; fails the test if the script fails.
pub fn run_python(script: &str, port: u16) -> String {
    let output = run_with_timeout(
        Command::new(python())
            .arg("-c")
            .arg(script)
            .arg(port.to_string()),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
