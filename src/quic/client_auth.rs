//! Client certificates (mutual TLS): whether a server asks for them, which CAs it trusts
//! for them, and the peer's certificate chain as the application sees it.
//!
//! A client presents a certificate when its [`Config`](super::Config) has one
//! ([`Config::set_certificate_chain_pem`](super::Config::set_certificate_chain_pem)); a
//! server verifies it against the roots given here (chain, validity period, the client
//! authentication key usage) during the handshake, and a failure ends the handshake with
//! a TLS alert (CRYPTO_ERROR 0x100 + the alert), before any HTTP/3.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::error::ConfigError;

/// Whether a server asks clients for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuthMode {
    /// It does not (the default).
    #[default]
    Off,
    /// It asks; a client without one is still served, a client with one that does not
    /// verify is refused. The application tells them apart with
    /// [`Connection::peer_certificates`](super::Connection::peer_certificates).
    Request,
    /// It refuses clients without a certificate that verifies.
    Require,
}

/// A server's client-certificate policy: the mode and the CAs it trusts.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClientAuth {
    pub(crate) mode: ClientAuthMode,
    pub(crate) roots: Vec<CertificateDer<'static>>,
}

impl ClientAuth {
    /// The verifier for rustls's server configuration; `None` when client certificates are
    /// off.
    pub(crate) fn verifier(
        &self,
        provider: Arc<CryptoProvider>,
    ) -> Result<Option<Arc<dyn ClientCertVerifier>>, ConfigError> {
        if self.mode == ClientAuthMode::Off {
            return Ok(None);
        }
        let mut roots = RootCertStore::empty();
        for cert in &self.roots {
            roots.add(cert.clone()).map_err(|e| {
                ConfigError::new(format!("client CA roots: unusable certificate ({e})"))
            })?;
        }
        let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let builder = match self.mode {
            ClientAuthMode::Request => builder.allow_unauthenticated(),
            _ => builder,
        };
        builder
            .build()
            .map(Some)
            .map_err(|e| ConfigError::new(format!("client certificate verification: {e}")))
    }
}

/// The certificate chain a peer presented (end-entity first, DER), from quinn-proto's
/// handshake data; `None` before the handshake or when it presented none.
pub(crate) fn peer_chain(quinn: &quinn_proto::Connection) -> Option<Vec<CertificateDer<'static>>> {
    quinn
        .crypto_session()
        .peer_identity()?
        .downcast::<Vec<CertificateDer<'static>>>()
        .ok()
        .map(|chain| *chain)
        .filter(|chain| !chain.is_empty())
}
