//! An allocation-free SMTP client and a minimal ESMTP server for devices.
//!
//! Everything runs over the [`embedded_io_async`] `Read` and `Write` traits,
//! so the same code serves an embassy-net socket on a microcontroller, a
//! WebAssembly host and a std TCP stream. Callers own every buffer; the
//! library never allocates and uses `std` only in [`host`] (feature `std`).
//!
//! Layers, from the bottom:
//!
//! - [`codec`]: pure parsing and encoding, no I/O. Reply parsing, EHLO
//!   keywords, command encoding, mailbox syntax, dot-stuffing and message
//!   composition, all as streaming state machines.
//! - [`client`]: the sending side as `async fn`s over a transport.
//! - [`server`]: a minimal ESMTP receiving session (EHLO, SIZE) that hands
//!   each message to a caller's handler.
//! - [`blocking`]: runs the same async code over a blocking transport.
//! - [`tls`]: TLS policies, STARTTLS and the TLS transports (embedded-tls
//!   with feature `tls`, rustls on hosts with feature `rustls`).
//! - `host` (feature `std`): TCP connect with timeouts and a bound source
//!   address, adapters for std and tokio sockets, a threaded listener for
//!   the server.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "std", test))]
extern crate std;

// The logging macros must be defined before the modules that use them.
#[macro_use]
mod fmt;

pub mod blocking;
pub mod client;
pub mod codec;
#[cfg(feature = "std")]
pub mod host;
pub mod server;
pub mod tls;
