//! A hand-written Rust floor for `scenarios/west2025.toml`: the same model as
//! the scenario, with no scenario language and no expression evaluator; the
//! speed a straightforward single-purpose program reaches, to measure the
//! engine against (see `BENCHMARKS.md`).
//!
//! Same semantics as the engine (see `benches/reference/west2025_simpy.py` for
//! the list), but hazards are thinned against constant bounds (the incident
//! rate never exceeds `0.01 * 2 + 0.05`, the review rate is 0 or 1/2), so its
//! draws differ from the engine's: only the outcome distribution agrees,
//! within Monte Carlo error (`benches/compare.py` checks it).
//!
//! Two modes:
//!
//! * default: one ChaCha8 stream per replication and the platform's `ln` and
//!   `exp2` — the fastest straightforward program;
//! * `--contract`: what docs/design.md's determinism contract asks of the engine —
//!   one ChaCha8 stream per source of randomness (each rule, each hazard, the
//!   jittered schedule entry), re-keyed for every replication, computed one
//!   64-byte block at a time when a draw needs it (the engine's
//!   `flashpoint::rng::Stream`), and `libm`'s `log` and `exp2`. The gap between the two modes is the price of the
//!   contract; the gap between this mode and the engine is the price of the
//!   scenario language.
//!
//! `cargo run --release --example floor -- --reps 200000 --seed 1 [--contract] [--json]`

use flashpoint::rng::Stream;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// `--contract`: `libm`'s `exp2` for tension decay (set once in `main`).
static CONTRACT: AtomicBool = AtomicBool::new(false);
use std::time::Instant;

const HORIZON: f64 = 60.0;
const HALF_LIFE: f64 = 10.0;
const IMPACT: f64 = 0.015;
const SPILL: f64 = 0.5;
const CLOSE_PROB: f64 = 0.9;
const DEPLOY_K: f64 = 40.0;
const INCIDENT_BASE: f64 = 0.01;
const INCIDENT_GAIN: f64 = 0.05;
const INCIDENT_BOUND: f64 = INCIDENT_BASE * 2.0 + INCIDENT_GAIN;
const REVIEW_RATE: f64 = 0.5;

/// Event types, in the scenario's order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ev {
    Espionage,
    Expel,
    Kremlin,
    Drone,
    ExStart,
    ExEnd,
    Close,
    Reopen,
    Protest,
    Accuse,
    Deploy,
    Alert,
    Incident,
    Denial,
    CallDialogue,
    Talks,
    Review,
    Clash,
}
const N_EVENTS: usize = 18;

/// The scheduled events, in the scenario's order (their times are in `run`).
const SCHEDULE: [Ev; 5] = [
    Ev::Espionage,
    Ev::Drone,
    Ev::Kremlin,
    Ev::ExStart,
    Ev::ExEnd,
];

/// Rules, in declaration order: (emitted event, once, cooldown).
const RULES: [(Ev, bool, f64); 12] = [
    (Ev::Expel, true, 0.0),         // poland_retaliates_for_arrest
    (Ev::Close, true, 0.0),         // poland_closes_border
    (Ev::Deploy, true, 0.0),        // poland_deploys_troops
    (Ev::Alert, false, 3.0),        // nato_raises_alert
    (Ev::Protest, false, 0.0),      // belarus_protests_closure
    (Ev::Accuse, false, 7.0),       // belarus_accuses_overreaction
    (Ev::Denial, false, 0.0),       // belarus_denies_incident
    (Ev::CallDialogue, false, 5.0), // belarus_calls_for_dialogue
    (Ev::Talks, false, 7.0),        // talks_follow_call
    (Ev::Reopen, false, 0.0),       // poland_reopens_border
    (Ev::Close, false, 0.0),        // poland_recloses_border
    (Ev::Clash, false, 0.0),        // incident_escalates
];

/// The rules an event triggers, in declaration order.
fn rules_on(e: Ev) -> &'static [usize] {
    match e {
        Ev::Espionage => &[0],
        Ev::ExStart => &[1, 2],
        Ev::Drone => &[2, 3, 6, 11],
        Ev::Incident => &[2, 3, 6, 10, 11],
        Ev::Close => &[4, 5],
        Ev::Deploy => &[5],
        Ev::Protest | Ev::ExEnd => &[7],
        Ev::CallDialogue => &[8],
        Ev::Review | Ev::Talks => &[9],
        _ => &[],
    }
}

#[derive(Clone, Copy)]
struct Pending {
    time: f64,
    seq: u32,
    /// A rule index, or `100 + event` for a scheduled event.
    what: u32,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> Ordering {
        o.time.total_cmp(&self.time).then(o.seq.cmp(&self.seq))
    }
}

#[derive(Clone, Copy)]
struct Dyad {
    value: f64,
    baseline: f64,
    since: f64,
}

impl Dyad {
    fn at(&self, t: f64) -> f64 {
        let dt = t - self.since;
        if dt <= 0.0 || self.value == self.baseline {
            return self.value;
        }
        let x = -dt / HALF_LIFE;
        let decay = if CONTRACT.load(Relaxed) {
            libm::exp2(x)
        } else {
            x.exp2()
        };
        self.baseline + (self.value - self.baseline) * decay
    }
    fn add(&mut self, t: f64, delta: f64) {
        self.value = (self.at(t) + delta).clamp(0.0, 1.0);
        self.since = t;
    }
}

/// Stream index of each source in `--contract` mode: rules 0..12, then the
/// two hazards, then the jittered schedule entry.
const INCIDENT_SRC: usize = 12;
/// The west2025 rules in declaration order, whose names key their streams.
const RULE_NAMES: [&str; 12] = [
    "poland_retaliates_for_arrest",
    "poland_closes_border",
    "poland_deploys_troops",
    "nato_raises_alert",
    "belarus_protests_closure",
    "belarus_accuses_overreaction",
    "belarus_denies_incident",
    "belarus_calls_for_dialogue",
    "talks_follow_call",
    "poland_reopens_border",
    "poland_recloses_border",
    "incident_escalates",
];
const REVIEW_SRC: usize = 13;
const JITTER_SRC: usize = 14;

struct Rep {
    rng: ChaCha8Rng,
    /// `--contract`: one stream per source, indexed as `*_SRC` and rules:
    /// the engine's [`Stream`], which computes one 64-byte ChaCha8 block at
    /// a time, when a draw needs it (the contract fixes the keystream, not
    /// `rand_chacha`'s four-block buffer).
    streams: Vec<Stream>,
    contract: bool,
    now: f64,
    queue: BinaryHeap<Pending>,
    seq: u32,
    n_events: u32,
    counts: [u32; N_EVENTS],
    first_reopen: f64,
    exercising: bool,
    isolated: bool,
    open: bool,
    troops: f64,
    closed_at: f64,
    days_closed: f64,
    alert: u32,
    pb: Dyad,
    nr: Dyad,
    pr: Dyad,
    eb: Dyad,
    last_emit: [f64; 12],
    pending: [u32; 12],
    emitted: [bool; 12],
    ended: bool,
}

impl Rep {
    fn uniform(&mut self, src: usize) -> f64 {
        let word = if self.contract {
            self.streams[src].next_u64()
        } else {
            self.rng.next_u64()
        };
        (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn exponential(&mut self, src: usize, mean: f64) -> f64 {
        let u = 1.0 - self.uniform(src);
        -mean * if self.contract { libm::log(u) } else { u.ln() }
    }
    fn push(&mut self, time: f64, what: u32) {
        self.seq += 1;
        self.queue.push(Pending {
            time,
            seq: self.seq,
            what,
        });
    }

    fn when(&self, r: usize) -> bool {
        let t = self.now;
        match r {
            1 => self.open,
            2 => self.troops < DEPLOY_K,
            3 => self.alert < 2,
            7 => self.isolated && !self.open,
            8 => !self.open,
            9 => !self.open && !self.exercising && self.pb.at(t) < 0.5,
            10 => self.open && self.counts[Ev::Reopen as usize] > 0 && self.pb.at(t) > 0.7,
            _ => true,
        }
    }

    fn prob(&self, r: usize) -> f64 {
        match r {
            1 | 10 => CLOSE_PROB,
            8 => 0.5,
            11 => 0.02 * self.pb.at(self.now),
            _ => 1.0,
        }
    }

    fn delay(&mut self, r: usize) -> f64 {
        match r {
            0 => self.exponential(r, 2.0),
            1 | 10 => self.exponential(r, 0.25),
            2..=5 => self.exponential(r, 1.0),
            6 => self.exponential(r, 0.5),
            7 => self.exponential(r, 2.0),
            8 => self.exponential(r, 3.0),
            9 => 1.0 + self.uniform(r),
            _ => self.exponential(r, 0.1),
        }
    }

    fn happen(&mut self, e: Ev) {
        let t = self.now;
        let s = IMPACT;
        self.n_events += 1;
        self.counts[e as usize] += 1;
        match e {
            Ev::Espionage => self.pb.add(t, 5.0 * s),
            Ev::Expel => self.pb.add(t, 4.0 * s),
            Ev::Kremlin | Ev::Review => {}
            Ev::Drone => {
                self.pr.add(t, 10.0 * s);
                self.pb.add(t, SPILL * 10.0 * s);
                self.nr.add(t, SPILL * 10.0 * s);
            }
            Ev::ExStart => {
                self.exercising = true;
                self.pb.add(t, 7.2 * s);
                self.pr.add(t, 7.2 * s);
                self.nr.add(t, SPILL * 7.2 * s);
                self.eb.add(t, SPILL * 7.2 * s);
            }
            Ev::ExEnd => self.exercising = false,
            Ev::Close => {
                self.open = false;
                self.closed_at = t;
                self.pb.add(t, 4.0 * s);
                self.eb.add(t, SPILL * 4.0 * s);
            }
            Ev::Reopen => {
                if self.first_reopen.is_infinite() {
                    self.first_reopen = t;
                }
                self.days_closed += t - self.closed_at;
                self.open = true;
                self.pb.add(t, -5.0 * s);
                self.eb.add(t, -SPILL * 5.0 * s);
            }
            Ev::Protest | Ev::Accuse | Ev::Denial => self.pb.add(t, 2.0 * s),
            Ev::Deploy => {
                self.troops = self.troops.max(DEPLOY_K);
                self.pb.add(t, 7.2 * s);
                self.pr.add(t, SPILL * 7.2 * s);
            }
            Ev::Alert => {
                self.alert += 1;
                self.nr.add(t, 7.2 * s);
            }
            Ev::Incident => self.pb.add(t, 10.0 * s),
            Ev::CallDialogue => self.pb.add(t, -4.0 * s),
            Ev::Talks => {
                self.isolated = false;
                self.pb.add(t, -7.0 * s);
            }
            Ev::Clash => {
                self.pb.value = 1.0;
                self.pb.since = t;
                self.ended = true;
                return;
            }
        }
        for &r in rules_on(e) {
            self.trigger(r);
        }
    }

    fn trigger(&mut self, r: usize) {
        let (_, once, cooldown) = RULES[r];
        if once && (self.emitted[r] || self.pending[r] > 0) {
            return;
        }
        if self.now - self.last_emit[r] < cooldown || !self.when(r) {
            return;
        }
        let p = self.prob(r);
        if p < 1.0 && self.uniform(r) >= p {
            return;
        }
        let at = self.now + self.delay(r);
        self.pending[r] += 1;
        self.push(at, r as u32);
    }

    fn fire(&mut self, r: usize) {
        let (emit, once, cooldown) = RULES[r];
        self.pending[r] -= 1;
        if (once && self.emitted[r]) || self.now - self.last_emit[r] < cooldown || !self.when(r) {
            return;
        }
        self.last_emit[r] = self.now;
        self.emitted[r] = true;
        self.happen(emit);
    }

    fn incident_rate(&self) -> f64 {
        let pb = self.pb.at(self.now);
        INCIDENT_BASE * (1.0 + self.troops / 40.0) + INCIDENT_GAIN * pb * pb
    }

    /// Runs to the horizon or the clash; returns the end time.
    fn run(&mut self) -> f64 {
        let jitter = -3.0 + 6.0 * self.uniform(JITTER_SRC);
        let times = [
            (3.0 + jitter).clamp(0.0, HORIZON),
            9.0 + 2.0 / 24.0,
            10.0,
            11.0,
            16.0,
        ];
        for (i, at) in times.into_iter().enumerate() {
            self.push(at, 100 + i as u32);
        }
        let mut next_incident = self.exponential(INCIDENT_SRC, 1.0 / INCIDENT_BOUND);
        let mut next_review = self.exponential(REVIEW_SRC, 1.0 / REVIEW_RATE);
        loop {
            let tq = self.queue.peek().map_or(f64::INFINITY, |p| p.time);
            let next = tq.min(next_incident).min(next_review);
            if next > HORIZON {
                return HORIZON;
            }
            self.now = next;
            if next == next_incident && next < tq {
                next_incident = self.now + self.exponential(INCIDENT_SRC, 1.0 / INCIDENT_BOUND);
                if self.uniform(INCIDENT_SRC) * INCIDENT_BOUND < self.incident_rate() {
                    self.happen(Ev::Incident);
                }
            } else if next == next_review && next < tq {
                next_review = self.now + self.exponential(REVIEW_SRC, 1.0 / REVIEW_RATE);
                if !self.open && !self.exercising {
                    self.happen(Ev::Review);
                }
            } else {
                let p = self.queue.pop().expect("a queued entry is next");
                if p.what >= 100 {
                    self.happen(SCHEDULE[(p.what - 100) as usize]);
                } else {
                    self.fire(p.what as usize);
                }
            }
            if self.ended {
                return self.now;
            }
        }
    }
}

const NAMES: [&str; 12] = [
    "closure_days",
    "reopen_day",
    "n_incidents",
    "observed_like",
    "path=escalation",
    "path=dialogue",
    "path=entrenchment",
    "n_events",
    "count_border_close",
    "count_talks",
    "count_raise_alert",
    "tension_POL_BLR_final",
];

fn outcomes(r: &Rep, t: f64) -> [f64; 12] {
    let c = |e: Ev| r.counts[e as usize];
    let pb = r.pb.at(t);
    let clash = c(Ev::Clash) > 0;
    let escalation = clash || pb >= 0.8;
    let dialogue = !escalation && c(Ev::Talks) > 0 && c(Ev::Reopen) > 0 && r.open;
    let observed = c(Ev::Close) > 0
        && c(Ev::Protest) > 0
        && c(Ev::Deploy) > 0
        && !clash
        && (20.0..=28.0).contains(&r.first_reopen);
    let b = |x: bool| if x { 1.0 } else { 0.0 };
    [
        r.days_closed + if r.open { 0.0 } else { t - r.closed_at },
        if c(Ev::Reopen) > 0 {
            r.first_reopen
        } else {
            60.0
        },
        f64::from(c(Ev::Incident)),
        b(observed),
        b(escalation),
        b(dialogue),
        b(!escalation && !dialogue),
        f64::from(r.n_events),
        f64::from(c(Ev::Close)),
        f64::from(c(Ev::Talks)),
        f64::from(c(Ev::Alert)),
        pb,
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let reps = arg("--reps", 200_000).max(2);
    let seed = arg("--seed", 1);
    let json = args.iter().any(|a| a == "--json");
    let contract = args.iter().any(|a| a == "--contract");
    CONTRACT.store(contract, Relaxed);

    let started = Instant::now();
    let mut sum = [0.0f64; 12];
    let mut sum_sq = [0.0f64; 12];
    let mut events = 0u64;
    let mut rep = Rep {
        rng: ChaCha8Rng::seed_from_u64(0),
        streams: (0..=JITTER_SRC).map(|_| Stream::new(&[0; 32], 0)).collect(),
        contract,
        now: 0.0,
        queue: BinaryHeap::with_capacity(32),
        seq: 0,
        n_events: 0,
        counts: [0; N_EVENTS],
        first_reopen: f64::INFINITY,
        exercising: false,
        isolated: true,
        open: true,
        troops: 10.0,
        closed_at: 0.0,
        days_closed: 0.0,
        alert: 0,
        pb: Dyad {
            value: 0.35,
            baseline: 0.25,
            since: 0.0,
        },
        nr: Dyad {
            value: 0.5,
            baseline: 0.5,
            since: 0.0,
        },
        pr: Dyad {
            value: 0.45,
            baseline: 0.45,
            since: 0.0,
        },
        eb: Dyad {
            value: 0.3,
            baseline: 0.3,
            since: 0.0,
        },
        last_emit: [f64::NEG_INFINITY; 12],
        pending: [0; 12],
        emitted: [false; 12],
        ended: false,
    };
    for i in 0..reps {
        let key = flashpoint::rng::replication_key(seed, i, None);
        if contract {
            use flashpoint::rng::stream_id;
            for (src, stream) in rep.streams.iter_mut().enumerate() {
                *stream = Stream::new(
                    &key,
                    match src {
                        INCIDENT_SRC => stream_id::named(stream_id::KIND_HAZARD, "border_incident"),
                        REVIEW_SRC => stream_id::named(stream_id::KIND_HAZARD, "closure_review"),
                        JITTER_SRC => {
                            stream_id::named(stream_id::KIND_SCHEDULE, "espionage_arrest@3")
                        }
                        r => stream_id::named(stream_id::KIND_RULE, RULE_NAMES[r]),
                    },
                );
            }
        } else {
            rep.rng = ChaCha8Rng::from_seed(key);
        }
        reset(&mut rep);
        let end = rep.run();
        let row = outcomes(&rep, end);
        events += u64::from(rep.n_events);
        for k in 0..12 {
            sum[k] += row[k];
            sum_sq[k] += row[k] * row[k];
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = reps as f64;
    let stat = |k: usize| {
        let mean = sum[k] / n;
        let var = ((sum_sq[k] - n * mean * mean) / (n - 1.0)).max(0.0);
        (mean, (var / n).sqrt())
    };
    if json {
        let metrics: Vec<String> = (0..12)
            .map(|k| {
                let (m, se) = stat(k);
                format!("\"{}\": {{\"mean\": {m}, \"se\": {se}}}", NAMES[k])
            })
            .collect();
        println!(
            "{{\"reps\": {reps}, \"seconds\": {seconds}, \"events\": {events}, \"metrics\": {{{}}}}}",
            metrics.join(", ")
        );
    } else {
        println!(
            "floor{}: {reps} replications in {seconds:.2} s: {:.0} reps/s, {:.0} events/s",
            if contract { " (--contract)" } else { "" },
            n / seconds,
            events as f64 / seconds
        );
        for (k, name) in NAMES.iter().enumerate() {
            let (m, se) = stat(k);
            println!("{name:24} {m:10.4} ± {se:.4}");
        }
    }
}

/// Back to the state at day 0 (the generator is already fresh).
fn reset(r: &mut Rep) {
    r.queue.clear();
    r.now = 0.0;
    r.seq = 0;
    r.n_events = 0;
    r.counts = [0; N_EVENTS];
    r.first_reopen = f64::INFINITY;
    r.exercising = false;
    r.isolated = true;
    r.open = true;
    r.troops = 10.0;
    r.closed_at = 0.0;
    r.days_closed = 0.0;
    r.alert = 0;
    r.pb = Dyad {
        value: 0.35,
        baseline: 0.25,
        since: 0.0,
    };
    r.nr = Dyad {
        value: 0.5,
        baseline: 0.5,
        since: 0.0,
    };
    r.pr = Dyad {
        value: 0.45,
        baseline: 0.45,
        since: 0.0,
    };
    r.eb = Dyad {
        value: 0.3,
        baseline: 0.3,
        since: 0.0,
    };
    r.last_emit = [f64::NEG_INFINITY; 12];
    r.pending = [0; 12];
    r.emitted = [false; 12];
    r.ended = false;
}
