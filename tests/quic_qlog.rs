//! qlog: a 10 MB HTTP/3 download over the in-memory pair with `set_qlog_dir` on both
//! sides writes one file per side, every record of which parses as JSON-SEQ (RFC 7464: an
//! RS byte, a JSON text, a newline), with quinn-proto's QUIC events and h3q's HTTP/3
//! frames, stream types and QPACK instructions.

mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use h3q::h3::{H3Event, Settings};
use h3q::quic::Config;

use harness::h3_pair::{H3Pair, SECOND};
use harness::pair::{Network, configs};

const SIZE: usize = 10_000_000;

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("h3q-qlog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every record of the one file in `dir`, parsed; panics on anything not JSON-SEQ.
fn records(dir: &Path) -> Vec<serde_json::Value> {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one qlog per connection: {files:?}");
    assert!(files[0].extension().is_some_and(|e| e == "sqlog"));
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with('\u{1e}'), "a JSON-SEQ file starts with RS");
    text.split('\u{1e}')
        .skip(1)
        .map(|record| {
            assert!(
                record.ends_with('\n'),
                "a record ends with a newline: {record:?}"
            );
            serde_json::from_str(record).unwrap_or_else(|e| panic!("{e}: {record:?}"))
        })
        .collect()
}

/// How many events of each name, and of each (name, frame type).
fn census(records: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for r in records.iter().skip(1) {
        let name = r["name"].as_str().unwrap_or("?").to_string();
        if let Some(ty) = r["data"]["frame"]["frame_type"].as_str() {
            *count.entry(format!("{name}/{ty}")).or_default() += 1;
        }
        if let Some(ty) = r["data"]["stream_type"].as_str() {
            *count.entry(format!("{name}/{ty}")).or_default() += 1;
        }
        if let Some(ty) = r["data"]["instruction"]["instruction_type"].as_str() {
            *count.entry(format!("{name}/{ty}")).or_default() += 1;
        }
        *count.entry(name).or_default() += 1;
    }
    count
}

#[test]
fn a_10_mb_download_leaves_a_qlog_per_side_with_quic_and_http3_events() {
    let (client_dir, server_dir) = (fresh_dir("client"), fresh_dir("server"));
    let (mut client, mut server): (Config, Config) = configs();
    client.set_qlog_dir(Some(&client_dir)).unwrap();
    server.set_qlog_dir(Some(&server_dir)).unwrap();
    let net = Network {
        latency_ns: 5_000_000,
        ..Network::default()
    };
    let mut h3 = H3Pair::new(&client, &server, net, Settings::default());
    let stream = h3.open_request("GET", "/", true);
    let mut received = 0;
    let body = vec![7u8; SIZE];
    assert!(h3.run(60 * SECOND, |is_client, conn, ev| match ev {
        H3Event::HeadersReceived { stream_id, .. } if !is_client => {
            let ok: &[(&[u8], &[u8])] = &[(b":status", b"200")];
            conn.send_headers(stream_id, ok, false).unwrap();
            conn.send_data(stream_id, &body, true).unwrap();
            false
        }
        H3Event::DataReceived {
            stream_id,
            data,
            stream_ended,
            ..
        } if is_client && stream_id == stream => {
            received += data.len();
            stream_ended
        }
        _ => false,
    }));
    assert_eq!(received, SIZE);
    h3.client_quic.close(0, b"");
    let until = h3.pair.now + SECOND;
    h3.pair.run_until(SECOND, |p| p.now >= until);
    drop(h3);

    for (side, dir) in [("client", &client_dir), ("server", &server_dir)] {
        let records = records(dir);
        assert!(
            records[0]["qlog_version"].is_string(),
            "{side}: a qlog header first"
        );
        let count = census(&records);
        let at_least = |key: &str, n: usize| {
            let got = count.get(key).copied().unwrap_or(0);
            assert!(got >= n, "{side}: {key}: {got} < {n}; {count:?}");
        };
        at_least("transport:packet_sent", 100);
        at_least("transport:packet_received", 100);
        at_least("recovery:metrics_updated", 1);
        at_least("http:stream_type_set/control", 2);
        at_least("http:stream_type_set/qpack_encode", 2);
        at_least("http:frame_created/settings", 1);
        at_least("http:frame_parsed/settings", 1);
        at_least("http:frame_created/headers", 1);
        at_least("http:frame_parsed/headers", 1);
        // Each encoder sets its dynamic table's capacity; each decoder acknowledges.
        at_least("qpack:instruction_created", 1);
        at_least("qpack:instruction_parsed", 1);
        let data = if side == "server" {
            "http:frame_created/data"
        } else {
            "http:frame_parsed/data"
        };
        at_least(data, 1);
        println!("{side}: {} records: {count:?}", records.len());
    }
    let _ = std::fs::remove_dir_all(client_dir);
    let _ = std::fs::remove_dir_all(server_dir);
}

#[test]
fn an_unusable_qlog_dir_is_refused() {
    let mut config = Config::client();
    let err = config
        .set_qlog_dir(Some(Path::new("/nonexistent/qlogs")))
        .unwrap_err();
    assert!(
        err.message().starts_with("qlog dir /nonexistent/qlogs"),
        "{err}"
    );
    assert!(config.set_qlog_dir(None).is_ok());
}
