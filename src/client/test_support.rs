//! Scripted transports for the client's transcript tests: a lockstep fake
//! server that fails the test on any deviation from its script, and a
//! runner that repeats each session under every way of splitting the
//! server's bytes, through the blocking and the async API.

extern crate std;

use std::cell::RefCell;
use std::rc::Rc;
use std::vec::Vec;

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// One step of a scripted dialog.
#[derive(Clone, Copy, Debug)]
pub(super) enum Step {
    /// Bytes the server sends.
    S(&'static [u8]),
    /// Bytes the client must send next.
    C(&'static [u8]),
    /// The server closes the connection.
    Eof,
    /// The TLS handshake: [`FakeTls`] passes this step, and the bytes on
    /// both sides of it are the plaintext of the TLS records.
    Tls,
}
pub(super) use Step::{C, Eof, S, Tls};

/// How the server's bytes are cut into reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Plan {
    Whole,
    OneByte,
    /// No read crosses this offset of the server's byte stream.
    SplitAt(usize),
}

#[derive(Debug)]
pub(super) struct MockState {
    steps: Vec<Step>,
    index: usize,
    offset: usize,
    plan: Plan,
    server_bytes: usize,
    written: Vec<u8>,
    failure: Option<std::string::String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MockError;

impl embedded_io::Error for MockError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl core::fmt::Display for MockError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("scripted transport failure")
    }
}

impl core::error::Error for MockError {}

/// Scripted server in lockstep with the client: a read while the script
/// expects client bytes, or a write that differs from the script, fails the
/// test.
#[derive(Clone, Debug)]
pub(super) struct Mock(Rc<RefCell<MockState>>);

impl Mock {
    pub(super) fn new(steps: &[Step], plan: Plan) -> Self {
        Self(Rc::new(RefCell::new(MockState {
            steps: steps.to_vec(),
            index: 0,
            offset: 0,
            plan,
            server_bytes: 0,
            written: Vec::new(),
            failure: None,
        })))
    }

    fn fail(state: &mut MockState, message: std::string::String) -> MockError {
        if state.failure.is_none() {
            state.failure = Some(message);
        }
        MockError
    }

    /// Panics unless the client followed the whole script.
    pub(super) fn assert_done(&self) {
        let state = self.0.borrow();
        if let Some(failure) = &state.failure {
            panic!("{failure} (plan {:?})", state.plan);
        }
        let rest = &state.steps[state.index..];
        let only_eof = rest.iter().all(|step| matches!(step, Eof));
        assert!(
            only_eof,
            "script not finished at step {} of {:?}, plan {:?}, client wrote {:?}",
            state.index,
            state.steps,
            state.plan,
            std::string::String::from_utf8_lossy(&state.written)
        );
    }

    pub(super) fn written(&self) -> Vec<u8> {
        self.0.borrow().written.clone()
    }

    pub(super) fn plan(&self) -> Plan {
        self.0.borrow().plan
    }

    /// Passes the script's [`Tls`] step. Fails without marking the script
    /// as broken when the script is elsewhere, for example when server
    /// bytes are still unread: a real handshake would fail on them too.
    fn handshake(&self) -> Result<(), MockError> {
        let mut state = self.0.borrow_mut();
        match state.steps.get(state.index) {
            Some(Tls) if state.offset == 0 => {
                state.index += 1;
                Ok(())
            }
            _ => Err(MockError),
        }
    }
}

/// A scripted transport, through the blocking or the async API.
pub(super) trait Scripted {
    fn mock(&self) -> &Mock;
}

impl Scripted for crate::blocking::Blocking<Mock> {
    fn mock(&self) -> &Mock {
        self.inner()
    }
}

impl Scripted for Suspending {
    fn mock(&self) -> &Mock {
        &self.0
    }
}

/// TLS upgrade that encrypts nothing: the handshake is the script's
/// [`Tls`] step, and the dialog after it is scripted in plaintext.
pub(super) struct FakeTls;

impl<P> crate::tls::TlsUpgrade<P> for FakeTls
where
    P: Scripted + embedded_io_async::Read + embedded_io_async::Write<Error = MockError>,
{
    type Stream = P;

    async fn upgrade(self, plain: P) -> Result<P, MockError> {
        plain.mock().handshake()?;
        Ok(plain)
    }

    fn is_transient(_: &MockError) -> bool {
        false
    }
}

impl embedded_io::ErrorType for Mock {
    type Error = MockError;
}

impl embedded_io::Read for Mock {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, MockError> {
        let mut state = self.0.borrow_mut();
        let state = &mut *state;
        match state.steps.get(state.index).copied() {
            None | Some(Eof) => Ok(0),
            Some(Tls) => Err(Self::fail(
                state,
                "client read where the script expects the TLS handshake".into(),
            )),
            Some(C(expected)) => {
                let message = std::format!(
                    "client read while the script expects it to send {:?}",
                    std::string::String::from_utf8_lossy(&expected[state.offset..])
                );
                Err(Self::fail(state, message))
            }
            Some(S(bytes)) => {
                let remaining = &bytes[state.offset..];
                let limit = match state.plan {
                    Plan::Whole => usize::MAX,
                    Plan::OneByte => 1,
                    Plan::SplitAt(at) if state.server_bytes < at => at - state.server_bytes,
                    Plan::SplitAt(_) => usize::MAX,
                };
                let n = remaining.len().min(buf.len()).min(limit);
                buf[..n].copy_from_slice(&remaining[..n]);
                state.offset += n;
                state.server_bytes += n;
                if state.offset == bytes.len() {
                    state.index += 1;
                    state.offset = 0;
                }
                Ok(n)
            }
        }
    }
}

impl embedded_io::Write for Mock {
    fn write(&mut self, buf: &[u8]) -> Result<usize, MockError> {
        let mut state = self.0.borrow_mut();
        let state = &mut *state;
        let mut input = buf;
        while !input.is_empty() {
            let Some(C(expected)) = state.steps.get(state.index).copied() else {
                let message = std::format!(
                    "client sent {:?} at step {} where the script has {:?}",
                    std::string::String::from_utf8_lossy(input),
                    state.index,
                    state.steps.get(state.index)
                );
                return Err(Self::fail(state, message));
            };
            let remaining = &expected[state.offset..];
            let n = remaining.len().min(input.len());
            if remaining[..n] != input[..n] {
                let message = std::format!(
                    "client sent {:?}, script expects {:?}",
                    std::string::String::from_utf8_lossy(input),
                    std::string::String::from_utf8_lossy(remaining)
                );
                return Err(Self::fail(state, message));
            }
            state.written.extend_from_slice(&input[..n]);
            input = &input[n..];
            state.offset += n;
            if state.offset == expected.len() {
                state.index += 1;
                state.offset = 0;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), MockError> {
        Ok(())
    }
}

/// Async transport over the mock that suspends once before every read and
/// write, so the session really resumes from `Pending`.
pub(super) struct Suspending(pub(super) Mock);

struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl embedded_io::ErrorType for Suspending {
    type Error = MockError;
}

impl embedded_io_async::Read for Suspending {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, MockError> {
        YieldOnce(false).await;
        embedded_io::Read::read(&mut self.0, buf)
    }
}

impl embedded_io_async::Write for Suspending {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, MockError> {
        YieldOnce(false).await;
        embedded_io::Write::write(&mut self.0, buf)
    }

    async fn flush(&mut self) -> Result<(), MockError> {
        YieldOnce(false).await;
        embedded_io::Write::flush(&mut self.0)
    }
}

pub(super) fn plans(steps: &[Step]) -> Vec<Plan> {
    let total: usize = steps
        .iter()
        .map(|step| match step {
            S(bytes) => bytes.len(),
            _ => 0,
        })
        .sum();
    let mut plans = std::vec![Plan::Whole, Plan::OneByte];
    plans.extend((1..total).map(Plan::SplitAt));
    plans
}

/// Runs `$body` (an expression using the transport `$io`) against the script
/// under every plan, once through the blocking API and once through the
/// async API, checks the script was followed, and passes each result to
/// `$check`.
macro_rules! transcript {
    ($steps:expr, |$io:ident| $body:expr, $check:expr) => {
        transcript!(@run true, $steps, |$io| $body, $check)
    };
    // For input the client rejects part-way: the rest of the script may
    // stay unread.
    (@unfinished $steps:expr, |$io:ident| $body:expr, $check:expr) => {
        transcript!(@run false, $steps, |$io| $body, $check)
    };
    (@run $finish:expr, $steps:expr, |$io:ident| $body:expr, $check:expr) => {{
        let steps: &[Step] = &$steps;
        for plan in plans(steps) {
            let mock = Mock::new(steps, plan);
            let $io = Blocking::new(mock.clone());
            let result = block_on(async { $body });
            if $finish {
                mock.assert_done();
            }
            ($check)(result, &mock);

            let mock = Mock::new(steps, plan);
            let $io = Suspending(mock.clone());
            let result = block_on(async { $body });
            if $finish {
                mock.assert_done();
            }
            ($check)(result, &mock);
        }
    }};
}

pub(super) use transcript;
