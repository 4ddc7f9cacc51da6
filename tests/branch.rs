//! The pausable, copyable engine: `start`, `advance_until`, snapshots
//! (`Clone`) and `branch` onto fresh streams.

mod common;
use common::*;
use flashpoint::engine::{columns, Engine, RunOptions, Step};
use flashpoint::expr::{compile, Context, Type};
use flashpoint::rng::{branch_key, replication_key};

const POISSON: &str = r#"
[scenario]
name = "poisson"
horizon = 50
[params]
lambda = { value = 0.4, min = 0.0, max = 10.0 }
[[actor]]
id = "A"
[[event]]
id = "ping"
[[hazard]]
name = "pings"
event = "ping"
rate = "lambda"
[[outcome]]
name = "pings"
value = "count(ping)"
"#;

fn params(s: &flashpoint::scenario::Scenario) -> Vec<f64> {
    s.params.iter().map(|p| p.value).collect()
}

/// `run` is `start` + `advance_until` (never stopping) + `outputs`, and a
/// replication paused after its 5th event and copied goes on exactly as
/// the original does: the snapshot holds the whole state.
#[test]
fn paused_and_copied_replication_continues_identically() {
    let s = scenario(POISSON);
    let p = params(&s);
    let n = columns(&s).len();
    let key = replication_key(9, 0, None);
    let mut e = Engine::new(&s);
    let mut whole = vec![0.0; n];
    e.run(&p, &key, RunOptions::default(), &mut whole, None)
        .unwrap();
    e.start(&p, &key, RunOptions::default()).unwrap();
    let step = e.advance_until(&p, |e| e.n_events() == 5, None).unwrap();
    assert_eq!(step, Step::Stopped);
    assert_eq!(e.n_events(), 5);
    let mut copy = e.clone();
    assert_eq!(e.advance_until(&p, |_| false, None).unwrap(), Step::Ended);
    assert_eq!(
        copy.advance_until(&p, |_| false, None).unwrap(),
        Step::Ended
    );
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    e.outputs(&p, &mut a);
    copy.outputs(&p, &mut b);
    assert_eq!(a, whole);
    assert_eq!(b, whole);
    // Ended stays ended.
    assert_eq!(e.advance_until(&p, |_| true, None).unwrap(), Step::Ended);
}

/// Branches of one snapshot: the same branch key gives the same future,
/// different keys different futures, and the past (5 pings by the pause)
/// is kept by every branch.
#[test]
fn branches_share_the_past_and_differ_after() {
    let s = scenario(POISSON);
    let p = params(&s);
    let n = columns(&s).len();
    let key = replication_key(9, 0, None);
    let count = compile("count(ping)", &s.scope, Context::default(), Some(Type::Num)).unwrap();
    let mut e = Engine::new(&s);
    e.start(&p, &key, RunOptions::default()).unwrap();
    e.advance_until(&p, |e| e.n_events() == 5, None).unwrap();
    let finals: Vec<f64> = (0..6u64)
        .map(|b| {
            let mut c = e.clone();
            c.branch(&branch_key(&key, b % 3));
            assert_eq!(c.eval(&p, &count), 5.0);
            c.advance_until(&p, |_| false, None).unwrap();
            let mut out = vec![0.0; n];
            c.outputs(&p, &mut out);
            assert!(out[0] >= 5.0);
            out[0]
        })
        .collect();
    assert_eq!(finals[0], finals[3]);
    assert_eq!(finals[1], finals[4]);
    assert!(
        finals[0] != finals[1] || finals[1] != finals[2],
        "{finals:?}"
    );
}

/// A branch's future is distributed as a fresh replication's: from a pause
/// at the 5th ping, the pings still to come are Poisson(λ·(50 − t)).
/// Over 4000 branches the mean of (count − 5 − λ(50 − t)) is within 4 se.
#[test]
fn branch_futures_have_the_right_law() {
    let s = scenario(POISSON);
    let p = params(&s);
    let n = columns(&s).len();
    let key = replication_key(11, 0, None);
    let mut e = Engine::new(&s);
    e.start(&p, &key, RunOptions::default()).unwrap();
    e.advance_until(&p, |e| e.n_events() == 5, None).unwrap();
    let mean_rest = 0.4 * (50.0 - e.now());
    let m = 4000u64;
    let mut sum = 0.0;
    for b in 0..m {
        let mut c = e.clone();
        c.branch(&branch_key(&key, b));
        c.advance_until(&p, |_| false, None).unwrap();
        let mut out = vec![0.0; n];
        c.outputs(&p, &mut out);
        sum += out[0] - 5.0 - mean_rest;
    }
    let se = (mean_rest / m as f64).sqrt();
    assert!(
        (sum / m as f64).abs() < 4.0 * se,
        "{} vs se {se}",
        sum / m as f64
    );
}
