//! AES-128-GCM sealing speed of ring and aws-lc-rs on 1,350-byte payloads (a full QUIC
//! packet's), in place with a separate tag, as quinn-proto seals packets. Rounds alternate
//! which library goes first; prints each one's best and median rate and the range of the
//! speed ratio between rounds of the same rank.

use std::time::Instant;

const LEN: usize = 1350;
const PACKETS: usize = 200_000;
const ROUNDS: usize = 7;

/// Seconds to seal PACKETS payloads with `$aead`'s AES-128-GCM (both crates share ring's
/// API shape).
macro_rules! seal_round {
    ($aead:path) => {{
        use $aead as aead;
        let key = aead::LessSafeKey::new(
            aead::UnboundKey::new(&aead::AES_128_GCM, &[7u8; 16]).expect("key"),
        );
        let mut payload = vec![1u8; LEN];
        let header = [0u8; 20];
        let start = Instant::now();
        for packet in 0..PACKETS as u64 {
            let mut nonce = [0u8; 12];
            nonce[4..].copy_from_slice(&packet.to_be_bytes());
            let tag = key
                .seal_in_place_separate_tag(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::from(&header),
                    &mut payload,
                )
                .expect("seal");
            std::hint::black_box(tag);
        }
        start.elapsed().as_secs_f64()
    }};
}

fn main() {
    let (mut ring, mut aws) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            ring.push(seal_round!(ring::aead));
            aws.push(seal_round!(aws_lc_rs::aead));
        } else {
            aws.push(seal_round!(aws_lc_rs::aead));
            ring.push(seal_round!(ring::aead));
        }
    }
    ring.sort_by(f64::total_cmp);
    aws.sort_by(f64::total_cmp);
    let rate = |seconds: f64| (PACKETS * LEN) as f64 / seconds / 1e9;
    println!("AES-128-GCM seal, {LEN}-byte payloads, {PACKETS} per round, {ROUNDS} rounds");
    for (name, times) in [("ring", &ring), ("aws-lc-rs", &aws)] {
        let (best, median) = (rate(times[0]), rate(times[ROUNDS / 2]));
        println!("{name:10} best {best:.2} GB/s, median {median:.2} GB/s");
    }
    let ratios: Vec<f64> = ring.iter().zip(&aws).map(|(r, a)| r / a).collect();
    let (low, high) = ratios
        .iter()
        .fold((f64::MAX, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
    println!("aws-lc-rs speed / ring speed, rounds of equal rank: {low:.2}-{high:.2}");
}
