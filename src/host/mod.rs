//! Host transports over std sockets.

#[cfg(feature = "std")]
pub mod listener;
