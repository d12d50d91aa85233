//! TLS through rustls (feature `rustls`, hosts only) for servers that
//! embedded-tls cannot reach: TLS 1.2, RSA certificates, chains that need
//! a trust store.
//!
//! rustls runs with the ring provider, TLS 1.2 and 1.3, and verifies
//! certificates with webpki against the system trust store
//! (rustls-native-certs) or a given CA file. The handshake and the
//! encrypted stream are blocking, over the socket of [`super::connect`]
//! with its timeouts, and reach the session through [`Blocking`].

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::vec::Vec;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};

use super::{StdStream, map_timeout};
use crate::blocking::Blocking;
use crate::tls::TlsUpgrade;

/// Reads CA certificates from a PEM file (every `CERTIFICATE` block) or a
/// DER file (one certificate).
pub fn load_certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let data = std::fs::read(path)?;
    let invalid = |message: std::string::String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            std::format!("{}: {message}", path.display()),
        )
    };
    if !data.starts_with(b"-----BEGIN") && !data.windows(10).any(|w| w == b"-----BEGIN") {
        if !is_der_sequence(&data) {
            return Err(invalid(
                "neither PEM nor DER: expected a CERTIFICATE block or one DER-encoded certificate"
                    .into(),
            ));
        }
        return Ok(std::vec![CertificateDer::from(data)]);
    }
    let certificates = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(std::format!("invalid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(invalid("no CERTIFICATE block".into()));
    }
    Ok(certificates)
}

/// Returns true when `data` is exactly one DER SEQUENCE with a definite
/// length, the outer shape of an X.509 certificate (RFC 5280 section 4.1).
fn is_der_sequence(data: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = data else {
        return false;
    };
    let (len, content) = match *first {
        len @ 0..=0x7f => (usize::from(len), rest),
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            let Some((bytes, content)) = rest.split_at_checked(count) else {
                return false;
            };
            let len = bytes
                .iter()
                .fold(0usize, |len, &b| (len << 8) | usize::from(b));
            (len, content)
        }
        _ => return false,
    };
    content.len() == len
}

// rustls 0.23.48 deprecates the ring provider because it has no
// post-quantum key exchange. The aws-lc-rs provider has it, but building it
// needs cmake and a C toolchain that hosts of this crate may lack.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds a rustls client configuration that trusts the certificates in
/// `ca_file` (PEM or DER), or the system trust store when it is `None`.
///
/// # Errors
///
/// The file cannot be read or holds no valid certificate, or the system
/// store has no usable certificate.
pub fn rustls_config(ca_file: Option<&Path>) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for certificate in load_certificates(path)? {
                roots.add(certificate).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        std::format!("{}: unusable CA certificate: {e}", path.display()),
                    )
                })?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    std::format!(
                        "no usable CA certificate in the system trust store ({} errors); \
                         pass a CA file",
                        native.errors.len()
                    ),
                ));
            }
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Builds a rustls client configuration that accepts any certificate for
/// any name. Handshake signatures are still checked, but anyone on the
/// path can impersonate the server and read the session, credentials
/// included. Use it only for tests against your own servers.
pub fn rustls_config_insecure_no_verification() -> io::Result<Arc<ClientConfig>> {
    let provider = provider();
    let verifier = Arc::new(AcceptAnyCertificate(provider.clone()));
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// rustls handshake settings: the client configuration and the server name
/// checked against the certificate (a DNS name or an IP address).
#[derive(Debug, Clone)]
pub struct RustlsUpgrade {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl RustlsUpgrade {
    /// Creates the settings for one handshake with `server_name`.
    ///
    /// # Errors
    ///
    /// `server_name` is neither a valid DNS name nor an IP address.
    pub fn new(config: Arc<ClientConfig>, server_name: &str) -> io::Result<Self> {
        let server_name = ServerName::try_from(server_name)
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    std::format!("invalid TLS server name {server_name:?}: {e}"),
                )
            })?
            .to_owned();
        Ok(Self {
            config,
            server_name,
        })
    }
}

/// A rustls client stream over a TCP socket, implementing the blocking
/// `embedded_io` traits. Timeouts of the socket show as
/// `io::ErrorKind::TimedOut`.
#[derive(Debug)]
pub struct RustlsStream(StreamOwned<ClientConnection, TcpStream>);

impl RustlsStream {
    /// Returns the rustls connection, for example to read the negotiated
    /// protocol version.
    pub fn connection(&self) -> &ClientConnection {
        &self.0.conn
    }
}

impl embedded_io::ErrorType for RustlsStream {
    type Error = io::Error;
}

impl embedded_io::Read for RustlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.0, buf).map_err(|e| map_timeout(e, "TLS read from the SMTP peer"))
    }
}

impl embedded_io::Write for RustlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(&mut self.0, buf).map_err(|e| map_timeout(e, "TLS write to the SMTP peer"))
    }

    fn flush(&mut self) -> io::Result<()> {
        io::Write::flush(&mut self.0).map_err(|e| map_timeout(e, "TLS write to the SMTP peer"))
    }
}

impl TlsUpgrade<StdStream> for RustlsUpgrade {
    type Stream = Blocking<RustlsStream>;

    async fn upgrade(self, plain: StdStream) -> io::Result<Blocking<RustlsStream>> {
        let mut socket = plain.into_inner().into_inner();
        let mut connection = ClientConnection::new(self.config, self.server_name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        while connection.is_handshaking() {
            connection
                .complete_io(&mut socket)
                .map_err(|e| map_timeout(e, "TLS handshake with the SMTP peer"))?;
        }
        // The client's last handshake flight may still be queued.
        while connection.wants_write() {
            connection.write_tls(&mut socket)?;
        }
        Ok(Blocking::new(RustlsStream(StreamOwned::new(
            connection, socket,
        ))))
    }

    /// Timeouts and resets are transient. End of stream is not, because
    /// servers that reject the ClientHello may just close the connection.
    fn is_transient(error: &io::Error) -> bool {
        matches!(
            error.kind(),
            io::ErrorKind::TimedOut
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::Interrupted
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_shape_check() {
        assert!(is_der_sequence(&[0x30, 0x02, 0x05, 0x00]));
        let mut long = std::vec![0x30, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(0u8, 256));
        assert!(is_der_sequence(&long));
        assert!(!is_der_sequence(&long[..long.len() - 1]));
        assert!(!is_der_sequence(b"hello, not a certificate"));
        assert!(!is_der_sequence(&[]));
        assert!(!is_der_sequence(&[0x30]));
        assert!(!is_der_sequence(&[0x30, 0x80, 0x00, 0x00]));
        assert!(!is_der_sequence(&[0x30, 0x85, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn garbage_ca_file_rejected() {
        let dir = tempfile_dir();
        let path = dir.join("ca.txt");
        std::fs::write(&path, b"this is not a certificate\n").unwrap();
        let error = load_certificates(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            std::format!("{error}").contains("neither PEM nor DER"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(std::format!(
            "embedded-smtp-ca-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
