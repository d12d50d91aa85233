//! Blocking use of the async sessions without a second implementation.
//!
//! [`Blocking`] wraps a transport that implements the blocking
//! [`embedded_io`] traits and implements the async [`embedded_io_async`]
//! traits on top of it. Its `read` and `write` futures finish on their first
//! poll because the blocking call has already happened inside, so a session
//! future built over it finishes on its first poll too. [`block_on`] polls it
//! with a no-op waker.
//!
//! The client and server code is therefore the same in both modes: one code
//! path to test and one copy in flash.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Adapter that exposes a blocking `embedded_io` transport through the
/// `embedded_io_async` traits.
///
/// Every async method calls the blocking method inside and is always ready.
#[derive(Debug, Default)]
pub struct Blocking<T>(pub T);

impl<T> Blocking<T> {
    /// Wraps a blocking transport.
    pub const fn new(inner: T) -> Self {
        Self(inner)
    }

    /// Returns the wrapped transport.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// Returns a reference to the wrapped transport.
    pub fn inner(&self) -> &T {
        &self.0
    }

    /// Returns a mutable reference to the wrapped transport.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: embedded_io::ErrorType> embedded_io::ErrorType for Blocking<T> {
    type Error = T::Error;
}

impl<T: embedded_io::Read> embedded_io_async::Read for Blocking<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf)
    }
}

impl<T: embedded_io::Write> embedded_io_async::Write for Blocking<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

/// Runs a future to completion on the current thread.
///
/// Built for futures over [`Blocking`] transports, which finish on their
/// first poll. A future that returns `Pending` (for example a server handler
/// that awaits a timer) is polled again in a spin loop until it finishes, so
/// this never panics but burns CPU while it waits: run such futures on a real
/// executor instead.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_io_async::{Read, Write};

    #[test]
    fn blocking_slices_finish_on_first_poll() {
        let input: &[u8] = b"hello";
        let mut reader = Blocking::new(input);
        let mut buf = [0u8; 8];
        let n = block_on(reader.read(&mut buf)).unwrap();
        assert_eq!(&buf[..n], b"hello");

        let mut out = [0u8; 4];
        let mut writer = Blocking::new(&mut out[..]);
        let n = block_on(writer.write(b"abc")).unwrap();
        assert_eq!(n, 3);
        assert_eq!(&out[..3], b"abc");
    }

    #[test]
    fn block_on_spins_through_pending() {
        struct PendingTwice(u8);
        impl Future for PendingTwice {
            type Output = u8;
            fn poll(mut self: core::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u8> {
                if self.0 == 2 {
                    Poll::Ready(7)
                } else {
                    self.0 += 1;
                    Poll::Pending
                }
            }
        }
        assert_eq!(block_on(PendingTwice(0)), 7);
    }
}
