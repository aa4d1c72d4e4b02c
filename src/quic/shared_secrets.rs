//! What every endpoint built from one [`Config`](super::Config) shares, so that several
//! endpoints act as one server.
//!
//! A server that runs one endpoint per core (one socket each, on one port with
//! SO_REUSEPORT) gets a client's next connection on whichever endpoint the kernel picks.
//! For that connection to resume its TLS session, send 0-RTT, or skip address validation
//! with a NEW_TOKEN token, the endpoint must know the session and the token key of the one
//! that served the client before. So these live with the configuration rather than with
//! each endpoint:
//!
//! - the TLS session cache (rustls' stateful tickets: the ticket is a session id, the
//!   session stays in the server's cache);
//! - the key that seals Retry and NEW_TOKEN tokens, and the log of NEW_TOKEN tokens used
//!   (each validates one connection, whichever endpoint sees it);
//! - the key stateless resets are derived from, so that any endpoint can end a connection
//!   another one lost (RFC 9000 §10.3);
//! - a server's generated certificate, when none is configured: one for all endpoints.
//!
//! Copies of a `Config` share them too: a copy configures the same server.

use std::sync::{Arc, OnceLock};

use quinn_proto::crypto::{HandshakeTokenKey, HmacKey};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::{ServerSessionMemoryCache, StoresServerSessions};

use super::admission::UsedTokens;
use super::config::Identity;
use super::error::ConfigError;

/// TLS sessions a server keeps for resumption (stateful tickets; each is a few hundred
/// bytes), for all its endpoints. rustls's default of 256 is small for a server with many
/// clients.
const SERVER_SESSION_CACHE: usize = 4096;

/// The shared state (see the module documentation). Cheap to clone: every part is shared.
#[derive(Clone)]
pub(crate) struct SharedSecrets {
    pub(crate) sessions: Arc<dyn StoresServerSessions>,
    pub(crate) token_key: Arc<dyn HandshakeTokenKey>,
    pub(crate) used_tokens: Arc<UsedTokens>,
    pub(crate) reset_key: Arc<dyn HmacKey>,
    generated_identity: Arc<OnceLock<Identity>>,
}

impl SharedSecrets {
    /// Fresh keys from the system's random source.
    pub(crate) fn new() -> Self {
        Self::with_identity(Arc::new(OnceLock::new()))
    }

    /// New keys and an empty session cache, as a restarted server has, keeping the
    /// generated certificate (see `Config::rotate_secrets`).
    pub(crate) fn rotated(&self) -> Self {
        Self::with_identity(self.generated_identity.clone())
    }

    fn with_identity(generated_identity: Arc<OnceLock<Identity>>) -> Self {
        let random = SystemRandom::new();
        let mut token_master = [0u8; 64];
        let mut reset_secret = [0u8; 64];
        // The system's random source does not fail on Linux once booted; if it ever did,
        // keys of zeros would be guessable, so that is not an option either.
        random
            .fill(&mut token_master)
            .and_then(|()| random.fill(&mut reset_secret))
            .expect("the system's random number generator failed");
        let token_key = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, &[]).extract(&token_master);
        let reset_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &reset_secret);
        SharedSecrets {
            sessions: ServerSessionMemoryCache::new(SERVER_SESSION_CACHE),
            token_key: Arc::new(token_key),
            used_tokens: Arc::new(UsedTokens::default()),
            reset_key: Arc::new(reset_key),
            generated_identity,
        }
    }

    /// The certificate generated for a server without one: made by `generate` for the
    /// first endpoint, the same for every later one.
    pub(crate) fn generated_identity(
        &self,
        generate: impl FnOnce() -> Result<Identity, ConfigError>,
    ) -> Result<Identity, ConfigError> {
        if let Some(identity) = self.generated_identity.get() {
            return Ok(identity.clone());
        }
        let identity = generate()?;
        // Two endpoints made at once on two threads: the first one stored wins, and both
        // use it.
        Ok(self.generated_identity.get_or_init(|| identity).clone())
    }
}

impl std::fmt::Debug for SharedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecrets { .. }")
    }
}
