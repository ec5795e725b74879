use super::*;
use crate::affinity::hash::hash64;

fn addrs(n: u8) -> Vec<(SocketAddr, u32)> {
    (0..n)
        .map(|i| (SocketAddr::from(([10, 0, 0, 10 + i], 3000)), 1))
        .collect()
}

fn owners(ring: &Ring, list: &[(SocketAddr, u32)], keys: u32) -> Vec<SocketAddr> {
    (0..keys)
        .map(|k| {
            let i = ring.owner(hash64(9, &k.to_le_bytes())).expect("owner");
            list[i].0
        })
        .collect()
}

fn moved(before: &[SocketAddr], after: &[SocketAddr]) -> f64 {
    let n = before.iter().zip(after).filter(|(a, b)| a != b).count();
    n as f64 / before.len() as f64
}

#[test]
fn spreads_keys_evenly_over_three_endpoints() {
    // Over ten different address sets: the busiest endpoint's share of 30k keys.
    let mut worst = Vec::new();
    for set in 0..10u8 {
        let list: Vec<(SocketAddr, u32)> = (0..3)
            .map(|i| (SocketAddr::from(([10, set, 0, 10 + i], 3000)), 1))
            .collect();
        let got = owners(&Ring::build(&list), &list, 30_000);
        let max = list
            .iter()
            .map(|(a, _)| got.iter().filter(|g| *g == a).count() as f64 / 30_000.0)
            .fold(0.0, f64::max);
        assert!(max < 0.42, "set {set}: busiest endpoint has {max}");
        worst.push(max);
    }
    let mean = worst.iter().sum::<f64>() / worst.len() as f64;
    eprintln!(
        "consistent hash: busiest of 3 endpoints holds {mean:.3} of keys on average (ideal 0.333)"
    );
    assert!(mean < 0.37, "mean busiest share {mean}");
}

#[test]
fn adding_or_removing_an_endpoint_moves_about_its_share_only() {
    let three = addrs(3);
    let four = addrs(4);
    let before = owners(&Ring::build(&three), &three, 20_000);
    let after = owners(&Ring::build(&four), &four, 20_000);
    let added = moved(&before, &after);
    // Only keys that now belong to the new endpoint may move (ideal: 1/4).
    let to_new = after.iter().filter(|a| **a == four[3].0).count() as f64 / 20_000.0;
    eprintln!("consistent hash: 3 -> 4 endpoints moved {added:.4} of keys (ideal 0.25)");
    assert!(
        (added - to_new).abs() < 1e-9,
        "keys moved between old endpoints"
    );
    assert!((0.18..0.32).contains(&added), "moved {added}");

    // Removing one of four moves only that endpoint's keys (ideal: 1/4).
    let reduced: Vec<_> = four.iter().copied().filter(|e| e.0 != four[1].0).collect();
    let after_removal = owners(&Ring::build(&reduced), &reduced, 20_000);
    let removed = moved(&after, &after_removal);
    let had = after.iter().filter(|a| **a == four[1].0).count() as f64 / 20_000.0;
    eprintln!("consistent hash: 4 -> 3 endpoints moved {removed:.4} of keys (ideal 0.25)");
    assert!(
        (removed - had).abs() < 1e-9,
        "keys of surviving endpoints moved"
    );
    // List order does not matter: positions come from addresses.
    let mut shuffled = three.clone();
    shuffled.reverse();
    assert_eq!(
        owners(&Ring::build(&shuffled), &shuffled, 2000),
        owners(&Ring::build(&three), &three, 2000)
    );
}

#[test]
fn weights_scale_the_share_and_walk_visits_each_endpoint_once() {
    let mut list = addrs(2);
    list[1].1 = 3;
    let ring = Ring::build(&list);
    let got = owners(&ring, &list, 20_000);
    let heavy = got.iter().filter(|a| **a == list[1].0).count() as f64 / 20_000.0;
    assert!((0.70..0.80).contains(&heavy), "weight 3 of 4 got {heavy}");
    let walked: Vec<usize> = ring.walk(12345).collect();
    assert_eq!(walked.len(), 2);
    assert_ne!(walked[0], walked[1]);
}
