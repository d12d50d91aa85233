//! Bare-metal Cortex-M4 binary that links `embedded-smtp` without a global
//! allocator. It exists only to be built: when the library, or one of its
//! non-dev dependencies, links the `alloc` crate, rustc rejects this binary
//! with "no global memory allocator found but one is required".
#![no_std]
#![no_main]

mod rng;
mod transport;

use core::hint::black_box;
use core::panic::PanicInfo;

use cortex_m_rt::entry;
use embedded_io_async::{Read, Write};
use embedded_smtp::blocking::{Blocking, block_on};
use embedded_smtp::client::{
    Config, Envelope, Error, MIN_BUFFER_LEN, RecipientResult, with_session,
};
use embedded_smtp::codec::message::{Date, Headers, Mailbox, MessageId};
use embedded_smtp::tls::embedded::{EmbeddedTls, READ_BUFFER_LEN, WRITE_BUFFER_LEN};
use embedded_smtp::tls::{MaybeTls, TlsPolicy};

use rng::CounterRng;
use transport::ScriptedTransport;

/// Replies of the scripted server: a greeting, then one reply per client
/// command, in order.
const SERVER_REPLIES: &[u8] = b"220 proof.example ESMTP\r\n\
250-proof.example\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME\r\n\
250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go ahead\r\n250 2.0.0 queued\r\n\
221 2.0.0 bye\r\n";

#[entry]
fn main() -> ! {
    let mut sent = [0u8; 1024];
    // `black_box` hides the script from the optimiser, so the session code
    // below cannot be folded away at compile time.
    let replies = black_box(SERVER_REPLIES);
    let transport = Blocking::new(ScriptedTransport::new(replies, &mut sent));

    let outcome = block_on(run_session(transport));
    black_box(&outcome);

    // The STARTTLS path: the scripted server offers STARTTLS and accepts
    // it, then the handshake fails on the script's end, but every part of
    // the upgrade is linked.
    let mut tls_sent = [0u8; 1024];
    let replies = black_box(STARTTLS_REPLIES);
    let transport = Blocking::new(ScriptedTransport::new(replies, &mut tls_sent));
    let tls_outcome = block_on(run_starttls_session(transport));
    black_box(&tls_outcome);

    black_box(&sent);
    black_box(&tls_sent);
    loop {
        core::hint::spin_loop();
    }
}

/// Runs a client session over `transport`: greeting, EHLO, one pipelined
/// transaction with a composed message, and QUIT. Returns the number of
/// recipients the message was delivered to.
async fn run_session<T: Read + Write>(transport: T) -> Result<usize, Error<T::Error>> {
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut results = [RecipientResult::NotAttempted; 1];
    let config = Config::new("proof.example");
    let envelope = Envelope::new("device@proof.example", &["ops@proof.example"]);
    let to = [Mailbox::new("ops@proof.example")];
    let headers = Headers {
        from: Mailbox::with_name("Pump 7", "device@proof.example"),
        to: &to,
        cc: &[],
        subject: "Pressure above limit",
        date: Some(Date {
            unix_seconds: 1_796_000_000,
            utc_offset_minutes: 60,
        }),
        message_id: Some(MessageId {
            unique: "42.7",
            domain: "proof.example",
        }),
        extra: &[],
    };
    let body: &[u8] = black_box(b"Pressure 6.4 bar at 12:00.\r\n");
    with_session(transport, &mut buf, &config, async |client| {
        let delivery = client
            .send_message(&envelope, &headers, body, &mut results)
            .await?;
        Ok(delivery.delivered)
    })
    .await
}

/// Replies of a scripted server that offers STARTTLS and accepts it.
const STARTTLS_REPLIES: &[u8] = b"220 proof.example ESMTP\r\n\
250-proof.example\r\n250 STARTTLS\r\n220 2.0.0 ready\r\n";

/// DER bytes in place of the pinned CA certificate. The handshake never
/// gets as far as parsing it.
const CA_DER: &[u8] = &[0x30, 0x00];

/// Connects under the `Required` TLS policy with embedded-tls and sends
/// one message: the session a device runs against a submission server.
async fn run_starttls_session<T: Read + Write>(transport: T) -> usize {
    let mut buf = [0u8; MIN_BUFFER_LEN];
    let mut read_buffer = [0u8; READ_BUFFER_LEN];
    let mut write_buffer = [0u8; WRITE_BUFFER_LEN];
    let upgrade = EmbeddedTls::new(
        "proof.example",
        black_box(CA_DER),
        CounterRng::new(black_box(7)),
        &mut read_buffer,
        &mut write_buffer,
    );
    let config = Config::new("proof.example");
    let client = embedded_smtp::client::Client::connect_with_tls(
        transport,
        &mut buf,
        &config,
        TlsPolicy::Required,
        upgrade,
    )
    .await;
    let Ok(mut client) = client else {
        return 0;
    };
    let mut results = [RecipientResult::NotAttempted; 1];
    let envelope = Envelope::new("device@proof.example", &["ops@proof.example"]);
    let body: &[u8] = black_box(b"Subject: over TLS\r\n\r\nPressure 6.4 bar.\r\n");
    let delivered = client
        .send_slice(&envelope, body, &mut results)
        .await
        .map_or(0, |delivery| delivery.delivered);
    let transport: Result<MaybeTls<T, _>, _> = client.quit().await;
    black_box(&transport);
    delivered
}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
