//! Priorities (RFC 9218) in the built-in QUIC layer, the download race of
//! tests/harness/priority_race.rs on two networks: the in-memory pair with a simulated
//! 10 ms round trip, and UDP on 127.0.0.1 (server on its own thread, real time). 8
//! responses start first; once their first bytes arrive, a 9th is requested. Printed for
//! each way of asking: what share of the 8 others' bytes had arrived when the 9th
//! completed, its place among the completions, and the times. Then a PRIORITY_UPDATE
//! raising the last of the 8 once a tenth of their bytes arrived.
//!
//! Run with `cargo bench --bench priorities`. `H3Q_BENCH_MB` (default 10) sets the size
//! of each response, `H3Q_BENCH_RUNS` (default 3) the runs over UDP (each printed: real
//! time on a shared machine varies). In-memory times are simulated, so they do not depend
//! on the machine's load.

#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::priority_race::{InMemory, Outcome, Race, Udp, run};

fn main() {
    let mb: usize = env_usize("H3Q_BENCH_MB", 10);
    let runs = env_usize("H3Q_BENCH_RUNS", 3);
    let size = mb << 20;
    println!("8 responses of {mb} MiB in flight, then a 9th");
    println!(
        "{:<10} {:<46} {:>14} {:>6} {:>10} {:>10}",
        "network", "how the requests ask", "others' share", "place", "9th took", "all took"
    );
    let cases = [
        ("u=5 for the 8, u=0 for the 9th", Some("u=5"), Some("u=0")),
        ("no priority field (all u=3, one after another)", None, None),
        (
            "all incremental (i): shared round-robin",
            Some("i"),
            Some("i"),
        ),
    ];
    for (what, background, urgent) in cases {
        let race = Race {
            background: 8,
            background_priority: background,
            urgent_priority: urgent,
            size,
            raise_last_at: None,
        };
        print_race(
            "in memory",
            what,
            &race,
            run(&mut InMemory::new(size), &race),
        );
        for _ in 0..runs {
            print_race("UDP", what, &race, run(&mut Udp::new(size), &race));
        }
    }
    println!("PRIORITY_UPDATE u=0 for the last of 8 after 10% of their bytes:");
    for background in ["u=5", "u=5, i"] {
        let race = Race::raise_last(size, background);
        let what = format!("the 8 at {background}, the last raised");
        print_race(
            "in memory",
            &what,
            &race,
            run(&mut InMemory::new(size), &race),
        );
        for _ in 0..runs {
            print_race("UDP", &what, &race, run(&mut Udp::new(size), &race));
        }
    }
}

fn print_race(network: &str, what: &str, race: &Race, outcome: Outcome) {
    println!(
        "{:<10} {:<46} {:>13.1}% {:>6} {:>7.1} ms {:>7.1} ms",
        network,
        what,
        100.0 * outcome.background_share_then(race),
        outcome.favoured_place() + 1,
        outcome.favoured_ns as f64 / 1e6,
        outcome.total_ns as f64 / 1e6,
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
