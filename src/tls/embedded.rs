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
//!
//! # What is verified
//!
//! embedded-tls 0.19 checks the signature of each certificate by the next
//! one, and of the last one the server sends by the pinned CA. It does not
//! check what an issuing certificate may do, so this module adds its own
//! checks before embedded-tls runs (RFC 5280 section 6.1):
//!
//! - Every certificate above the server's own must be a CA: basicConstraints
//!   with cA TRUE, keyCertSign when it has keyUsage, and within the
//!   pathLenConstraint of every CA above it, the pinned CA included.
//!   Without this, any holder of an ordinary certificate from the pinned
//!   CA could sign a certificate for any host.
//! - Each issuer name equals the subject of the next certificate, and the
//!   last one's issuer equals the pinned CA's subject, byte for byte.
//! - The server's own certificate allows digitalSignature when it has
//!   keyUsage, and serverAuth when it has extendedKeyUsage. It may itself
//!   be a CA.
//! - A critical extension other than basicConstraints, keyUsage,
//!   extendedKeyUsage and subjectAltName fails the chain, so a CA with name
//!   constraints is rejected rather than trusted beyond them.
//! - The server name is matched against all DNS names of the certificate,
//!   ignoring ASCII case, with a wildcard only as a whole left-most label
//!   of a name with at least three labels. The common name counts only
//!   when the certificate has no DNS names (RFC 6125 section 6.4.4). IP
//!   address names are never checked, so an IP address as server name
//!   fails: connect by DNS name.
//! - The server must prove that it holds the certificate's key with a
//!   CertificateVerify signature. embedded-tls 0.19 alone completes a
//!   handshake in which the server skips that message.
//!
//! Not checked: revocation, name constraints (rejected when critical, as
//! RFC 5280 requires them to be, and ignored otherwise), certificate
//! policies, and the pinned CA's own dates and extensions other than
//! basicConstraints.
//!
//! # Which certificate to pin
//!
//! The server must send its chain leaf first, and the pinned certificate
//! must have issued the last certificate it sends, or be that certificate
//! when it is self-signed. For a server that sends its certificate and an
//! intermediate, pin the root that issued the intermediate: pinning the
//! intermediate fails, because embedded-tls checks the intermediate's
//! signature with the pinned key. A self-signed server certificate can be
//! pinned itself.
//!
//! # Limits of embedded-tls 0.19
//!
//! embedded-tls cannot decode a certificate (in the chain or pinned) with
//! more than 7 name components or a multi-valued one, more than 12
//! extensions, a common name over 64 bytes, or one of its first 3 DNS
//! names over 64 bytes. The server name has at most 64 bytes. The chain
//! must arrive in one TLS record (about 16 KiB) and fit [`CERT_CHAIN_LEN`]
//! bytes. Each of these fails with its own error message.
//!
//! # Validity dates
//!
//! The clock is a type parameter implementing [`TlsClock`]. With the
//! default [`NoClock`], no `notBefore` or `notAfter` date is checked, so an
//! expired certificate that the pinned CA signed is accepted. With a clock,
//! each certificate the server sends must be valid at `now()`. The pinned
//! CA certificate's own dates are never checked.
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
//! [`CERT_CHAIN_LEN`] bytes inside the handshake future, and a longer chain
//! fails. The `upgrade` future measured 7,256 bytes (the chain copy plus
//! about 3 KiB) and a [`TlsStream`] 1,312 bytes plus the transport, on
//! x86_64 with Rust 1.95 (this module's `future_and_stream_sizes` test).
//! The certificate checks parse each certificate again where they need it
//! instead of keeping it, so they add little stack while they run.

use core::fmt;
use core::marker::PhantomData;

use embedded_io::{ErrorKind, ErrorType};
use embedded_io_async::{Read, Write};
use embedded_tls::alert::AlertDescription;
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CertificateEntryRef, CertificateRef, CertificateVerifyRef,
    CryptoProvider, CryptoRngCore, TlsCipherSuite, TlsConfig, TlsConnection, TlsContext,
    TlsVerifier, UnsecureProvider,
};
pub use embedded_tls::{NoClock, TlsClock, TlsError};
pub use rand_core::{CryptoRng, RngCore};

pub use super::x509::CertificateError;
use super::{TlsUpgrade, x509};

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

/// Crypto provider that verifies the chain through [`ChainVerifier`].
struct VerifyingProvider<'v, 'a, R, C: TlsClock> {
    rng: R,
    verifier: &'v mut ChainVerifier<'a, C>,
}

impl<R: RngCore + CryptoRng, C: TlsClock> CryptoProvider for VerifyingProvider<'_, '_, R, C> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate is ever sent, so nothing is signed.
    type Signature = &'static [u8];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut *self.verifier)
    }
}

/// How far the server has authenticated itself in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// No certificate accepted yet.
    Started,
    /// The chain passed, and its CertificateVerify signature is due.
    CertificateAccepted,
    /// The CertificateVerify signature matched the accepted chain.
    Authenticated,
}

/// Verifier that runs the checks of [`x509::check_chain`] and then
/// embedded-tls's `CertVerifier`, which checks the signatures.
///
/// It records why it rejected a chain, because embedded-tls passes only a
/// `TlsError` on. It also tracks whether the server proved possession of
/// the accepted certificate: embedded-tls 0.19 completes a handshake in
/// which the server skips its Certificate or CertificateVerify message,
/// and it panics on a CertificateVerify without a Certificate before it.
struct ChainVerifier<'a, C: TlsClock> {
    inner: CertVerifier<'a, Aes128GcmSha256, C, CERT_CHAIN_LEN>,
    ca: &'a [u8],
    server_name: &'a str,
    progress: Progress,
    rejection: Option<CertificateError>,
}

/// Entries of one Certificate message: embedded-tls 0.19 parses at most 16.
const MAX_CHAIN_CERTIFICATES: usize = 16;

impl<'a, C: TlsClock> ChainVerifier<'a, C> {
    fn new(ca: &'a [u8], server_name: &'a str) -> Self {
        Self {
            inner: CertVerifier::new(Certificate::X509(ca)),
            ca,
            server_name,
            progress: Progress::Started,
            rejection: None,
        }
    }

    /// Runs this crate's checks on `chain` and returns the name that
    /// embedded-tls's own host name check must then accept.
    fn check(&self, chain: &CertificateRef<'_>) -> Result<HostName, CertificateError> {
        let mut ders: [&[u8]; MAX_CHAIN_CERTIFICATES] = [&[]; MAX_CHAIN_CERTIFICATES];
        for (index, (entry, der)) in chain.entries.iter().zip(&mut ders).enumerate() {
            match entry {
                CertificateEntryRef::X509(bytes) => *der = bytes,
                CertificateEntryRef::RawPublicKey(_) => {
                    return Err(CertificateError::Malformed { index });
                }
            }
        }
        let ders = ders.get(..chain.entries.len()).unwrap_or_default();
        let (leaf, matched) = x509::check_chain(ders, self.ca, self.server_name, C::now())?;
        embedded_tls_host_name(&leaf, matched, self.server_name)
    }
}

/// Host name as embedded-tls 0.19 stores it.
type HostName = heapless::String<64>;

/// Returns a name that embedded-tls 0.19's host name check accepts for
/// `leaf`, whose name `matched` the server name.
///
/// embedded-tls compares the server name with the first 3 DNS names and
/// then the common name. When the server name matched a later DNS name, a
/// name that one of the first 3 matches replaces it. [`x509::check_chain`]
/// has matched the real server name against every DNS name before, so the
/// replacement only keeps embedded-tls from rejecting a certificate that
/// passed.
fn embedded_tls_host_name(
    leaf: &x509::Certificate<'_>,
    matched: x509::NameMatch,
    server_name: &str,
) -> Result<HostName, CertificateError> {
    let checked_by_embedded_tls = match matched {
        x509::NameMatch::CommonName => true,
        x509::NameMatch::DnsName(index) => index < 3,
    };
    if checked_by_embedded_tls {
        return HostName::try_from(server_name).map_err(|_| CertificateError::ServerNameInvalid);
    }
    leaf.dns_names()
        .take(3)
        .find_map(name_matched_by)
        .ok_or(CertificateError::ServerNameBeyondEmbeddedTls)
}

/// Returns a host name that the certificate name `pattern` matches in
/// embedded-tls 0.19: `pattern` itself, or `x.example.com` for
/// `*.example.com`.
fn name_matched_by(pattern: &[u8]) -> Option<HostName> {
    let mut name = HostName::new();
    let rest = match pattern.strip_prefix(b"*.") {
        Some(suffix) => {
            name.push_str("x.").ok()?;
            suffix
        }
        None => pattern,
    };
    name.push_str(core::str::from_utf8(rest).ok()?).ok()?;
    // embedded-tls accepts a wildcard only in a name of 3 or more labels.
    let wildcard_too_short = rest.len() < pattern.len() && name.split('.').count() < 3;
    (x509::is_host_name(name.as_bytes()) && !wildcard_too_short).then_some(name)
}

impl<C: TlsClock> TlsVerifier<Aes128GcmSha256> for ChainVerifier<'_, C> {
    fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
        self.inner.set_hostname_verification(hostname)
    }

    fn verify_certificate(
        &mut self,
        transcript: &<Aes128GcmSha256 as TlsCipherSuite>::Hash,
        chain: CertificateRef<'_>,
    ) -> Result<(), TlsError> {
        self.progress = Progress::Started;
        let host_name = match self.check(&chain) {
            Ok(host_name) => host_name,
            Err(rejection) => {
                debug!("server certificate rejected: {}", rejection);
                self.rejection = Some(rejection);
                return Err(TlsError::InvalidCertificate);
            }
        };
        self.inner.set_hostname_verification(&host_name)?;
        let chain_len = chain
            .entries
            .iter()
            .map(|entry| match entry {
                CertificateEntryRef::X509(der) | CertificateEntryRef::RawPublicKey(der) => {
                    der.len()
                }
            })
            .fold(0usize, usize::saturating_add);
        if let Err(error) = self.inner.verify_certificate(transcript, chain) {
            // The checks above passed, so these errors come from the
            // signatures or from embedded-tls's own limits.
            self.rejection = match error {
                TlsError::InvalidCertificate => Some(CertificateError::NotSignedByPinnedCa),
                TlsError::InvalidSignatureScheme => {
                    Some(CertificateError::UnsupportedSignatureAlgorithm)
                }
                TlsError::OutOfMemory => Some(CertificateError::ChainTooLarge { len: chain_len }),
                _ => None,
            };
            return Err(error);
        }
        self.progress = Progress::CertificateAccepted;
        Ok(())
    }

    fn verify_signature(&mut self, verify: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
        if self.progress != Progress::CertificateAccepted {
            return Err(TlsError::InvalidHandshake);
        }
        if let Err(error) = self.inner.verify_signature(verify) {
            debug!("server CertificateVerify rejected: {:?}", error);
            // DecodeError means a signature that is not DER or a key that
            // is not a curve point.
            self.rejection = Some(match error {
                TlsError::InvalidSignatureScheme => CertificateError::UnsupportedSignatureAlgorithm,
                _ => CertificateError::HandshakeSignatureInvalid,
            });
            return Err(error);
        }
        self.progress = Progress::Authenticated;
        Ok(())
    }
}

/// Transport under the TLS layer that records whether the server sent
/// anything, to tell a server that rejects the ClientHello by closing the
/// connection from one that closes in the middle of the handshake.
struct Transport<P> {
    io: P,
    received: bool,
}

impl<P: ErrorType> ErrorType for Transport<P> {
    type Error = P::Error;
}

impl<P: Read> Read for Transport<P> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, P::Error> {
        let len = self.io.read(buf).await?;
        self.received |= len > 0;
        Ok(len)
    }
}

impl<P: Write> Write for Transport<P> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, P::Error> {
        self.io.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), P::Error> {
        self.io.flush().await
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
        let transport = Transport {
            io: plain,
            received: false,
        };
        let mut connection = TlsConnection::new(transport, self.read_buffer, self.write_buffer);
        let opened = match self.ca {
            Some(ca) => {
                let mut verifier = ChainVerifier::<C>::new(ca, self.server_name);
                let provider = VerifyingProvider::<R, C> {
                    rng: self.rng,
                    verifier: &mut verifier,
                };
                let opened = connection.open(TlsContext::new(&config, provider)).await;
                match (opened, verifier.rejection) {
                    (Err(_), Some(rejection)) => Err(EmbeddedTlsError::Certificate(rejection)),
                    // NOTE: no test drives a server that skips its
                    // CertificateVerify; only the tracking in ChainVerifier
                    // is unit-tested.
                    (Ok(()), _) if verifier.progress != Progress::Authenticated => {
                        Err(EmbeddedTlsError::NotAuthenticated)
                    }
                    (opened, _) => opened.map_err(EmbeddedTlsError::Tls),
                }
            }
            None => {
                let provider = UnsecureProvider::new::<Aes128GcmSha256>(self.rng);
                let opened = connection.open(TlsContext::new(&config, provider)).await;
                opened.map_err(EmbeddedTlsError::Tls)
            }
        };
        match opened {
            Ok(()) => Ok(TlsStream(connection)),
            Err(EmbeddedTlsError::Tls(TlsError::IoError)) => {
                // End of stream. Taking the transport back sends a
                // close_notify alert, which a closed peer ignores.
                let transport = match connection.close().await {
                    Ok(transport) | Err((transport, _)) => transport,
                };
                Err(if transport.received {
                    EmbeddedTlsError::ClosedDuringHandshake
                } else {
                    EmbeddedTlsError::ClosedBeforeServerHello
                })
            }
            Err(error) => Err(error),
        }
    }

    /// Treats a close before the server's first reply as permanent: servers
    /// without TLS 1.3, P-256 or an ECDSA certificate reject the
    /// ClientHello that way, and a new attempt sends the same ClientHello.
    /// A close after the server started to reply, a timeout and a reset
    /// are transient.
    fn is_transient(error: &EmbeddedTlsError) -> bool {
        match error {
            EmbeddedTlsError::ClosedDuringHandshake => true,
            EmbeddedTlsError::Tls(TlsError::Io(kind)) => matches!(
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
pub struct TlsStream<'a, P>(TlsConnection<'a, Transport<P>, Aes128GcmSha256>)
where
    P: Read + Write + 'a;

impl<'a, P: Read + Write + 'a> TlsStream<'a, P> {
    /// Sends close_notify and returns the transport. On failure the
    /// transport is returned with the error.
    pub async fn close(self) -> Result<P, (P, EmbeddedTlsError)> {
        match self.0.close().await {
            Ok(transport) => Ok(transport.io),
            Err((transport, error)) => Err((transport.io, EmbeddedTlsError::Tls(error))),
        }
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
        self.0.read(buf).await.map_err(EmbeddedTlsError::Tls)
    }
}

impl<'a, P: Read + Write + 'a> Write for TlsStream<'a, P> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, EmbeddedTlsError> {
        self.0.write(buf).await.map_err(EmbeddedTlsError::Tls)
    }

    async fn flush(&mut self) -> Result<(), EmbeddedTlsError> {
        self.0.flush().await.map_err(EmbeddedTlsError::Tls)
    }
}

/// Error of an embedded-tls handshake or connection.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EmbeddedTlsError {
    /// The server's certificate chain or its handshake signature was
    /// rejected.
    Certificate(CertificateError),
    /// The server closed the connection during the handshake before it
    /// sent anything.
    ClosedBeforeServerHello,
    /// The server closed the connection during the handshake after it had
    /// started to reply.
    ClosedDuringHandshake,
    /// The server finished the handshake without sending a certificate
    /// chain and a CertificateVerify signature that were both verified.
    NotAuthenticated,
    /// Any other error that embedded-tls reports.
    Tls(TlsError),
}

impl embedded_io::Error for EmbeddedTlsError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Tls(TlsError::Io(kind)) => *kind,
            Self::Tls(TlsError::IoError | TlsError::ConnectionClosed)
            | Self::ClosedBeforeServerHello
            | Self::ClosedDuringHandshake => ErrorKind::ConnectionAborted,
            _ => ErrorKind::InvalidData,
        }
    }
}

impl fmt::Display for EmbeddedTlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate(error) => write!(f, "certificate rejected: {error}"),
            Self::ClosedBeforeServerHello => f.write_str(
                "server closed the connection during the TLS handshake before answering; it \
                 may not support TLS 1.3, P-256 key exchange or an ECDSA certificate",
            ),
            Self::ClosedDuringHandshake => {
                f.write_str("server closed the connection in the middle of the TLS handshake")
            }
            Self::NotAuthenticated => f.write_str(
                "server completed the TLS handshake without proving its identity (no verified \
                 certificate and signature)",
            ),
            Self::Tls(error) => display_tls_error(error, f),
        }
    }
}

fn display_tls_error(error: &TlsError, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match error {
        TlsError::HandshakeAborted(_, AlertDescription::ProtocolVersion) => f.write_str(
            "server rejected TLS 1.3 with a protocol_version alert; embedded-tls speaks only \
             TLS 1.3",
        ),
        TlsError::HandshakeAborted(_, AlertDescription::HandshakeFailure) => f.write_str(
            "server aborted the handshake with a handshake_failure alert: no common \
             parameters; embedded-tls offers TLS_AES_128_GCM_SHA256, P-256 and ECDSA \
             signatures only",
        ),
        TlsError::HandshakeAborted(_, alert) => {
            write!(f, "server aborted the TLS handshake with alert {alert:?}")
        }
        TlsError::InvalidRecord => f.write_str(
            "server sent data that is not a TLS record; check the port and whether it \
             expects STARTTLS or implicit TLS",
        ),
        // The verifier records its own rejections, so this comes from
        // parsing the Certificate message.
        TlsError::InvalidCertificate => f.write_str(
            "server's Certificate message is malformed or longer than one TLS record \
             (about 16 KiB), which embedded-tls 0.19 does not reassemble",
        ),
        TlsError::InvalidSignatureScheme => f.write_str(
            "unsupported signature algorithm: only ECDSA P-256 is built in \
             (P-384 and Ed25519 by feature, RSA not at all)",
        ),
        TlsError::InvalidSignature => f.write_str("server's Finished message does not verify"),
        TlsError::DecodeError => {
            f.write_str("embedded-tls could not decode a certificate or handshake message")
        }
        TlsError::OutOfMemory => {
            write!(f, "server certificate chain exceeds {CERT_CHAIN_LEN} bytes")
        }
        TlsError::InsufficientSpace => f.write_str(
            "server name longer than 64 bytes, or a record larger than the receive buffer",
        ),
        TlsError::IoError => f.write_str("server closed the connection"),
        TlsError::ConnectionClosed => f.write_str("server closed the TLS session"),
        TlsError::Io(kind) => write!(f, "transport error: {kind:?}"),
        other => write!(f, "TLS error {other:?}"),
    }
}

impl core::error::Error for EmbeddedTlsError {}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::string::ToString;

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
        assert!(future_len <= CERT_CHAIN_LEN + 4 * 1024, "{future_len}");
        assert!(stream_len <= 1024 + 512, "{stream_len}");
    }

    type Upgrade<'a> = EmbeddedTls<'a, CounterRng>;

    fn is_transient(error: &EmbeddedTlsError) -> bool {
        <Upgrade<'_> as TlsUpgrade<Blocking<Replay<'_>>>>::is_transient(error)
    }

    /// A transport that returns `input` and then end of stream, and
    /// accepts every write.
    struct Replay<'a>(&'a [u8]);

    impl embedded_io::ErrorType for Replay<'_> {
        type Error = embedded_io::ErrorKind;
    }

    impl embedded_io::Read for Replay<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            embedded_io::Read::read(&mut self.0, buf).map_err(|_| ErrorKind::Other)
        }
    }

    impl embedded_io::Write for Replay<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Ok(buf.len())
        }

        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn handshake_with(input: &[u8]) -> EmbeddedTlsError {
        let mut read_buffer = [0u8; READ_BUFFER_LEN];
        let mut write_buffer = [0u8; WRITE_BUFFER_LEN];
        let upgrade = EmbeddedTls::new(
            "mail.example.org",
            &[],
            CounterRng(1),
            &mut read_buffer,
            &mut write_buffer,
        );
        crate::blocking::block_on(upgrade.upgrade(Blocking::new(Replay(input)))).unwrap_err()
    }

    #[test]
    fn close_before_reply_is_permanent() {
        let error = handshake_with(b"");
        assert!(
            matches!(error, EmbeddedTlsError::ClosedBeforeServerHello),
            "{error:?}"
        );
        assert!(!is_transient(&error));
        assert!(
            error.to_string().contains("may not support TLS 1.3"),
            "{error}"
        );
    }

    #[test]
    fn close_after_reply_is_transient() {
        // A handshake record header that announces 16 bytes, then the end.
        let error = handshake_with(&[0x16, 0x03, 0x03, 0x00, 0x10, 0x02]);
        assert!(
            matches!(error, EmbeddedTlsError::ClosedDuringHandshake),
            "{error:?}"
        );
        assert!(is_transient(&error));
        let timeout = EmbeddedTlsError::Tls(TlsError::Io(ErrorKind::TimedOut));
        assert!(is_transient(&timeout));
    }

    #[test]
    fn plaintext_reply_names_the_port() {
        let error = handshake_with(b"220 mail.example.org ESMTP\r\n");
        assert!(
            matches!(error, EmbeddedTlsError::Tls(TlsError::InvalidRecord)),
            "{error:?}"
        );
        assert!(!is_transient(&error));
        assert!(error.to_string().contains("check the port"), "{error}");
    }

    fn chain_of<'a>(ders: &[&'a [u8]]) -> CertificateRef<'a> {
        let mut chain = CertificateRef::with_context(&[]);
        for der in ders {
            chain.add(CertificateEntryRef::X509(der)).unwrap();
        }
        chain
    }

    #[test]
    fn verifier_rejects_end_entity_issuer() {
        let ca = x509::tests::der(x509::tests::CA);
        let leaf = x509::tests::der(x509::tests::LEAF);
        let forged = x509::tests::der(x509::tests::FORGED);
        let mut verifier = ChainVerifier::<NoClock>::new(&ca, "victim.example");
        let transcript = Default::default();
        let result = verifier.verify_certificate(&transcript, chain_of(&[&forged, &leaf]));
        assert!(matches!(result, Err(TlsError::InvalidCertificate)));
        assert_eq!(
            verifier.rejection,
            Some(CertificateError::NotCa { index: 1 })
        );
        assert_eq!(verifier.progress, Progress::Started);
    }

    #[test]
    fn verifier_checks_signatures_after_own_checks() {
        let ca = x509::tests::der(x509::tests::CA);
        let other_ca = x509::tests::der(x509::tests::INT);
        let leaf = x509::tests::der(x509::tests::LEAF);
        let transcript = Default::default();

        let mut verifier = ChainVerifier::<NoClock>::new(&ca, "leaf.example");
        verifier
            .verify_certificate(&transcript, chain_of(&[&leaf]))
            .unwrap();
        assert_eq!(verifier.progress, Progress::CertificateAccepted);
        let verify = CertificateVerifyRef {
            signature_scheme: embedded_tls::SignatureScheme::EcdsaSecp256r1Sha256,
            signature: &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
        };
        assert!(verifier.verify_signature(verify).is_err());
        assert_eq!(
            verifier.rejection,
            Some(CertificateError::HandshakeSignatureInvalid)
        );
        assert_eq!(verifier.progress, Progress::CertificateAccepted);

        // The same issuer name with another key: only the signature fails.
        let twin = x509::tests::der(x509::tests::CA_TWIN);
        let mut verifier = ChainVerifier::<NoClock>::new(&twin, "leaf.example");
        let result = verifier.verify_certificate(&transcript, chain_of(&[&leaf]));
        assert!(matches!(result, Err(TlsError::InvalidCertificate)));
        assert_eq!(
            verifier.rejection,
            Some(CertificateError::NotSignedByPinnedCa)
        );

        let mut verifier = ChainVerifier::<NoClock>::new(&other_ca, "leaf.example");
        assert!(
            verifier
                .verify_certificate(&transcript, chain_of(&[&leaf]))
                .is_err()
        );
        assert_eq!(
            verifier.rejection,
            Some(CertificateError::IssuerMismatch {
                index: 0,
                pinned: true
            })
        );
    }

    #[test]
    fn certificate_verify_before_certificate_fails() {
        let ca = x509::tests::der(x509::tests::CA);
        let mut verifier = ChainVerifier::<NoClock>::new(&ca, "leaf.example");
        let verify = CertificateVerifyRef {
            signature_scheme: embedded_tls::SignatureScheme::EcdsaSecp256r1Sha256,
            signature: &[],
        };
        assert!(matches!(
            verifier.verify_signature(verify),
            Err(TlsError::InvalidHandshake)
        ));
    }

    #[test]
    fn stand_in_for_later_dns_name() {
        let der = x509::tests::der(x509::tests::SAN);
        let certificate = x509::Certificate::parse(&der).unwrap();
        let name = |matched| embedded_tls_host_name(&certificate, matched, "relay.example.com");
        assert_eq!(
            name(x509::NameMatch::DnsName(3)).unwrap().as_str(),
            "mail.example.org"
        );
        assert_eq!(
            name(x509::NameMatch::DnsName(0)).unwrap().as_str(),
            "relay.example.com"
        );
        let cases: [(&[u8], Option<&str>); 5] = [
            (b"mail.example.org", Some("mail.example.org")),
            (b"*.example.net", Some("x.example.net")),
            (b"*.net", None),
            (b"m*.example.net", None),
            (b"under_score.example", None),
        ];
        for (pattern, expected) in cases {
            let replacement = name_matched_by(pattern);
            assert_eq!(replacement.as_deref(), expected, "{pattern:?}");
        }
    }
}
