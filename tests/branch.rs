//! The pausable, copyable engine: `start`, `advance_until`, snapshots
//! (`Clone`) and `branch` onto fresh streams.

mod common;
use common::*;
use flashpoint::engine::{columns, Engine, RunOptions, Step, Until};
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

/// `count(ping)`, compiled as a score is.
fn count(s: &flashpoint::scenario::Scenario) -> flashpoint::expr::Expr {
    compile("count(ping)", &s.scope, Context::default(), Some(Type::Num)).unwrap()
}

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
    let pings = count(&s);
    let mut e = Engine::new(&s);
    let mut whole = vec![0.0; n];
    e.run(&p, &key, RunOptions::default(), &mut whole, None)
        .unwrap();
    e.start(&p, &key, RunOptions::default()).unwrap();
    let step = e
        .advance_until(&p, Until::Above(&pings, 4.0), None)
        .unwrap();
    assert_eq!(step, Step::Stopped);
    assert_eq!(e.n_events(), 5);
    let mut copy = e.clone();
    assert_eq!(e.advance_until(&p, Until::End, None).unwrap(), Step::Ended);
    assert_eq!(
        copy.advance_until(&p, Until::End, None).unwrap(),
        Step::Ended
    );
    let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
    e.outputs(&p, &mut a);
    copy.outputs(&p, &mut b);
    assert_eq!(a, whole);
    assert_eq!(b, whole);
    // Ended stays ended.
    assert_eq!(
        e.advance_until(&p, Until::Time(0.0), None).unwrap(),
        Step::Ended
    );
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
    let pings = count(&s);
    let mut e = Engine::new(&s);
    e.start(&p, &key, RunOptions::default()).unwrap();
    e.advance_until(&p, Until::Above(&pings, 4.0), None)
        .unwrap();
    let finals: Vec<f64> = (0..6u64)
        .map(|b| {
            let mut c = e.clone();
            c.branch(&branch_key(&key, b % 3));
            assert_eq!(c.eval(&p, &pings), 5.0);
            c.advance_until(&p, Until::End, None).unwrap();
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
    let pings = count(&s);
    let mut e = Engine::new(&s);
    e.start(&p, &key, RunOptions::default()).unwrap();
    e.advance_until(&p, Until::Above(&pings, 4.0), None)
        .unwrap();
    let mean_rest = 0.4 * (50.0 - e.now());
    let m = 4000u64;
    let mut sum = 0.0;
    for b in 0..m {
        let mut c = e.clone();
        c.branch(&branch_key(&key, b));
        c.advance_until(&p, Until::End, None).unwrap();
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

/// A pause at a time: every event up to it has happened, the clock reads
/// it, and the replication goes on to the same end as without the pause.
#[test]
fn pausing_at_a_time_changes_nothing() {
    let s = scenario(POISSON);
    let p = params(&s);
    let n = columns(&s).len();
    let key = replication_key(4, 0, None);
    let mut e = Engine::new(&s);
    let mut whole = vec![0.0; n];
    e.run(&p, &key, RunOptions::default(), &mut whole, None)
        .unwrap();
    let mut trace = Vec::new();
    e.start(&p, &key, RunOptions::default()).unwrap();
    e.advance_until(&p, Until::End, Some(&mut trace)).unwrap();
    let before_20 = trace.iter().filter(|t| t.time <= 20.0).count();
    e.start(&p, &key, RunOptions::default()).unwrap();
    let step = e.advance_until(&p, Until::Time(20.0), None).unwrap();
    assert_eq!(step, Step::Stopped);
    assert_eq!(e.now(), 20.0);
    assert_eq!(e.n_events() as usize, before_20);
    // A time before now stops at once; the horizon is the end.
    assert_eq!(
        e.advance_until(&p, Until::Time(10.0), None).unwrap(),
        Step::Stopped
    );
    assert_eq!(e.now(), 20.0);
    assert_eq!(
        e.advance_until(&p, Until::Time(1e9), None).unwrap(),
        Step::Ended
    );
    let mut paused = vec![0.0; n];
    e.outputs(&p, &mut paused);
    assert_eq!(paused, whole);
}

/// A hazard whose bound is 0 at the branch point (here: until a switch
/// event) still gets a fresh residual on each branch: its first candidate
/// after the switch differs between branches, and is Exp(rate) after it.
#[test]
fn branch_redraws_the_residual_of_a_hazard_at_bound_zero() {
    let s = scenario(
        r#"
[scenario]
name = "switch"
horizon = 100
[[actor]]
id = "A"
state = { on = false }
[[event]]
id = "switch"
effects = ["A.on = true"]
[[event]]
id = "ping"
terminal = true
[[schedule]]
event = "switch"
at = 10
[[hazard]]
name = "pings"
event = "ping"
rate = "if A.on then 1 else 0"
[[outcome]]
name = "at"
value = "first(ping)"
"#,
    );
    let p = params(&s);
    let n = columns(&s).len();
    let key = replication_key(1, 0, None);
    let mut e = Engine::new(&s);
    e.start(&p, &key, RunOptions::default()).unwrap();
    assert_eq!(
        e.advance_until(&p, Until::Time(5.0), None).unwrap(),
        Step::Stopped
    );
    let m = 2000u64;
    let mut gaps = Vec::new();
    for b in 0..m {
        let mut c = e.clone();
        c.branch(&branch_key(&key, b));
        c.advance_until(&p, Until::End, None).unwrap();
        let mut out = vec![0.0; n];
        c.outputs(&p, &mut out);
        gaps.push(out[0] - 10.0);
    }
    gaps.sort_by(f64::total_cmp);
    gaps.dedup();
    assert!(gaps.len() > 1900, "{} distinct gaps", gaps.len());
    let (mean, _) = mean_var(&gaps);
    // Exp(1): mean 1, se 1/sqrt(m) (the few dedup'd values change nothing).
    assert!((mean - 1.0).abs() < 4.0 / (m as f64).sqrt(), "mean {mean}");
}
