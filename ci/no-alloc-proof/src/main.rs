//! Bare-metal Cortex-M4 binary that links `embedded-smtp` without a global
//! allocator. It exists only to be built: when the library, or one of its
//! non-dev dependencies, links the `alloc` crate, rustc rejects this binary
//! with "no global memory allocator found but one is required".
#![no_std]
#![no_main]

mod transport;

use core::hint::black_box;
use core::panic::PanicInfo;

use cortex_m_rt::entry;
use embedded_io_async::{Read, Write};
use embedded_smtp::blocking::{Blocking, block_on};

use transport::ScriptedTransport;

/// Replies of the scripted server: a greeting, then one reply per client
/// command, in order.
const SERVER_REPLIES: &[u8] = b"220 proof.example ESMTP\r\n221 Bye\r\n";

#[entry]
fn main() -> ! {
    let mut sent = [0u8; 512];
    // `black_box` hides the script from the optimiser, so the session code
    // below cannot be folded away at compile time.
    let replies = black_box(SERVER_REPLIES);
    let mut transport = Blocking::new(ScriptedTransport::new(replies, &mut sent));

    let outcome = block_on(run_session(&mut transport));

    black_box(&outcome);
    black_box(transport.inner().sent());
    loop {
        core::hint::spin_loop();
    }
}

/// Runs the library code under proof over `transport` and returns the number
/// of reply bytes read.
async fn run_session<T: Read + Write>(transport: &mut T) -> Result<usize, T::Error> {
    // TODO: run a client session here once the client lands (connect, EHLO,
    // MAIL, RCPT, DATA, QUIT over `transport`, with caller-owned buffers),
    // and extend SERVER_REPLIES with the replies it expects.
    let mut greeting = [0u8; 64];
    let greeting_len = transport.read(&mut greeting).await?;
    transport.write_all(b"QUIT\r\n").await?;
    transport.flush().await?;
    let mut bye = [0u8; 64];
    let bye_len = transport.read(&mut bye).await?;
    Ok(greeting_len + bye_len)
}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
