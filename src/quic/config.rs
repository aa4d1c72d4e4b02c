//! Endpoint configuration: TLS identity and trust, ALPN, transport limits, key logging.
//!
//! A [`Config`] is plain data plus parsed certificates; [`Config::build`] turns it into the
//! quinn-proto and rustls configurations an endpoint runs with. TLS is rustls with the *ring*
//! provider, TLS 1.3 only (as QUIC requires).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quinn_proto::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn_proto::{
    IdleTimeout, MtuDiscoveryConfig, TimeSource, TokenMemoryCache, TokenStore, TransportConfig,
    ValidationTokenConfig, VarInt,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::admission::{NEW_TOKEN_LIFETIME, RetryPolicy};
use super::client_auth::{ClientAuth, ClientAuthMode};
use super::error::ConfigError;
use super::quic_lb::ServerId;
use super::recovery::{CongestionControl, INITIAL_WINDOW_RANGE, LossDetection};
use super::shared_secrets::SharedSecrets;
use super::udp_payload::UDP_PAYLOAD_RANGE;

/// The host name a server's generated certificate is issued for when none is configured.
pub const DEFAULT_SELF_SIGNED_HOST: &str = "localhost";

/// Configuration of a server or client endpoint.
#[derive(Clone)]
pub struct Config {
    is_server: bool,
    identity: Option<Identity>,
    roots: RootCertStore,
    verify_peer: bool,
    alpn: Vec<Vec<u8>>,
    idle_timeout: Duration,
    max_streams_bidi: u64,
    max_streams_uni: u64,
    max_datagram_frame_size: u64,
    key_log: Option<Arc<KeyLogFile>>,
    mtu_discovery: bool,
    max_udp_payload_size: Option<u16>,
    max_gso_segments: usize,
    stream_receive_window: u64,
    send_window: u64,
    loss_detection: LossDetection,
    congestion_control: CongestionControl,
    initial_window: Option<u64>,
    enable_0rtt: bool,
    retry: RetryPolicy,
    client_auth: ClientAuth,
    qlog_dir: Option<PathBuf>,
    server_id: Option<ServerId>,
    /// Shared by every endpoint built from this configuration (and its copies).
    secrets: SharedSecrets,
}

/// A certificate chain with its private key.
#[derive(Clone)]
pub(crate) struct Identity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: Arc<PrivateKeyDer<'static>>,
}

impl Identity {
    fn fingerprint(&self) -> Option<[u8; 32]> {
        self.chain.first().map(|cert| sha256(cert.as_ref()))
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("is_server", &self.is_server)
            .field("has_identity", &self.identity.is_some())
            .field("roots", &self.roots.len())
            .field("verify_peer", &self.verify_peer)
            .field("alpn", &self.alpn)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_streams_bidi", &self.max_streams_bidi)
            .field("max_streams_uni", &self.max_streams_uni)
            .field("max_datagram_frame_size", &self.max_datagram_frame_size)
            .field("key_log", &self.key_log.as_ref().map(|k| &k.path))
            .field("mtu_discovery", &self.mtu_discovery)
            .field("max_udp_payload_size", &self.max_udp_payload_size)
            .field("loss_detection", &self.loss_detection)
            .field("congestion_control", &self.congestion_control)
            .field("initial_window", &self.initial_window)
            .field("enable_0rtt", &self.enable_0rtt)
            .field("retry", &self.retry)
            .field("client_auth", &self.client_auth.mode)
            .field("qlog_dir", &self.qlog_dir)
            .field("server_id", &self.server_id)
            .finish_non_exhaustive()
    }
}

/// What [`Config::build`] produces.
pub(crate) struct Built {
    pub(crate) server: Option<Arc<quinn_proto::ServerConfig>>,
    pub(crate) client: Option<ClientTls>,
    pub(crate) retry: RetryPolicy,
    pub(crate) fingerprint: Option<[u8; 32]>,
    pub(crate) allow_mtud: bool,
    pub(crate) max_gso_segments: usize,
}

impl Config {
    fn new(is_server: bool) -> Self {
        Config {
            is_server,
            identity: None,
            roots: RootCertStore::empty(),
            verify_peer: true,
            alpn: vec![b"h3".to_vec()],
            idle_timeout: Duration::from_secs(60),
            max_streams_bidi: 128,
            max_streams_uni: 128,
            max_datagram_frame_size: 0,
            key_log: None,
            mtu_discovery: false,
            max_udp_payload_size: None,
            max_gso_segments: 1,
            stream_receive_window: 1_250_000,
            send_window: 10_000_000,
            loss_detection: LossDetection::DEFAULT,
            congestion_control: CongestionControl::Cubic,
            initial_window: None,
            enable_0rtt: !is_server,
            retry: RetryPolicy::Off,
            client_auth: ClientAuth::default(),
            qlog_dir: None,
            server_id: None,
            secrets: SharedSecrets::new(),
        }
    }

    /// A server configuration. Without a certificate, a self-signed one for
    /// [`DEFAULT_SELF_SIGNED_HOST`] is generated when the endpoint is created.
    pub fn server() -> Self {
        Config::new(true)
    }

    /// A client configuration. It verifies the server against the CA roots added with
    /// [`Config::add_ca_pem`] / [`Config::load_ca_file`], unless verification is turned off.
    pub fn client() -> Self {
        Config::new(false)
    }

    /// True for a server configuration.
    pub fn is_server(&self) -> bool {
        self.is_server
    }

    /// Uses a certificate chain (end-entity first) and private key given as PEM text.
    pub fn set_certificate_chain_pem(
        &mut self,
        chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<(), ConfigError> {
        let chain = parse_certificates(chain_pem, "certificate chain")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
            ConfigError::new(format!("private key: no usable PEM private key ({e})"))
        })?;
        check_key_matches(&chain, &key)?;
        self.identity = Some(Identity {
            chain,
            key: Arc::new(key),
        });
        Ok(())
    }

    /// Uses a certificate chain and private key read from PEM files.
    pub fn load_certificate_chain(
        &mut self,
        chain_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<(), ConfigError> {
        let chain = read_file(chain_path.as_ref(), "certificate chain")?;
        let key = read_file(key_path.as_ref(), "private key")?;
        self.set_certificate_chain_pem(&chain, &key)
    }

    /// Generates a self-signed certificate for `host` and uses it. Returns its SHA-256
    /// fingerprint (of the DER certificate), which a client can pin or print.
    pub fn generate_self_signed(&mut self, host: &str) -> Result<[u8; 32], ConfigError> {
        let identity = self_signed(host)?;
        let fingerprint = identity.fingerprint().expect("one certificate");
        self.identity = Some(identity);
        Ok(fingerprint)
    }

    /// The SHA-256 fingerprint of the configured end-entity certificate, if any.
    pub fn certificate_fingerprint(&self) -> Option<[u8; 32]> {
        self.identity.as_ref().and_then(Identity::fingerprint)
    }

    /// The configured certificate chain as PEM text (end-entity first), if any. A client
    /// can trust a server's generated certificate by adding this with [`Config::add_ca_pem`].
    pub fn certificate_chain_pem(&self) -> Option<String> {
        let identity = self.identity.as_ref()?;
        let mut out = String::new();
        for cert in &identity.chain {
            out.push_str(&pem_encode("CERTIFICATE", cert.as_ref()));
        }
        Some(out)
    }

    /// Adds trusted CA certificates (PEM text). Returns how many were added.
    pub fn add_ca_pem(&mut self, pem: &[u8]) -> Result<usize, ConfigError> {
        let certs = parse_certificates(pem, "CA roots")?;
        let count = certs.len();
        for cert in certs {
            self.roots
                .add(cert)
                .map_err(|e| ConfigError::new(format!("CA roots: unusable certificate ({e})")))?;
        }
        Ok(count)
    }

    /// Adds trusted CA certificates from a PEM file. Returns how many were added.
    pub fn load_ca_file(&mut self, path: impl AsRef<Path>) -> Result<usize, ConfigError> {
        let pem = read_file(path.as_ref(), "CA roots")?;
        self.add_ca_pem(&pem)
    }

    /// Turns verification of the server's certificate on (default) or off. Off accepts any
    /// certificate (handshake signatures are still checked): for tests only.
    pub fn set_verify_peer(&mut self, verify: bool) {
        self.verify_peer = verify;
    }

    /// The ALPN protocols offered (client) or accepted (server), in preference order.
    /// Default: `["h3"]`.
    pub fn set_alpn_protocols(&mut self, protocols: &[&[u8]]) {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
    }

    /// The idle timeout advertised; zero disables it. Default 60 s.
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.idle_timeout = timeout;
    }

    /// How many bidirectional streams the peer may have open at once. Default 128.
    pub fn set_max_streams_bidi(&mut self, count: u64) {
        self.max_streams_bidi = count;
    }

    /// How many unidirectional streams the peer may have open at once. Default 128.
    pub fn set_max_streams_uni(&mut self, count: u64) {
        self.max_streams_uni = count;
    }

    /// The `max_datagram_frame_size` transport parameter; non-zero enables DATAGRAM frames
    /// (RFC 9221). At most 65535 is advertised. Default 0: disabled, as in aioquic.
    pub fn set_max_datagram_frame_size(&mut self, size: u64) {
        self.max_datagram_frame_size = size;
    }

    /// Appends TLS secrets to `path` in the SSLKEYLOGFILE format (for Wireshark). The file is
    /// opened (created if needed) now, so an unwritable path is reported here.
    pub fn set_key_log_file(&mut self, path: impl AsRef<Path>) -> Result<(), ConfigError> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ConfigError::new(format!("key log file {}: {e}", path.display())))?;
        self.key_log = Some(Arc::new(KeyLogFile {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        }));
        Ok(())
    }

    /// Enables path MTU discovery (packets above 1200 bytes, up to 1,452 or the ceiling
    /// [`Config::set_max_udp_payload_size`] sets). Only turn it on when the socket sets
    /// the don't-fragment bit. Default off.
    pub fn set_mtu_discovery(&mut self, enabled: bool) {
        self.mtu_discovery = enabled;
    }

    /// The largest UDP payload, in bytes, this endpoint accepts (told to peers in the
    /// `max_udp_payload_size` transport parameter) and sends (path MTU discovery probes up
    /// to it). `None`, the default: 1,472 accepted, 1,452 probed. Larger datagrams need
    /// transmit buffers as large ([`Endpoint::poll_transmit`](super::Endpoint::poll_transmit))
    /// and receive buffers as large in the program. Refused outside
    /// [`UDP_PAYLOAD_RANGE`](super::UDP_PAYLOAD_RANGE) (1,200 to 65,527).
    pub fn set_max_udp_payload_size(&mut self, bytes: Option<u64>) -> Result<(), ConfigError> {
        self.max_udp_payload_size = match bytes {
            None => None,
            Some(b) => Some(
                u16::try_from(b)
                    .ok()
                    .filter(|_| UDP_PAYLOAD_RANGE.contains(&b))
                    .ok_or_else(|| {
                        ConfigError::new(format!(
                            "max UDP payload size {b}: must be from {} to {} bytes",
                            UDP_PAYLOAD_RANGE.start(),
                            UDP_PAYLOAD_RANGE.end()
                        ))
                    })?,
            ),
        };
        Ok(())
    }

    /// The ceiling [`Config::set_max_udp_payload_size`] set, if any.
    pub fn max_udp_payload_size(&self) -> Option<u16> {
        self.max_udp_payload_size
    }

    /// How many equal-size datagrams `poll_transmit` may coalesce into one buffer for UDP
    /// segmentation offload (GSO). Default 1: one datagram per transmit.
    pub fn set_max_gso_segments(&mut self, segments: usize) {
        self.max_gso_segments = segments.max(1);
    }

    /// The receive window per stream in bytes (flow-control credit given to the peer).
    /// Default 1.25 MB.
    pub fn set_stream_receive_window(&mut self, bytes: u64) {
        self.stream_receive_window = bytes;
    }

    /// How many bytes may be sent but not yet acknowledged, over all streams. Default 10 MB.
    /// The QUIC layer lets quinn-proto hold less while the congestion window is small
    /// (twice the congestion window), so that data waits where priorities order it.
    pub fn set_send_window(&mut self, bytes: u64) {
        self.send_window = bytes;
    }

    /// When a packet counts as lost: see [`LossDetection`] for the thresholds and why
    /// h3q's default ([`LossDetection::DEFAULT`]: by time alone, after two round trips)
    /// tolerates reordering that RFC 9002's values ([`LossDetection::RFC9002`]) take for
    /// loss. Refused, with the reason, when a threshold is out of range.
    pub fn set_loss_detection(&mut self, loss: LossDetection) -> Result<(), ConfigError> {
        loss.validate()?;
        self.loss_detection = loss;
        Ok(())
    }

    /// The congestion controller: [`CongestionControl::Cubic`] by default.
    pub fn set_congestion_control(&mut self, cc: CongestionControl) {
        self.congestion_control = cc;
    }

    /// The congestion window a connection starts with, in bytes; `None`: the
    /// controller's default (10 datagrams, 12,000 bytes, for NewReno and CUBIC; BBR's
    /// own). Refused outside [`INITIAL_WINDOW_RANGE`] (2,400 bytes to 16 MiB).
    pub fn set_initial_window(&mut self, bytes: Option<u64>) -> Result<(), ConfigError> {
        if let Some(b) = bytes
            && !INITIAL_WINDOW_RANGE.contains(&b)
        {
            return Err(ConfigError::new(format!(
                "initial window {b}: must be from {} to {} bytes",
                INITIAL_WINDOW_RANGE.start(),
                INITIAL_WINDOW_RANGE.end()
            )));
        }
        self.initial_window = bytes;
        Ok(())
    }

    /// 0-RTT (early data). A server accepts it from clients resuming a session: requests in
    /// 0-RTT can be replayed by an attacker who captured them, so only turn it on when the
    /// application treats early requests as such (answers only safe, idempotent ones; see
    /// [`Connection::is_early_stream`](super::Connection::is_early_stream)). A client
    /// offers it when it resumes ([`Endpoint::connect_resume`](super::Endpoint::connect_resume)).
    /// Default: off for servers, on for clients.
    pub fn set_enable_0rtt(&mut self, enabled: bool) {
        self.enable_0rtt = enabled;
    }

    /// Address validation by Retry (RFC 9000 §8.1.2), servers only: see [`RetryPolicy`].
    /// Default [`RetryPolicy::Off`].
    pub fn set_retry(&mut self, retry: RetryPolicy) {
        self.retry = retry;
    }

    /// Client certificates, servers only: [`ClientAuthMode::Request`] or
    /// [`ClientAuthMode::Require`] with the CAs (PEM text) a client's certificate must
    /// chain to, or [`ClientAuthMode::Off`] (the default; `ca_pem` is then ignored).
    /// Refused for bad PEM, or no CA with a mode other than `Off`.
    pub fn set_client_auth(
        &mut self,
        mode: ClientAuthMode,
        ca_pem: &[u8],
    ) -> Result<(), ConfigError> {
        let roots = match mode {
            ClientAuthMode::Off => Vec::new(),
            _ => parse_certificates(ca_pem, "client CA roots")?,
        };
        let mut check = RootCertStore::empty();
        for cert in &roots {
            check.add(cert.clone()).map_err(|e| {
                ConfigError::new(format!("client CA roots: unusable certificate ({e})"))
            })?;
        }
        self.client_auth = ClientAuth { mode, roots };
        Ok(())
    }

    /// Writes a qlog of every connection into `dir` (see `qlog`), or none (`None`, the
    /// default). Refused, with the reason, when `dir` is not a directory this process can
    /// create files in.
    pub fn set_qlog_dir(&mut self, dir: Option<&Path>) -> Result<(), ConfigError> {
        if let Some(dir) = dir {
            super::qlog::check_dir(dir)?;
        }
        self.qlog_dir = dir.map(Path::to_path_buf);
        Ok(())
    }

    /// Issues connection IDs that carry `server` in QUIC-LB's plaintext layout (see
    /// `quic_lb`), so that load balancers and worker threads can route by them; `None`
    /// (the default): random connection IDs of 8 bytes.
    pub fn set_server_id(&mut self, server: Option<ServerId>) {
        self.server_id = server;
    }

    /// Gives the endpoints made from now on (from this configuration or a copy made after)
    /// new secrets: an empty TLS session cache, a new key for Retry and NEW_TOKEN tokens
    /// with an empty used-token log, a new stateless reset key. Endpoints made before keep
    /// theirs. The certificate stays. What a server restart does to resumption and tokens:
    /// earlier session tickets and tokens are no longer accepted (a full handshake, and
    /// address validation again where Retry is on). Use it to retire them, e.g. after a
    /// key may have leaked, or in tests to play a restarted server.
    pub fn rotate_secrets(&mut self) {
        self.secrets = self.secrets.rotated();
    }

    /// The key stateless resets are derived from, shared by this configuration's
    /// endpoints (see `shared_secrets`).
    pub(crate) fn reset_key(&self) -> Arc<dyn quinn_proto::crypto::HmacKey> {
        self.secrets.reset_key.clone()
    }

    /// The identity set with [`Config::set_server_id`].
    pub(crate) fn server_id(&self) -> Option<&ServerId> {
        self.server_id.as_ref()
    }

    /// The directory set with [`Config::set_qlog_dir`].
    pub(crate) fn qlog_dir(&self) -> Option<&Path> {
        self.qlog_dir.as_deref()
    }

    /// The transport configuration of one connection that writes its qlog to `stream`
    /// (checked by [`Config::build`] already).
    pub(crate) fn transport_with_qlog(
        &self,
        stream: quinn_proto::QlogStream,
    ) -> Arc<TransportConfig> {
        let mut t = self.transport().expect("checked by Config::build");
        t.qlog_stream(Some(stream));
        Arc::new(t)
    }

    /// The send window set with [`Config::set_send_window`].
    pub(crate) fn send_window(&self) -> u64 {
        self.send_window
    }

    /// Builds the quinn-proto configurations. A server without an identity gets a generated
    /// self-signed certificate for [`DEFAULT_SELF_SIGNED_HOST`]. `wall_clock` dates the
    /// address-validation tokens a server issues (Retry and NEW_TOKEN).
    pub(crate) fn build(&self, wall_clock: Arc<dyn TimeSource>) -> Result<Built, ConfigError> {
        let transport = Arc::new(self.transport()?);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        if self.is_server {
            let identity = match &self.identity {
                Some(identity) => identity.clone(),
                None => self
                    .secrets
                    .generated_identity(|| self_signed(DEFAULT_SELF_SIGNED_HOST))?,
            };
            let fingerprint = identity.fingerprint();
            let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(|e| ConfigError::new(format!("TLS: {e}")))?;
            let builder = match self.client_auth.verifier(provider)? {
                Some(verifier) => builder.with_client_cert_verifier(verifier),
                None => builder.with_no_client_auth(),
            };
            let mut tls = builder
                .with_single_cert(identity.chain, identity.key.clone_key())
                .map_err(|e| ConfigError::new(format!("certificate or key rejected: {e}")))?;
            tls.alpn_protocols = self.alpn.clone();
            if let Some(log) = &self.key_log {
                tls.key_log = log.clone();
            }
            tls.session_storage = self.secrets.sessions.clone();
            if self.enable_0rtt {
                // quinn-proto takes early data only with an unbounded size: QUIC's own flow
                // control bounds it (RFC 9001 §4.6.1).
                tls.max_early_data_size = u32::MAX;
            }
            let crypto = QuicServerConfig::try_from(tls)
                .map_err(|e| ConfigError::new(format!("TLS for QUIC: {e}")))?;
            let mut server =
                quinn_proto::ServerConfig::new(Arc::new(crypto), self.secrets.token_key.clone());
            server.transport_config(transport);
            // Retry and NEW_TOKEN tokens carry their issue time: the caller's clock, through
            // the endpoint (see `time`), not the system's.
            server.time_source(wall_clock);
            let mut tokens = ValidationTokenConfig::default();
            tokens
                .sent(2)
                .lifetime(NEW_TOKEN_LIFETIME)
                .log(self.secrets.used_tokens.clone());
            server.validation_token_config(tokens);
            Ok(Built {
                server: Some(Arc::new(server)),
                client: None,
                retry: self.retry,
                fingerprint,
                allow_mtud: self.mtu_discovery,
                max_gso_segments: self.max_gso_segments,
            })
        } else {
            let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(|e| ConfigError::new(format!("TLS: {e}")))?;
            let builder = if self.verify_peer {
                if self.roots.is_empty() {
                    return Err(ConfigError::new(
                        "client verifies the server but no CA roots are configured: add CA \
                         certificates or turn verification off",
                    ));
                }
                builder.with_root_certificates(self.roots.clone())
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
            };
            let mut tls = match &self.identity {
                Some(identity) => builder
                    .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                    .map_err(|e| ConfigError::new(format!("client certificate rejected: {e}")))?,
                None => builder.with_no_client_auth(),
            };
            tls.alpn_protocols = self.alpn.clone();
            if let Some(log) = &self.key_log {
                tls.key_log = log.clone();
            }
            // Checked once here, so that per-connection configurations cannot fail.
            QuicClientConfig::try_from(tls.clone())
                .map_err(|e| ConfigError::new(format!("TLS for QUIC: {e}")))?;
            Ok(Built {
                server: None,
                client: Some(ClientTls {
                    tls,
                    transport,
                    early_data: self.enable_0rtt,
                    tokens: Arc::new(TokenMemoryCache::default()),
                }),
                retry: RetryPolicy::Off,
                fingerprint: self.certificate_fingerprint(),
                allow_mtud: self.mtu_discovery,
                max_gso_segments: self.max_gso_segments,
            })
        }
    }

    fn transport(&self) -> Result<TransportConfig, ConfigError> {
        let varint = |value: u64, what: &str| {
            VarInt::from_u64(value).map_err(|_| ConfigError::new(format!("{what} is too large")))
        };
        let mut t = TransportConfig::default();
        t.max_concurrent_bidi_streams(varint(self.max_streams_bidi, "max_streams_bidi")?);
        t.max_concurrent_uni_streams(varint(self.max_streams_uni, "max_streams_uni")?);
        if self.idle_timeout.is_zero() {
            t.max_idle_timeout(None);
        } else {
            let timeout = IdleTimeout::try_from(self.idle_timeout)
                .map_err(|_| ConfigError::new("idle timeout is too large"))?;
            t.max_idle_timeout(Some(timeout));
        }
        if self.max_datagram_frame_size == 0 {
            t.datagram_receive_buffer_size(None);
        } else {
            let size = self.max_datagram_frame_size.min(u64::from(u16::MAX));
            t.datagram_receive_buffer_size(Some(size as usize));
        }
        t.stream_receive_window(varint(self.stream_receive_window, "stream_receive_window")?);
        t.send_window(self.send_window);
        if !self.mtu_discovery {
            t.mtu_discovery_config(None);
        } else if let Some(ceiling) = self.max_udp_payload_size {
            let mut discovery = MtuDiscoveryConfig::default();
            discovery.upper_bound(ceiling);
            t.mtu_discovery_config(Some(discovery));
        }
        t.enable_segmentation_offload(self.max_gso_segments > 1);
        self.loss_detection.apply(&mut t);
        self.congestion_control.apply(self.initial_window, &mut t);
        Ok(t)
    }
}

/// A client endpoint's TLS and transport configuration, from which each connection's
/// quinn-proto configuration is made (each connection has its own session store).
pub(crate) struct ClientTls {
    tls: rustls::ClientConfig,
    transport: Arc<TransportConfig>,
    early_data: bool,
    /// NEW_TOKEN tokens servers gave, shared by the endpoint's connections so that a later
    /// connection to the same server skips address validation.
    tokens: Arc<dyn TokenStore>,
}

impl ClientTls {
    /// The configuration of one connection, with `sessions` as its session store; 0-RTT
    /// offered when `resuming` and enabled.
    pub(crate) fn for_connection(
        &self,
        sessions: Arc<dyn rustls::client::ClientSessionStore>,
        resuming: bool,
        transport: Option<Arc<TransportConfig>>,
    ) -> quinn_proto::ClientConfig {
        let mut tls = self.tls.clone();
        tls.resumption = rustls::client::Resumption::store(sessions);
        tls.enable_early_data = resuming && self.early_data;
        let crypto = QuicClientConfig::try_from(tls).expect("checked by Config::build");
        let mut client = quinn_proto::ClientConfig::new(Arc::new(crypto));
        client.transport_config(transport.unwrap_or_else(|| self.transport.clone()));
        client.token_store(self.tokens.clone());
        client
    }
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|e| ConfigError::new(format!("{what}: cannot read {}: {e}", path.display())))
}

fn parse_certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::new(format!("{what}: bad PEM ({e})")))?;
    if certs.is_empty() {
        return Err(ConfigError::new(format!(
            "{what}: no PEM \"CERTIFICATE\" block found"
        )));
    }
    Ok(certs)
}

/// Rejects a key that cannot sign, or a chain whose end-entity certificate it does not match.
fn check_key_matches(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
) -> Result<(), ConfigError> {
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| ConfigError::new(format!("private key: unusable ({e})")))?;
    let certified = rustls::sign::CertifiedKey::new(chain.to_vec(), signing_key);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(e) => Err(ConfigError::new(format!(
            "private key does not match the certificate ({e})"
        ))),
    }
}

fn self_signed(host: &str) -> Result<Identity, ConfigError> {
    let generated = rcgen::generate_simple_self_signed(vec![host.to_string()])
        .map_err(|e| ConfigError::new(format!("cannot generate a certificate for {host}: {e}")))?;
    let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
        .map_err(|e| ConfigError::new(format!("generated key unusable: {e}")))?;
    Ok(Identity {
        chain: vec![generated.cert.der().clone()],
        key: Arc::new(key),
    })
}

/// SHA-256 of `data` (the certificate fingerprint).
fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::with_capacity(der.len() * 4 / 3 + 4);
    for chunk in der.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Writes TLS secrets in the NSS key log format (`SSLKEYLOGFILE`).
struct KeyLogFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl fmt::Debug for KeyLogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLogFile")
            .field("path", &self.path)
            .finish()
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line =
            String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
        line.push_str(label);
        line.push(' ');
        push_hex(&mut line, client_random);
        line.push(' ');
        push_hex(&mut line, secret);
        line.push('\n');
        if let Ok(mut file) = self.file.lock() {
            // Key logging is a debugging aid: a failed write must not break the handshake.
            let _ = file.write_all(line.as_bytes());
        }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// A server certificate verifier that accepts every certificate (verification off, for
/// tests). It still checks the handshake signatures, so the peer must hold the key.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_clock() -> Arc<dyn TimeSource> {
        crate::quic::time::Clock::new().wall_clock()
    }

    #[test]
    fn generated_certificate_round_trips_through_pem() {
        let mut server = Config::server();
        let fingerprint = server.generate_self_signed("example.test").unwrap();
        assert_eq!(server.certificate_fingerprint(), Some(fingerprint));
        let pem = server.certificate_chain_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        let mut client = Config::client();
        assert_eq!(client.add_ca_pem(pem.as_bytes()).unwrap(), 1);
        assert!(client.build(test_clock()).is_ok());
        assert!(server.build(test_clock()).unwrap().server.is_some());
    }

    #[test]
    fn pem_errors_are_clear() {
        let mut config = Config::server();
        let err = config
            .set_certificate_chain_pem(b"not pem", b"")
            .unwrap_err();
        assert!(
            err.message().contains("no PEM \"CERTIFICATE\" block"),
            "{err}"
        );

        let mut other = Config::server();
        other.generate_self_signed("a.test").unwrap();
        let chain = other.certificate_chain_pem().unwrap();
        let err = config
            .set_certificate_chain_pem(chain.as_bytes(), b"-----BEGIN NOTHING-----\n")
            .unwrap_err();
        assert!(err.message().starts_with("private key"), "{err}");

        let err = config
            .load_certificate_chain("/nonexistent/cert.pem", "/nonexistent/key.pem")
            .unwrap_err();
        assert!(
            err.message().contains("cannot read /nonexistent/cert.pem"),
            "{err}"
        );
    }

    #[test]
    fn key_must_match_certificate() {
        let a = self_signed("a.test").unwrap();
        let b = self_signed("b.test").unwrap();
        let err = check_key_matches(&a.chain, &b.key).unwrap_err();
        assert!(err.message().contains("does not match"), "{err}");
        check_key_matches(&a.chain, &a.key).unwrap();
    }

    #[test]
    fn client_without_roots_must_disable_verification() {
        let err = Config::client().build(test_clock()).err().unwrap();
        assert!(err.message().contains("no CA roots"), "{err}");
        let mut client = Config::client();
        client.set_verify_peer(false);
        assert!(client.build(test_clock()).unwrap().client.is_some());
    }

    #[test]
    fn server_without_identity_gets_a_generated_one() {
        let built = Config::server().build(test_clock()).unwrap();
        assert!(built.fingerprint.is_some());
    }
}
