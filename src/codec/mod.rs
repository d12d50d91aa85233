//! Sans-I/O building blocks: parsers and encoders that never read or write a
//! transport and never allocate.

pub mod server;
