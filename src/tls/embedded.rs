//! TLS 1.3 through embedded-tls 0.19, without heap (feature `tls`).
//!
//! [`EmbeddedTls`] is a [`TlsUpgrade`] for any `embedded_io_async`
//! transport: pass it to
//! [`Client::connect_with_tls`](crate::client::Client::connect_with_tls),
//! or call [`TlsUpgrade::upgrade`] on a socket yourself for implicit TLS.
//!
//! # What it can reach
//!
//! - TLS 1.3 only. A server that offers at most TLS 1.2 aborts the
//!   handshake with a `protocol_version` alert.
//! - Cipher suite TLS_AES_128_GCM_SHA256, which every TLS 1.3 server
//!   implements (RFC 8446 section 9.1), and key exchange on P-256 only.
//! - Certificates are verified against one pinned CA certificate (DER),
//!   with no trust store. Signatures: ECDSA P-256 with SHA-256; ECDSA P-384
//!   with feature `tls-p384`; Ed25519 with feature `tls-ed25519`. RSA
//!   certificates fail, because embedded-tls verifies RSA only with a heap.
//! - Host names are checked against the first 3 DNS subject alternative
//!   names, then the common name. A DNS name longer than 64 bytes makes
//!   the certificate fail to decode. IP address names are not checked, so
//!   connect by DNS name.
//! - The chain must be sent leaf first and end with a certificate that the
//!   pinned CA signed (or the CA itself). embedded-tls 0.19 checks each
//!   signature and the validity dates, but not basic constraints, key usage
//!   or name constraints.
//!
//! # Validity dates
//!
//! The clock is a type parameter implementing [`TlsClock`]. With the
//! default [`NoClock`], embedded-tls 0.19 skips the `notBefore` and
//! `notAfter` checks of every certificate in the chain, so an expired
//! certificate that the pinned CA signed is accepted. With a clock, each
//! certificate the server sends must be valid at `now()`. The pinned CA
//! certificate's own dates are never checked.
//!
//! # Memory
//!
//! The caller passes two record buffers:
//!
//! - receive: [`READ_BUFFER_LEN`] (16,640) bytes fits any record a server
//!   may send (2^14 bytes of plaintext plus 256 bytes of expansion,
//!   RFC 8446 section 5.2). A smaller buffer fails on the first larger
//!   record, usually the certificate chain.
//! - send: [`WRITE_BUFFER_LEN`] (4,096) bytes is plenty. SMTP commands
//!   are short and message data is split into records of the buffer's
//!   size minus 128 bytes of record overhead.
//!
//! The verifier keeps a copy of the server's certificate chain of up to
//! [`CERT_CHAIN_LEN`] bytes inside the handshake future; a longer chain
//! fails with `OutOfMemory`. The `upgrade` future measured 11,736 bytes
//! (the chain copy plus about 7.5 KiB) and a [`TlsStream`] 1,312 bytes
//! plus the transport, on x86_64 with Rust 1.95 (this module's
//! `future_and_stream_sizes` test).

use core::fmt;
use core::marker::PhantomData;

use embedded_io::{ErrorKind, ErrorType};
use embedded_io_async::{Read, Write};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, CryptoRngCore, TlsConfig, TlsConnection,
    TlsContext, TlsVerifier, UnsecureProvider,
};
pub use embedded_tls::{NoClock, TlsClock, TlsError};
pub use rand_core::{CryptoRng, RngCore};

use super::TlsUpgrade;

/// Receive record buffer length that fits any TLS record.
pub const READ_BUFFER_LEN: usize = 16_640;

/// Recommended send record buffer length.
pub const WRITE_BUFFER_LEN: usize = 4096;

/// Maximum size in bytes of the server's certificate chain as sent in its
/// Certificate message.
pub const CERT_CHAIN_LEN: usize = 4096;

/// Settings of one embedded-tls handshake: server name, trust anchor, RNG
/// and record buffers. Consumed by [`TlsUpgrade::upgrade`].
///
/// `R` is a rand_core 0.6 RNG; `C` the clock for validity dates (see the
/// module docs for what [`NoClock`] means).
pub struct EmbeddedTls<'a, R, C = NoClock> {
    server_name: &'a str,
    ca: Option<&'a [u8]>,
    rng: R,
    read_buffer: &'a mut [u8],
    write_buffer: &'a mut [u8],
    clock: PhantomData<C>,
}

impl<R, C> fmt::Debug for EmbeddedTls<'_, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedTls")
            .field("server_name", &self.server_name)
            .field("verifies_certificate", &self.ca.is_some())
            .field("read_buffer_len", &self.read_buffer.len())
            .field("write_buffer_len", &self.write_buffer.len())
            .finish_non_exhaustive()
    }
}

impl<'a, R: RngCore + CryptoRng> EmbeddedTls<'a, R, NoClock> {
    /// Creates a handshake that verifies the server's certificate chain
    /// against `ca_der`, a CA certificate in DER form, and checks that the
    /// certificate names `server_name` (at most 64 bytes).
    ///
    /// Validity dates are not checked until a clock is set with
    /// [`with_clock`](Self::with_clock).
    pub fn new(
        server_name: &'a str,
        ca_der: &'a [u8],
        rng: R,
        read_buffer: &'a mut [u8],
        write_buffer: &'a mut [u8],
    ) -> Self {
        Self::with_trust(server_name, Some(ca_der), rng, read_buffer, write_buffer)
    }

    /// Creates a handshake that accepts any certificate for any name.
    ///
    /// The connection is encrypted but not authenticated: anyone on the
    /// path can impersonate the server and read everything, credentials
    /// included. Use it only for tests against your own servers.
    pub fn insecure_no_verification(
        server_name: &'a str,
        rng: R,
        read_buffer: &'a mut [u8],
        write_buffer: &'a mut [u8],
    ) -> Self {
        Self::with_trust(server_name, None, rng, read_buffer, write_buffer)
    }

    fn with_trust(
        server_name: &'a str,
        ca: Option<&'a [u8]>,
        rng: R,
        read_buffer: &'a mut [u8],
        write_buffer: &'a mut [u8],
    ) -> Self {
        Self {
            server_name,
            ca,
            rng,
            read_buffer,
            write_buffer,
            clock: PhantomData,
        }
    }
}

impl<'a, R, C> EmbeddedTls<'a, R, C> {
    /// Checks validity dates against the clock type `C2`.
    pub fn with_clock<C2: TlsClock>(self) -> EmbeddedTls<'a, R, C2> {
        EmbeddedTls {
            server_name: self.server_name,
            ca: self.ca,
            rng: self.rng,
            read_buffer: self.read_buffer,
            write_buffer: self.write_buffer,
            clock: PhantomData,
        }
    }
}

/// Crypto provider that verifies the chain against the pinned CA.
struct VerifyingProvider<'a, R, C: TlsClock> {
    rng: R,
    verifier: CertVerifier<'a, Aes128GcmSha256, C, CERT_CHAIN_LEN>,
}

impl<R: RngCore + CryptoRng, C: TlsClock> CryptoProvider for VerifyingProvider<'_, R, C> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate is ever sent, so nothing is signed.
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

impl<'a, P, R, C> TlsUpgrade<P> for EmbeddedTls<'a, R, C>
where
    P: Read + Write + 'a,
    R: RngCore + CryptoRng,
    C: TlsClock,
{
    type Stream = TlsStream<'a, P>;

    async fn upgrade(self, plain: P) -> Result<TlsStream<'a, P>, EmbeddedTlsError> {
        let config = TlsConfig::new().with_server_name(self.server_name);
        let mut connection = TlsConnection::new(plain, self.read_buffer, self.write_buffer);
        let opened = match self.ca {
            Some(ca) => {
                let provider = VerifyingProvider::<R, C> {
                    rng: self.rng,
                    verifier: CertVerifier::new(Certificate::X509(ca)),
                };
                connection.open(TlsContext::new(&config, provider)).await
            }
            None => {
                let provider = UnsecureProvider::new::<Aes128GcmSha256>(self.rng);
                connection.open(TlsContext::new(&config, provider)).await
            }
        };
        opened.map_err(EmbeddedTlsError)?;
        Ok(TlsStream(connection))
    }

    fn is_transient(error: &EmbeddedTlsError) -> bool {
        match error.0 {
            // End of stream during the handshake is permanent: it is how
            // some servers without TLS 1.3 refuse the ClientHello.
            TlsError::Io(kind) => matches!(
                kind,
                ErrorKind::TimedOut
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::NotConnected
                    | ErrorKind::BrokenPipe
                    | ErrorKind::Interrupted
            ),
            _ => false,
        }
    }
}

/// A TLS 1.3 connection established by [`EmbeddedTls`].
pub struct TlsStream<'a, P>(TlsConnection<'a, P, Aes128GcmSha256>)
where
    P: Read + Write + 'a;

impl<'a, P: Read + Write + 'a> TlsStream<'a, P> {
    /// Sends close_notify and returns the transport. On failure the
    /// transport is returned with the error.
    pub async fn close(self) -> Result<P, (P, EmbeddedTlsError)> {
        self.0
            .close()
            .await
            .map_err(|(io, e)| (io, EmbeddedTlsError(e)))
    }
}

impl<'a, P: Read + Write + 'a> fmt::Debug for TlsStream<'a, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream").finish_non_exhaustive()
    }
}

impl<'a, P: Read + Write + 'a> ErrorType for TlsStream<'a, P> {
    type Error = EmbeddedTlsError;
}

impl<'a, P: Read + Write + 'a> Read for TlsStream<'a, P> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, EmbeddedTlsError> {
        self.0.read(buf).await.map_err(EmbeddedTlsError)
    }
}

impl<'a, P: Read + Write + 'a> Write for TlsStream<'a, P> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, EmbeddedTlsError> {
        self.0.write(buf).await.map_err(EmbeddedTlsError)
    }

    async fn flush(&mut self) -> Result<(), EmbeddedTlsError> {
        self.0.flush().await.map_err(EmbeddedTlsError)
    }
}

/// Error of an embedded-tls handshake or connection, with a description
/// of the likely cause.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EmbeddedTlsError(pub TlsError);

impl embedded_io::Error for EmbeddedTlsError {
    fn kind(&self) -> ErrorKind {
        match self.0 {
            TlsError::Io(kind) => kind,
            TlsError::IoError | TlsError::ConnectionClosed => ErrorKind::ConnectionAborted,
            _ => ErrorKind::InvalidData,
        }
    }
}

impl fmt::Display for EmbeddedTlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            TlsError::InvalidCertificate => f.write_str(
                "certificate rejected: not signed by the pinned CA, not issued for the \
                 server name, or outside its validity dates",
            ),
            TlsError::InvalidSignatureScheme => f.write_str(
                "unsupported certificate signature algorithm: only ECDSA P-256 is built in \
                 (P-384 and Ed25519 by feature, RSA not at all)",
            ),
            TlsError::InvalidSignature => f.write_str("server signature does not verify"),
            TlsError::HandshakeAborted(_, alert) => write!(
                f,
                "server aborted the handshake with alert {alert:?}; embedded-tls speaks \
                 TLS 1.3 with P-256 only"
            ),
            TlsError::DecodeError => f.write_str(
                "malformed certificate or handshake message (DNS names over 64 bytes \
                 cannot be decoded)",
            ),
            TlsError::OutOfMemory => {
                write!(f, "server certificate chain exceeds {CERT_CHAIN_LEN} bytes")
            }
            TlsError::InsufficientSpace => f.write_str(
                "server name longer than 64 bytes, or a record larger than the receive buffer",
            ),
            TlsError::IoError | TlsError::ConnectionClosed => f.write_str(
                "connection closed in the middle of TLS; during the handshake this is how \
                 some servers without TLS 1.3 reject embedded-tls",
            ),
            TlsError::Io(kind) => write!(f, "transport error: {kind:?}"),
            other => write!(f, "TLS error {other:?}"),
        }
    }
}

impl core::error::Error for EmbeddedTlsError {}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::blocking::Blocking;

    /// A transport with no data, for sizing the futures.
    struct Empty;

    impl embedded_io::ErrorType for Empty {
        type Error = embedded_io::ErrorKind;
    }

    impl embedded_io::Read for Empty {
        fn read(&mut self, _: &mut [u8]) -> Result<usize, Self::Error> {
            Ok(0)
        }
    }

    impl embedded_io::Write for Empty {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Ok(buf.len())
        }

        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    /// Not random: enough for a handshake that never completes. An RNG
    /// of zeros would make P-256 key generation retry forever.
    struct CounterRng(u8);

    impl RngCore for CounterRng {
        fn next_u32(&mut self) -> u32 {
            let mut bytes = [0u8; 4];
            self.fill_bytes(&mut bytes);
            u32::from_le_bytes(bytes)
        }
        fn next_u64(&mut self) -> u64 {
            let mut bytes = [0u8; 8];
            self.fill_bytes(&mut bytes);
            u64::from_le_bytes(bytes)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for byte in dest {
                self.0 = self.0.wrapping_add(37);
                *byte = self.0;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl CryptoRng for CounterRng {}

    #[test]
    fn future_and_stream_sizes() {
        let mut read_buffer = [0u8; 64];
        let mut write_buffer = [0u8; 64];
        let upgrade = EmbeddedTls::new(
            "mail.example.org",
            &[],
            CounterRng(1),
            &mut read_buffer,
            &mut write_buffer,
        );
        let future = upgrade.upgrade(Blocking::new(Empty));
        let future_len = core::mem::size_of_val(&future);
        let stream_len = core::mem::size_of::<TlsStream<'_, Blocking<Empty>>>();
        std::println!("upgrade future: {future_len} bytes, TlsStream: {stream_len} bytes");
        // The module docs state these sizes; update both together.
        assert!(future_len <= CERT_CHAIN_LEN + 8 * 1024, "{future_len}");
        assert!(stream_len <= 1024 + 512, "{stream_len}");
    }

    #[test]
    fn end_of_stream_in_handshake_is_permanent() {
        let mut read_buffer = [0u8; READ_BUFFER_LEN];
        let mut write_buffer = [0u8; WRITE_BUFFER_LEN];
        let upgrade = EmbeddedTls::new(
            "mail.example.org",
            &[],
            CounterRng(1),
            &mut read_buffer,
            &mut write_buffer,
        );
        let error = crate::blocking::block_on(upgrade.upgrade(Blocking::new(Empty))).unwrap_err();
        assert!(matches!(error.0, TlsError::IoError), "{error:?}");
        type Upgrade<'a> = EmbeddedTls<'a, CounterRng>;
        assert!(!<Upgrade<'_> as TlsUpgrade<Blocking<Empty>>>::is_transient(
            &error
        ));
        let timeout = EmbeddedTlsError(TlsError::Io(ErrorKind::TimedOut));
        assert!(<Upgrade<'_> as TlsUpgrade<Blocking<Empty>>>::is_transient(
            &timeout
        ));
    }
}
