//! Priorities (RFC 9218) scheduled end to end over the built-in QUIC layer (the in-memory
//! pair, and once over UDP on 127.0.0.1): an urgent response overtakes responses already in flight, and responses of one
//! urgency that are not incremental go one after another. The figures, with runs without
//! priorities beside them and a PRIORITY_UPDATE midway, are `benches/priorities.rs`'s.

mod harness;

use harness::priority_race::{InMemory, Race, Udp, run};

const SIZE: usize = 2 << 20;

#[test]
fn an_urgent_response_overtakes_those_in_flight() {
    let race = Race::urgent_ninth(SIZE);
    let outcome = run(&mut InMemory::new(race.size), &race);
    assert_eq!(outcome.favoured_place(), 0, "{outcome:?}");
    let share = outcome.background_share_then(&race);
    assert!(
        share < 0.5,
        "the background had {share:.2} of its bytes: {outcome:?}"
    );
}

#[test]
fn non_incremental_responses_of_one_urgency_go_one_after_another() {
    let race = Race {
        background: 4,
        background_priority: Some("u=3"),
        urgent_priority: Some("u=3"),
        size: SIZE,
        raise_last_at: None,
    };
    let outcome = run(&mut InMemory::new(race.size), &race);
    let mut order = outcome.background.clone();
    order.push(outcome.favoured);
    assert_eq!(outcome.finished, order, "in stream order");
}

#[test]
fn a_priority_update_midway_overtakes_the_responses_not_started() {
    let race = Race::raise_last(SIZE, "u=5");
    let outcome = run(&mut InMemory::new(race.size), &race);
    let raised = outcome.favoured;
    assert_eq!(raised, *outcome.background.last().unwrap());
    assert!(!outcome.started_at_raise.contains(&raised), "{outcome:?}");
    // Every response that had not started when the update was sent finishes after the
    // raised one; the one under way may finish before it (what was in flight, or sent in
    // the half round trip the update takes to arrive).
    let place = outcome.favoured_place();
    for s in &outcome.finished[..place] {
        assert!(
            outcome.started_at_raise.contains(s),
            "{s} overtook: {outcome:?}"
        );
    }
}

#[test]
fn a_priority_update_midway_overtakes_incremental_responses_under_way() {
    // All 8 share the connection round-robin, so each has about a tenth of its bytes
    // when the last is raised: it must finish first, with what quinn-proto already held
    // of the others not standing in its way.
    let race = Race::raise_last(SIZE, "u=5, i");
    let outcome = run(&mut InMemory::new(race.size), &race);
    assert_eq!(outcome.favoured_place(), 0, "{outcome:?}");
    assert!(
        outcome.background_share_then(&race) < 0.5,
        "{:.2} of the others' bytes: {outcome:?}",
        outcome.background_share_then(&race)
    );
}

#[test]
fn an_urgent_response_overtakes_those_in_flight_over_udp() {
    // Real sockets and real time: the order and the share are the scheduler's doing
    // whatever the machine's load (the server thread answers each request at once).
    let race = Race::urgent_ninth(SIZE);
    let outcome = run(&mut Udp::new(race.size), &race);
    assert_eq!(outcome.favoured_place(), 0, "{outcome:?}");
    let share = outcome.background_share_then(&race);
    assert!(
        share < 0.5,
        "the background had {share:.2} of its bytes: {outcome:?}"
    );
}
