//! Criterion benchmarks of the hot paths, on the default scenario
//! (`scenarios/west2025.toml`): one replication (with and without tracing),
//! expression evaluation (point and interval), the event queue under a
//! realistic mix, and the parallel harness on 1 and 2 threads.
//!
//! `cargo bench -p flashpoint-bench` runs them (a workspace member of its own, so that criterion is not a dev-dependency of flashpoint); `BENCHMARKS.md` says how to read
//! the numbers. The machine may be shared: compare ratios measured in one run.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use flashpoint::engine::queue::{Action, Entry, Queue};
use flashpoint::engine::{Engine, RunOptions, TraceEvent};
use flashpoint::expr::{ActorRef, Env, Interval, IntervalEnv};
use flashpoint::rng::{replication_key, Stream};
use flashpoint::runner::harness::{execute, Plan};
use flashpoint::scenario::Scenario;
use std::hint::black_box;

fn west2025() -> (Scenario, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/west2025.toml");
    let text = std::fs::read_to_string(path).expect("the default scenario is readable");
    let scenario = flashpoint::scenario::parse(path, &text).expect("the default scenario parses");
    let params = scenario.param_values(&[]).expect("default parameters");
    (scenario, params)
}

/// One replication, keys cycling over 1024 replications so that the branch
/// predictor cannot learn a single history.
fn replication(c: &mut Criterion) {
    let (scenario, params) = west2025();
    let keys: Vec<[u8; 32]> = (0..1024).map(|r| replication_key(42, r, None)).collect();
    let mut engine = Engine::new(&scenario);
    let mut out = vec![0.0; engine.n_columns()];
    let mut group = c.benchmark_group("replication");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("west2025", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            engine
                .run(&params, &keys[i], RunOptions::default(), &mut out, None)
                .expect("runs");
            black_box(&out);
        })
    });
    let mut trace: Vec<TraceEvent> = Vec::new();
    group.bench_function("west2025_traced", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            trace.clear();
            engine
                .run(
                    &params,
                    &keys[i],
                    RunOptions::default(),
                    &mut out,
                    Some(&mut trace),
                )
                .expect("runs");
            black_box((&out, &trace));
        })
    });
    group.finish();
}

/// A fixed mid-crisis state for the expression benchmarks: the tension of
/// every dyad is 0.6 (0.55 to 0.6 over a window), troops 40k, border closed.
struct BenchEnv;

impl Env for BenchEnv {
    fn param(&self, idx: u32) -> f64 {
        // Any positive values will do; the default scenario's are similar.
        [
            0.9, 0.25, 1.0, 40.0, 1.0, 0.01, 0.05, 10.0, 0.015, 0.5, 0.5, 2.0, 2.0,
        ][idx as usize % 13]
    }
    fn time(&self) -> f64 {
        20.0
    }
    fn tension(&self, _: u32) -> f64 {
        0.6
    }
    fn tension_between(&self, _: ActorRef, _: ActorRef) -> f64 {
        0.6
    }
    fn state(&self, _: ActorRef, var: u32) -> f64 {
        if var == 0 {
            0.0
        } else {
            40.0
        }
    }
    fn count(&self, _: u32) -> f64 {
        1.0
    }
    fn first(&self, _: u32) -> f64 {
        12.0
    }
    fn last(&self, _: u32) -> f64 {
        15.0
    }
}

impl IntervalEnv for BenchEnv {
    fn param(&self, idx: u32) -> Interval {
        Interval::point(Env::param(self, idx))
    }
    fn time(&self) -> Interval {
        Interval { lo: 20.0, hi: 21.5 }
    }
    fn tension(&self, _: u32) -> Interval {
        Interval { lo: 0.55, hi: 0.6 }
    }
    fn tension_between(&self, _: ActorRef, _: ActorRef) -> Interval {
        Interval { lo: 0.55, hi: 0.6 }
    }
    fn state(&self, actor: ActorRef, var: u32) -> Interval {
        Interval::point(Env::state(self, actor, var))
    }
    fn count(&self, _: u32) -> Interval {
        Interval::point(1.0)
    }
    fn first(&self, _: u32) -> Interval {
        Interval::point(12.0)
    }
    fn last(&self, _: u32) -> Interval {
        Interval::point(15.0)
    }
}

/// The scenario's own expressions: the incident hazard's rate (point and
/// interval, the latter used for every thinning bound) and the reopening
/// rule's condition.
fn expressions(c: &mut Criterion) {
    let (scenario, _) = west2025();
    let rate = &scenario.hazards[0].rate;
    let reopen = scenario
        .rules
        .iter()
        .find(|r| r.name == "poland_reopens_border")
        .and_then(|r| r.when.as_ref())
        .expect("the reopening rule has a condition");
    let mut group = c.benchmark_group("expr");
    group.bench_function("hazard_rate_point", |b| {
        b.iter(|| black_box(rate).eval(black_box(&BenchEnv)))
    });
    group.bench_function("hazard_rate_interval", |b| {
        b.iter(|| black_box(rate).eval_interval(black_box(&BenchEnv)))
    });
    group.bench_function("rule_condition", |b| {
        b.iter(|| black_box(reopen).eval(black_box(&BenchEnv)))
    });
    group.finish();
}

/// The event queue as a replication uses it: a handful of pending entries,
/// each pop followed by zero to two pushes with exponential delays (about
/// 23 events per replication, at most a dozen pending).
fn queue(c: &mut Criterion) {
    let mut q = Queue::default();
    let mut rng = Stream::new(&replication_key(1, 0, None), 0);
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(64));
    group.bench_function("mix_64_events", |b| {
        b.iter_batched(
            || (),
            |()| {
                q.clear();
                let mut tie = 0;
                let mut now = 0.0;
                for i in 0..5u32 {
                    tie += 1;
                    q.push(entry(f64::from(i) * 3.0, tie));
                }
                for _ in 0..64 {
                    let Some(e) = q.pop() else { break };
                    now = e.time;
                    let pushes = (rng.next_u64() % 3) as usize;
                    for _ in 0..pushes.min(12 - q.len().min(12)) {
                        tie += 1;
                        q.push(entry(now + rng.exponential(1.0), tie));
                    }
                }
                black_box(now)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn entry(time: f64, tie: u64) -> Entry {
    Entry {
        time,
        priority: 0,
        tie,
        action: Action::Fire((tie % 12) as u32, 0),
        trig_source: 0,
        trig_target: 1,
        cause: tie as u32,
    }
}

/// The harness on 1 and 2 threads, 4096 replications, a sink that only
/// touches the rows (the run command's CSV and summary work is not included).
fn harness(c: &mut Criterion) {
    let (scenario, params) = west2025();
    let reps = 4096;
    let mut group = c.benchmark_group("harness");
    group.throughput(Throughput::Elements(reps));
    group.sample_size(10);
    for threads in [1, 2] {
        let plan = Plan {
            scenario: &scenario,
            points: vec![params.clone()],
            reps,
            seed: 42,
            independent_streams: false,
            range: 0..reps,
            options: RunOptions::default(),
            grid: None,
            mixture: None,
        };
        group.bench_function(format!("west2025_{reps}_reps_{threads}_threads"), |b| {
            b.iter(|| {
                let mut total = 0.0;
                execute(&plan, threads, |block| {
                    total += block.values.iter().sum::<f64>();
                    Ok::<(), ()>(())
                })
                .expect("runs")
                .expect("the sink never fails");
                black_box(total)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, replication, expressions, queue, harness);
criterion_main!(benches);
