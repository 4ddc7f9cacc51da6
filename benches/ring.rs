//! The N-actor ring of issue 13: what one event costs as the number of
//! actors grows. A ring of N actors, one dyad and one tension-dependent
//! hazard per neighbouring pair, and three rules per actor filtered by
//! `to = X` (protest a provocation, calm after a protest, retaliate); every
//! effect writes `tension(source, target)`, so each event type is the
//! trigger of N rules, of which the filters select one or two.
//!
//! `cargo bench --bench ring` prints instructions per event for N = 4, 16,
//! 64 and 256, counted by running this program under valgrind's callgrind
//! twice per N (two replication counts) and dividing the difference in
//! instructions by the difference in events, so loading the scenario and
//! building the engine cancel out. Without valgrind it prints nanoseconds
//! per event instead (noisy on a shared machine). `--child N REPS` runs the
//! replications and prints the number of events; `--toml N` prints the
//! scenario.

use flashpoint::engine::{columns, Engine, RunOptions};
use flashpoint::rng::replication_key;
use std::fmt::Write;
use std::process::Command;

/// The ring scenario with `n` actors, as TOML.
fn ring(n: usize) -> String {
    let actor = |i: usize| format!("A{}", i % n);
    let mut t = String::from(
        "[scenario]\nname = \"ring\"\ndescription = \"the N-actor ring of issue 13\"\n\
         time_unit = \"days\"\nhorizon = 100\nseed = 1\n\n\
         [params]\ngain = { value = 0.1, min = 0.0, max = 1.0, doc = \"incidents per day at tension 1\" }\n\n",
    );
    for i in 0..n {
        let a = actor(i);
        writeln!(t, "[[actor]]\nid = \"{a}\"\nname = \"{a}\"\n").unwrap();
    }
    for i in 0..n {
        let (a, b) = (actor(i), actor(i + 1));
        writeln!(
            t,
            "[[tension]]\nbetween = [\"{a}\", \"{b}\"]\ninitial = 0.3\nbaseline = 0.2\n\
             half_life = 10\nrange = [0.0, 1.0]\nthresholds = [0.5]\n"
        )
        .unwrap();
    }
    for (event, effect) in [
        ("provoke", "+= 0.05"),
        ("protest", "+= 0.02"),
        ("calm", "-= 0.03"),
    ] {
        writeln!(
            t,
            "[[event]]\nid = \"{event}\"\nlabel = \"{event}\"\n\
             effects = [\"tension(source, target) {effect}\"]\n"
        )
        .unwrap();
    }
    for i in 0..n {
        let a = actor(i);
        for (name, on, prob, mean, emit) in [
            ("protests", "provoke", 1.0, 1.0, "protest"),
            ("calms", "protest", 0.5, 2.0, "calm"),
            ("retaliates", "provoke", 0.3, 2.0, "provoke"),
        ] {
            writeln!(
                t,
                "[[rule]]\nname = \"{a}_{name}\"\nactor = \"{a}\"\non = \"{on}\"\nto = \"{a}\"\n\
                 prob = {prob:?}\ndelay = {{ exponential = {{ mean = {mean:?} }} }}\n\
                 emit = {{ event = \"{emit}\", target = \"source\" }}\n"
            )
            .unwrap();
        }
    }
    for i in 0..n {
        let (a, b) = (actor(i), actor(i + 1));
        writeln!(
            t,
            "[[hazard]]\nname = \"incident_{a}_{b}\"\nevent = \"provoke\"\nsource = \"{a}\"\n\
             target = \"{b}\"\nrate = \"0.02 + gain * tension({a}, {b})\"\n"
        )
        .unwrap();
    }
    t.push_str("[[outcome]]\nname = \"n_provoke\"\nvalue = \"count(provoke)\"\n");
    t
}

/// Runs `reps` replications of the ring with `n` actors; the total number
/// of events.
fn run(n: usize, reps: u64) -> u64 {
    let scenario = flashpoint::scenario::parse("ring.toml", &ring(n)).expect("the ring parses");
    let params = scenario.param_values(&[]).expect("default parameters");
    let n_events = (columns(&scenario).iter())
        .position(|c| c.name == "n_events")
        .expect("an n_events column");
    let mut engine = Engine::new(&scenario);
    let mut out = vec![0.0; engine.n_columns()];
    let mut events = 0;
    for r in 0..reps {
        let key = replication_key(7, r, None);
        engine
            .run(&params, &key, RunOptions::default(), &mut out, None)
            .expect("the ring runs");
        events += out[n_events] as u64;
    }
    events
}

/// Instructions (callgrind's "Collected") and events of one child run.
fn counted(n: usize, reps: u64) -> Option<(u64, u64)> {
    let me = std::env::current_exe().ok()?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(me)
        .args(["--child", &n.to_string(), &reps.to_string()])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let collected = stderr.split("Collected : ").nth(1)?;
    let instructions = collected.split_whitespace().next()?.parse().ok()?;
    let events = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((instructions, events))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args[i].parse::<u64>().expect("a number");
    match args.first().map(String::as_str) {
        Some("--child") => {
            println!("{}", run(arg(1) as usize, arg(2)));
            return;
        }
        Some("--toml") => {
            print!("{}", ring(arg(1) as usize));
            return;
        }
        _ => {}
    }
    let sizes = [4usize, 16, 64, 256];
    // About 16 events per actor and replication: some 2,000 to 4,000
    // events per count whatever N.
    let reps = |n: usize| (2000 / n as u64).max(1);
    let probe = counted(4, 1);
    if probe.is_none() {
        println!("valgrind not found: nanoseconds per event (wall clock, noisy)");
    }
    println!(
        "{:>5} {:>10} {:>22} {:>10}",
        "N", "events", "instructions/event", "vs N = 4"
    );
    let mut first = None;
    for n in sizes {
        let (r1, r2) = (reps(n), 3 * reps(n));
        let (events, per_event) = if probe.is_some() {
            let (i1, e1) = counted(n, r1).expect("callgrind runs");
            let (i2, e2) = counted(n, r2).expect("callgrind runs");
            (e2 - e1, (i2 - i1) as f64 / (e2 - e1) as f64)
        } else {
            let start = std::time::Instant::now();
            let e1 = run(n, r1);
            let t1 = start.elapsed();
            let start = std::time::Instant::now();
            let e2 = run(n, r2);
            let t2 = start.elapsed();
            let ns = t2.as_nanos() as f64 - t1.as_nanos() as f64;
            (e2 - e1, ns / (e2 - e1) as f64)
        };
        let base = *first.get_or_insert(per_event);
        println!(
            "{n:>5} {events:>10} {per_event:>22.0} {:>9.2}x",
            per_event / base
        );
    }
}
