//! TLS on hosts: an OS RNG and a system clock for embedded-tls (features
//! `std` and `tls`), and a connect helper for either TLS backend.

use std::io;

use embedded_io::ErrorType;

use super::{ConnectOptions, StdStream, connect};
use crate::blocking::block_on;
use crate::client::{Client, Config, Error};
use crate::tls::{MaybeTls, MaybeTlsError, TlsPolicy, TlsUpgrade};

#[cfg(feature = "tls")]
pub use rand_core::OsRng;

/// Clock for certificate validity dates: the host's system time.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(feature = "tls")]
impl crate::tls::embedded::TlsClock for SystemClock {
    fn now() -> Option<u64> {
        // A clock before 1970 is as good as no clock: skip the date check.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|elapsed| elapsed.as_secs())
    }
}

/// embedded-tls handshake settings for hosts: the OS RNG, the system clock
/// for validity dates, and `ca_der` as the pinned CA certificate.
#[cfg(feature = "tls")]
pub fn embedded_tls<'a>(
    server_name: &'a str,
    ca_der: &'a [u8],
    read_buffer: &'a mut [u8],
    write_buffer: &'a mut [u8],
) -> crate::tls::embedded::EmbeddedTls<'a, OsRng, SystemClock> {
    crate::tls::embedded::EmbeddedTls::new(server_name, ca_der, OsRng, read_buffer, write_buffer)
        .with_clock::<SystemClock>()
}

/// Blocking client returned by [`connect_with_tls`], over the TLS stream
/// `S` of the chosen backend.
pub type TlsClient<'b, S> = Client<'b, MaybeTls<StdStream, S>>;

/// Session error of a [`connect_with_tls`] client.
pub type TlsClientError<S> = Error<MaybeTlsError<io::Error, <S as ErrorType>::Error>>;

/// Connects to `server` over TCP (see [`connect`]) and opens a blocking
/// client session with the given TLS policy and backend.
///
/// A failed TCP connect is returned as `Error::Io(MaybeTlsError::Plain(_))`.
///
/// ```no_run
/// use embedded_smtp::client::Config;
/// use embedded_smtp::host::{ConnectOptions, connect_with_tls, embedded_tls};
/// use embedded_smtp::tls::TlsPolicy;
/// use embedded_smtp::tls::embedded::{READ_BUFFER_LEN, WRITE_BUFFER_LEN};
///
/// let ca_der = std::fs::read("ca.der")?;
/// let mut read_buffer = vec![0u8; READ_BUFFER_LEN];
/// let mut write_buffer = vec![0u8; WRITE_BUFFER_LEN];
/// let upgrade = embedded_tls("mail.example.org", &ca_der, &mut read_buffer, &mut write_buffer);
/// let mut buf = [0u8; 2048];
/// let options = ConnectOptions::default();
/// let config = Config::new("host.example");
/// let client = connect_with_tls(
///     "mail.example.org:587", &options, &mut buf, &config, TlsPolicy::Required, upgrade,
/// );
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn connect_with_tls<'b, U>(
    server: &str,
    options: &ConnectOptions,
    buf: &'b mut [u8],
    config: &Config<'_>,
    policy: TlsPolicy,
    upgrade: U,
) -> Result<TlsClient<'b, U::Stream>, TlsClientError<U::Stream>>
where
    U: TlsUpgrade<StdStream>,
{
    let stream = connect(server, options).map_err(|e| Error::Io(MaybeTlsError::Plain(e)))?;
    block_on(Client::connect_with_tls(
        stream, buf, config, policy, upgrade,
    ))
}
