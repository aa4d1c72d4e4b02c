//! Connection migration over the in-memory pair: a client that moves to a new address
//! mid-download, telling its endpoint (`Endpoint::rebind`: a fresh connection ID and an
//! immediate PING) or not (a NAT rebinding the client does not know of); the server
//! follows either way and the download completes intact.

mod harness;

use harness::download::download_with;
use harness::h3_pair::SECOND;
use harness::pair::{Network, configs};

const SIZE: usize = 4_000_000;
const NEW_ADDR: &str = "10.0.0.1:40001";

fn moved_mid_download(tell_the_endpoint: bool) -> std::net::SocketAddr {
    let (client, server) = configs();
    let net = Network {
        latency_ns: 5_000_000,
        ..Network::default()
    };
    let mut moved = false;
    let out = download_with(&client, &server, net, SIZE, 60 * SECOND, |p, received| {
        if !moved && received >= SIZE / 2 {
            moved = true;
            p.client_addr = NEW_ADDR.parse().unwrap();
            if tell_the_endpoint {
                p.client.rebind(p.now);
            }
        }
    });
    assert!(moved);
    out.server_sees.expect("the server's connection")
}

#[test]
fn a_client_that_rebinds_keeps_its_download() {
    assert_eq!(moved_mid_download(true), NEW_ADDR.parse().unwrap());
}

#[test]
fn a_nat_rebinding_the_client_does_not_know_of_keeps_the_download() {
    assert_eq!(moved_mid_download(false), NEW_ADDR.parse().unwrap());
}
