//! QUIC-LB server ids in connection IDs: a server given an id issues CIDs carrying it, so
//! every packet clients send it after the handshake (all short-header packets) decodes to
//! that id, over many connections; and the decoder refuses odd packets with a reason.

mod harness;

use h3q::quic::{MIN_TRANSMIT_BUFFER, ServerId, decode_cid_server_id};

use harness::pair::{Pair, configs};

const ID: [u8; 3] = [0x5e, 0x41, 0x7a];
const CONNECTIONS: usize = 40;

#[test]
fn every_short_header_packet_to_the_server_names_its_id() {
    let (client, mut server) = configs();
    server.set_server_id(Some(ServerId::new(1, &ID).unwrap()));
    let mut p = Pair::new(&client, &server);
    let conns: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let h = p.connect();
            p.client.connection(h).unwrap()
        })
        .collect();
    let mut buf = vec![0u8; MIN_TRANSMIT_BUFFER];
    let (mut short_packets, mut decoded) = (0, 0);
    for _ in 0..200 {
        // Client to server, looking at each datagram's destination CID.
        while let Some(t) = p.client.poll_transmit(p.now, &mut buf).unwrap() {
            let datagram = &buf[..t.len];
            if datagram[0] & 0x80 == 0 {
                short_packets += 1;
                let routed = decode_cid_server_id(datagram, ID.len()).unwrap();
                assert_eq!(routed.server_id, ID);
                assert_eq!(routed.config_rotation, 1);
                decoded += 1;
            }
            p.server.receive(p.now, p.client_addr, datagram);
        }
        while p.server.accept().is_some() {}
        while let Some(t) = p.server.poll_transmit(p.now, &mut buf).unwrap() {
            p.client.receive(p.now, p.server_addr, &buf[..t.len]);
        }
        if conns.iter().all(|c| c.is_established()) && short_packets > 2 * CONNECTIONS {
            break;
        }
        p.now += 1_000_000;
        p.client.handle_timeout(p.now);
        p.server.handle_timeout(p.now);
    }
    assert!(conns.iter().all(|c| c.is_established()));
    assert!(
        short_packets >= CONNECTIONS,
        "{short_packets} short-header packets"
    );
    assert_eq!(decoded, short_packets);
}
