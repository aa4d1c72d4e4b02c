//! Priorities (RFC 9218) in the built-in QUIC layer, over the in-memory pair with a 10 ms
//! round trip (tests/harness/priority_race.rs): 8 responses of 10 MB start first; once
//! their first bytes arrive, a 9th is requested. Printed for each way of asking: when the
//! 9th completed, what share of the 8 others' bytes had arrived, its place among the
//! completions, and the simulated times. Then a PRIORITY_UPDATE raising the last of the
//! 8 once a tenth of their bytes arrived.
//!
//! Run with `cargo bench --bench priorities`. `H3Q_BENCH_MB` (default 10) sets the size
//! of each response. Times are simulated (the pair's clock), so they do not depend on the
//! machine's load.

#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::priority_race::{Race, pair, run};

fn main() {
    let mb: usize = std::env::var("H3Q_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let size = mb << 20;
    println!("8 responses of {mb} MiB in flight, then a 9th (in-memory pair, 10 ms RTT)");
    println!(
        "{:<46} {:>16} {:>7} {:>11} {:>9}",
        "how the requests ask", "others' share", "place", "9th took", "all took"
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
        let outcome = run(&mut pair(), &race);
        println!(
            "{:<46} {:>15.1}% {:>7} {:>9.0} ms {:>6.0} ms",
            what,
            100.0 * outcome.background_share_then(&race),
            outcome.favoured_place() + 1,
            outcome.favoured_ns as f64 / 1e6,
            outcome.total_ns as f64 / 1e6,
        );
    }
    for background in ["u=5", "u=5, i"] {
        let race = Race::raise_last(size, background);
        let outcome = run(&mut pair(), &race);
        println!(
            "PRIORITY_UPDATE u=0 for the last of 8 ({background}) after 10% of their bytes: it \
             completed {} of 8 ({:.1}% of the others' bytes had arrived; {:.0} ms after the \
             update)",
            outcome.favoured_place() + 1,
            100.0 * outcome.background_share_then(&race),
            outcome.favoured_ns as f64 / 1e6,
        );
    }
}
