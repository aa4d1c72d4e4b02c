//! Loss detection against the path, over the in-memory pair (tests/harness/download.rs):
//! a 5 MB download on a 100 ms round trip that is clean, lossy (1 %, 5 %) or reordering
//! (each one-way delay drawn from 50 ± 20 ms or 50 ± 45 ms), with h3q's default loss
//! detection (by time alone, two round trips), RFC 9002's (3 packets, 9/8 of a round
//! trip), and a packet threshold of 25 with time 2.0. Times are simulated, so the figures
//! do not depend on the machine; each cell is the range over 3 seeds, with the packets the
//! server declared lost and its congestion events.
//!
//! Then each congestion controller (NewReno, CUBIC, BBR) on the clean and the lossy paths,
//! with its goodput (body bytes over simulated time) and losses.
//!
//! Run with `cargo bench --bench recovery`; `H3Q_BENCH_MB` (default 5) sets the size.

#[path = "../tests/harness/mod.rs"]
mod harness;

use h3q::quic::{Config, CongestionControl, LossDetection};
use harness::download::{DownloadOutcome, download};
use harness::pair::{Network, configs};

fn main() {
    let mb: usize = std::env::var("H3Q_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let paths: [(&str, u64, f64); 5] = [
        ("clean", 0, 0.0),
        ("1 % loss", 0, 0.01),
        ("5 % loss", 0, 0.05),
        ("jitter 50 ± 20 ms", 20, 0.0),
        ("jitter 50 ± 45 ms", 45, 0.0),
    ];
    let detections = [
        ("h3q default (time 2.0 only)", LossDetection::DEFAULT),
        ("RFC 9002 (3 packets, 1.125)", LossDetection::RFC9002),
        (
            "25 packets, time 2.0",
            LossDetection {
                packet_threshold: Some(25),
                time_threshold: 2.0,
            },
        ),
    ];
    println!("{mb} MiB download, 100 ms round trip, 3 seeds (simulated time)");
    println!(
        "{:<20} {:<30} {:>18} {:>14} {:>12}",
        "path", "loss detection", "time", "lost packets", "cong. events"
    );
    for (path, jitter_ms, loss) in paths {
        for (name, detection) in detections {
            let (client, mut server) = configs();
            server.set_loss_detection(detection).unwrap();
            let runs = three_seeds(&client, &server, jitter_ms, loss, mb);
            let (t0, t1) = range(&runs, |o| o.seconds());
            let (l0, l1) = range(&runs, |o| o.server.packets_lost as f64);
            let (c0, c1) = range(&runs, |o| o.server.congestion_events as f64);
            println!(
                "{path:<20} {name:<30} {:>7.1}-{:<7.1} s {:>6}-{:<7} {:>5}-{:<6}",
                t0, t1, l0, l1, c0, c1
            );
        }
    }
    println!();
    println!("{mb} MiB download per congestion controller, h3q's loss detection, 3 seeds");
    println!(
        "{:<20} {:<10} {:>18} {:>20} {:>14}",
        "path", "controller", "time", "goodput", "lost packets"
    );
    for (path, jitter_ms, loss) in paths {
        for cc in CongestionControl::ALL {
            let (mut client, mut server) = configs();
            client.set_congestion_control(cc);
            server.set_congestion_control(cc);
            let runs = three_seeds(&client, &server, jitter_ms, loss, mb);
            let (t0, t1) = range(&runs, |o| o.seconds());
            let mbit = |seconds: f64| (mb << 20) as f64 * 8.0 / seconds / 1e6;
            let (l0, l1) = range(&runs, |o| o.server.packets_lost as f64);
            println!(
                "{path:<20} {:<10} {:>7.1}-{:<7.1} s {:>7.1}-{:<7.1} Mbit/s {:>6}-{:<7}",
                cc.name(),
                t0,
                t1,
                mbit(t1),
                mbit(t0),
                l0,
                l1
            );
        }
    }
}

/// The download of `mb` MiB with seeds 1, 2 and 3 of the path.
fn three_seeds(
    client: &Config,
    server: &Config,
    jitter_ms: u64,
    loss: f64,
    mb: usize,
) -> Vec<DownloadOutcome> {
    (1..=3)
        .map(|seed| {
            let net = net(jitter_ms, loss, seed);
            download(client, server, net, mb << 20, 3_600_000_000_000)
        })
        .collect()
}

/// A 100 ms round trip with this jitter and loss.
fn net(jitter_ms: u64, loss: f64, seed: u64) -> Network {
    Network {
        latency_ns: 50_000_000,
        jitter_ns: jitter_ms * 1_000_000,
        loss,
        seed,
        ..Network::default()
    }
}

/// The smallest and largest of `f` over `runs`.
fn range(runs: &[DownloadOutcome], f: impl Fn(&DownloadOutcome) -> f64) -> (f64, f64) {
    let values: Vec<f64> = runs.iter().map(f).collect();
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(0.0, f64::max);
    (min, max)
}
