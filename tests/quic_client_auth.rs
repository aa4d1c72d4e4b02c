//! Client certificates (mutual TLS) over the in-memory pair: a server that requires them
//! serves a client whose certificate chains to its CA and refuses the others with a TLS
//! alert; one that only requests them serves clients without one; each side reads the
//! chain the other presented.

mod harness;

use h3q::quic::{ClientAuthMode, Config, Event};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};

use harness::h3_pair::SECOND;
use harness::pair::{Pair, configs};

/// A CA (certificate PEM) and a client certificate it signed (certificate PEM, key PEM,
/// certificate DER).
struct ClientPki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    cert_der: Vec<u8>,
}

fn client_pki(name: &str) -> ClientPki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} CA"));
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![format!("{name}.client.test")]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &issuer).unwrap();
    ClientPki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
    }
}

/// What one handshake showed.
struct Outcome {
    /// Both sides completed the handshake.
    established: bool,
    /// The server's chain as the client saw it, and the client's as the server saw it.
    server_chain: Option<Vec<Vec<u8>>>,
    client_chain: Option<Vec<Vec<u8>>>,
    /// The code the client's connection ended with, if it ended.
    client_close: Option<u64>,
}

fn handshake(client: &Config, server: &Config) -> Outcome {
    let mut pair = Pair::new(client, server);
    let handle = pair.connect();
    let conn = pair.client.connection(handle).unwrap();
    let mut server_conn = None;
    let mut client_close = None;
    pair.run_until(10 * SECOND, |p| {
        if let Some(h) = p.server.accept() {
            server_conn = Some(p.server.connection(h).unwrap());
        }
        while let Some(ev) = conn.next_event() {
            if let Event::ConnectionTerminated { error_code, .. } = ev {
                client_close = Some(error_code);
            }
        }
        client_close.is_some()
            || (conn.is_established() && server_conn.as_ref().is_some_and(|s| s.is_established()))
    });
    Outcome {
        established: client_close.is_none() && conn.is_established(),
        server_chain: conn.peer_certificates(),
        client_chain: server_conn.as_ref().and_then(|s| s.peer_certificates()),
        client_close,
    }
}

fn with_client_cert(client: &Config, pki: &ClientPki) -> Config {
    let mut client = client.clone();
    client
        .set_certificate_chain_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
        .unwrap();
    client
}

#[test]
fn a_required_certificate_from_the_trusted_ca_is_accepted_and_visible() {
    let pki = client_pki("trusted");
    let (client, mut server) = configs();
    server
        .set_client_auth(ClientAuthMode::Require, pki.ca_pem.as_bytes())
        .unwrap();
    let out = handshake(&with_client_cert(&client, &pki), &server);
    assert!(out.established);
    assert_eq!(out.client_chain.unwrap(), vec![pki.cert_der.clone()]);
    // And the client sees the server's (generated) certificate.
    assert_eq!(out.server_chain.unwrap().len(), 1);
}

#[test]
fn a_required_certificate_missing_or_from_another_ca_ends_the_handshake() {
    let trusted = client_pki("trusted");
    let stranger = client_pki("stranger");
    let (client, mut server) = configs();
    server
        .set_client_auth(ClientAuthMode::Require, trusted.ca_pem.as_bytes())
        .unwrap();
    for client in [client.clone(), with_client_cert(&client, &stranger)] {
        let out = handshake(&client, &server);
        assert!(!out.established);
        let code = out.client_close.expect("the client saw the connection end");
        assert!((0x100..0x200).contains(&code), "a TLS alert, got {code:#x}");
    }
}

#[test]
fn a_requested_certificate_is_optional() {
    let pki = client_pki("trusted");
    let (client, mut server) = configs();
    server
        .set_client_auth(ClientAuthMode::Request, pki.ca_pem.as_bytes())
        .unwrap();
    let out = handshake(&client, &server);
    assert!(out.established);
    assert!(out.client_chain.is_none(), "no certificate presented");
    let out = handshake(&with_client_cert(&client, &pki), &server);
    assert!(out.established);
    assert_eq!(out.client_chain.unwrap(), vec![pki.cert_der]);
}

#[test]
fn client_auth_settings_are_checked() {
    let mut server = Config::server();
    let err = server
        .set_client_auth(ClientAuthMode::Require, b"not pem")
        .unwrap_err();
    assert!(err.message().contains("client CA roots"), "{err}");
    assert!(server.set_client_auth(ClientAuthMode::Off, b"").is_ok());
}
