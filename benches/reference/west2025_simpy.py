"""The West-2025 scenario (scenarios/west2025.toml) written by hand in SimPy.

A reference for flashpoint's speed and a check of its semantics: the same
model, written the way a SimPy user would write it, must give the same
outcome distribution (benches/compare.py tests that within Monte Carlo error).

Semantics reproduced from docs/scenario-language.md and the engine:

* tension relaxes exactly toward its baseline, T(t) = B + (T0 - B) 2^(-dt/h),
  and is clamped to [0, 1] after every change;
* an event applies its effects in order, then triggers rules in declaration
  order (after the effects), then the run ends if it is terminal;
* a rule on trigger: skipped if `once` and it already emitted or has a firing
  pending, skipped inside its cooldown, skipped unless `when` holds; fires
  with probability `prob` (evaluated now) after a random delay; when the delay
  elapses it re-checks once, cooldown and `when` (recheck is the default),
  then emits;
* hazards are non-homogeneous Poisson processes, sampled by thinning against
  a constant bound (the incident rate is at most 0.01 * 2 + 0.05 * 1^2,
  since troops_k <= 40 and tension <= 1; the review rate is 0 or 1/2);
* a replication ends at the horizon (60) or at the terminal armed_clash.

Usage: python west2025_simpy.py --reps 2000 --seed 1 [--json]
"""

import argparse
import json
import math
import random
import time

import numpy as np
import simpy

HORIZON = 60.0

# [params], at their default values.
CLOSE_PROB = 0.9
CLOSE_DELAY = 0.25
PROTEST_DELAY = 1.0
DEPLOY_K = 40.0
DEPLOY_DELAY = 1.0
INCIDENT_BASE = 0.01
INCIDENT_GAIN = 0.05
HALF_LIFE = 10.0
IMPACT = 0.015
SPILL = 0.5
REOPEN_THRESHOLD = 0.5
REVIEW_INTERVAL = 2.0
DIALOGUE_DELAY = 2.0
TALKS_PROB = 0.5
TALKS_DELAY = 3.0
RECLOSE_THRESHOLD = 0.7
CLASH_PROB = 0.02

INCIDENT_BOUND = INCIDENT_BASE * 2.0 + INCIDENT_GAIN * 1.0
REVIEW_BOUND = 1.0 / REVIEW_INTERVAL


class Dyad:
    """One dyad's tension: exact relaxation, clamped to [0, 1]."""

    def __init__(self, env, initial, baseline):
        self.env = env
        self.value = initial
        self.baseline = baseline
        self.since = 0.0

    def now(self):
        dt = self.env.now - self.since
        if dt <= 0.0 or self.value == self.baseline:
            return self.value
        return self.baseline + (self.value - self.baseline) * 2.0 ** (-dt / HALF_LIFE)

    def set(self, value):
        self.value = min(max(value, 0.0), 1.0)
        self.since = self.env.now

    def add(self, delta):
        self.set(self.now() + delta)


class Rule:
    """A policy rule: trigger checks, delayed firing, re-check, emit."""

    def __init__(self, name, emit, when=None, prob=None, delay=None, once=False, cooldown=0.0):
        self.name = name
        self.emit = emit
        self.when = when or (lambda: True)
        self.prob = prob
        self.delay = delay
        self.once = once
        self.cooldown = cooldown
        self.last_emit = -math.inf
        self.pending = 0
        self.emitted = False


class West2025:
    """One replication."""

    def __init__(self, rng):
        self.rng = rng
        self.env = env = simpy.Environment()
        self.done = env.event()
        self.n_events = 0
        self.counts = {}
        self.first = {}
        # Actor state.
        self.exercising = False  # RUS and BLR together
        self.isolated = True
        self.border_open = True
        self.troops_k = 10.0
        self.closed_at = 0.0
        self.days_closed = 0.0
        self.alert = 0
        # Dyads.
        self.pb = Dyad(env, 0.35, 0.25)
        self.nr = Dyad(env, 0.5, 0.5)
        self.pr = Dyad(env, 0.45, 0.45)
        self.eb = Dyad(env, 0.3, 0.3)
        exp = rng.expovariate
        self.rules_on = {}
        rules = [
            (["espionage_arrest"], Rule("poland_retaliates_for_arrest", "expel_diplomat",
                                        delay=lambda: exp(1 / 2.0), once=True)),
            (["exercise_start"], Rule("poland_closes_border", "border_close",
                                      when=lambda: self.border_open, prob=lambda: CLOSE_PROB,
                                      delay=lambda: exp(1 / CLOSE_DELAY), once=True)),
            (["drone_incursion", "incident", "exercise_start"],
             Rule("poland_deploys_troops", "troop_deploy", when=lambda: self.troops_k < DEPLOY_K,
                  delay=lambda: exp(1 / DEPLOY_DELAY), once=True)),
            (["drone_incursion", "incident"],
             Rule("nato_raises_alert", "raise_alert", when=lambda: self.alert < 2,
                  delay=lambda: exp(1.0), cooldown=3.0)),
            (["border_close"], Rule("belarus_protests_closure", "formal_protest",
                                    delay=lambda: exp(1 / PROTEST_DELAY))),
            (["troop_deploy", "border_close"],
             Rule("belarus_accuses_overreaction", "accuse_overreaction",
                  delay=lambda: exp(1 / PROTEST_DELAY), cooldown=7.0)),
            (["drone_incursion", "incident"], Rule("belarus_denies_incident", "denial",
                                                   delay=lambda: exp(1 / 0.5))),
            (["formal_protest", "exercise_end"],
             Rule("belarus_calls_for_dialogue", "call_dialogue",
                  when=lambda: self.isolated and not self.border_open,
                  delay=lambda: exp(1 / DIALOGUE_DELAY), cooldown=5.0)),
            (["call_dialogue"], Rule("talks_follow_call", "talks",
                                     when=lambda: not self.border_open, prob=lambda: TALKS_PROB,
                                     delay=lambda: exp(1 / TALKS_DELAY), cooldown=7.0)),
            (["closure_review", "talks"],
             Rule("poland_reopens_border", "border_reopen",
                  when=lambda: (not self.border_open and not self.exercising
                                and self.pb.now() < REOPEN_THRESHOLD),
                  delay=lambda: rng.uniform(1.0, 2.0))),
            (["incident"], Rule("poland_recloses_border", "border_close",
                                when=lambda: (self.border_open and self.count("border_reopen") > 0
                                              and self.pb.now() > RECLOSE_THRESHOLD),
                                prob=lambda: CLOSE_PROB, delay=lambda: exp(1 / CLOSE_DELAY))),
            (["incident", "drone_incursion"],
             Rule("incident_escalates", "armed_clash", prob=lambda: CLASH_PROB * self.pb.now(),
                  delay=lambda: exp(1 / 0.1))),
        ]
        for on, rule in rules:  # declaration order is trigger order
            for event in on:
                self.rules_on.setdefault(event, []).append(rule)

    def count(self, event):
        return self.counts.get(event, 0)

    # ---------------------------------------------------------------- events

    def happen(self, event):
        """An event happens now: effects, then the rules it triggers."""
        if self.done.triggered:
            return
        now = self.env.now
        self.n_events += 1
        self.counts[event] = self.counts.get(event, 0) + 1
        self.first.setdefault(event, now)
        s = IMPACT
        if event == "espionage_arrest":
            self.pb.add(5.0 * s)
        elif event == "expel_diplomat":
            self.pb.add(4.0 * s)
        elif event == "drone_incursion":
            self.pr.add(10.0 * s)
            self.pb.add(SPILL * 10.0 * s)
            self.nr.add(SPILL * 10.0 * s)
        elif event == "exercise_start":
            self.exercising = True
            self.pb.add(7.2 * s)
            self.pr.add(7.2 * s)
            self.nr.add(SPILL * 7.2 * s)
            self.eb.add(SPILL * 7.2 * s)
        elif event == "exercise_end":
            self.exercising = False
        elif event == "border_close":
            self.border_open = False
            self.closed_at = now
            self.pb.add(4.0 * s)
            self.eb.add(SPILL * 4.0 * s)
        elif event == "border_reopen":
            self.days_closed += now - self.closed_at
            self.border_open = True
            self.pb.add(-5.0 * s)
            self.eb.add(-SPILL * 5.0 * s)
        elif event in ("formal_protest", "accuse_overreaction", "denial"):
            self.pb.add(2.0 * s)
        elif event == "troop_deploy":
            self.troops_k = max(self.troops_k, DEPLOY_K)
            self.pb.add(7.2 * s)
            self.pr.add(SPILL * 7.2 * s)
        elif event == "raise_alert":
            self.alert += 1
            self.nr.add(7.2 * s)
        elif event == "incident":
            self.pb.add(10.0 * s)
        elif event == "call_dialogue":
            self.pb.add(-4.0 * s)
        elif event == "talks":
            self.isolated = False
            self.pb.add(-7.0 * s)
        elif event == "armed_clash":
            self.pb.set(1.0)
            self.done.succeed()  # terminal
            return
        for rule in self.rules_on.get(event, ()):
            self.trigger(rule)

    def trigger(self, rule):
        now = self.env.now
        if rule.once and (rule.emitted or rule.pending > 0):
            return
        if now - rule.last_emit < rule.cooldown:
            return
        if not rule.when():
            return
        if rule.prob is not None and self.rng.random() >= rule.prob():
            return
        rule.pending += 1
        self.env.process(self.firing(rule, rule.delay()))

    def firing(self, rule, delay):
        """A rule's pending firing: wait, re-check, emit."""
        yield self.env.timeout(delay)
        rule.pending -= 1
        if self.done.triggered:
            return
        if rule.once and rule.emitted:
            return
        if self.env.now - rule.last_emit < rule.cooldown:
            return
        if not rule.when():
            return
        rule.last_emit = self.env.now
        rule.emitted = True
        self.happen(rule.emit)

    def scheduled(self, at, event):
        yield self.env.timeout(at)
        self.happen(event)

    def hazard(self, event, bound, rate):
        """A state-dependent Poisson process, by thinning against `bound`."""
        while True:
            yield self.env.timeout(self.rng.expovariate(bound))
            if self.rng.random() * bound < rate():
                self.happen(event)

    def incident_rate(self):
        return INCIDENT_BASE * (1.0 + self.troops_k / 40.0) + INCIDENT_GAIN * self.pb.now() ** 2

    def review_rate(self):
        return 0.0 if self.border_open or self.exercising else REVIEW_BOUND

    # ---------------------------------------------------------------- run

    def run(self):
        env = self.env
        jittered = min(max(3.0 + self.rng.uniform(-3.0, 3.0), 0.0), HORIZON)
        for at, event in [
            (jittered, "espionage_arrest"),
            (9.0 + 2.0 / 24.0, "drone_incursion"),
            (10.0, "kremlin_statement"),
            (11.0, "exercise_start"),
            (16.0, "exercise_end"),
        ]:
            env.process(self.scheduled(at, event))
        env.process(self.hazard("incident", INCIDENT_BOUND, self.incident_rate))
        env.process(self.hazard("closure_review", REVIEW_BOUND, self.review_rate))
        env.run(until=env.any_of([self.done, env.timeout(HORIZON)]))
        return self.outcomes()

    def outcomes(self):
        t = self.env.now
        reopened = self.count("border_reopen") > 0
        first_reopen = self.first.get("border_reopen", math.inf)
        clash = self.count("armed_clash") > 0
        pb = self.pb.now()
        if clash or pb >= 0.8:
            path = "escalation"
        elif self.count("talks") > 0 and reopened and self.border_open:
            path = "dialogue"
        else:
            path = "entrenchment"
        observed = (self.count("border_close") > 0 and self.count("formal_protest") > 0
                    and self.count("troop_deploy") > 0 and not clash
                    and 20.0 <= first_reopen <= 28.0)
        return {
            "closure_days": self.days_closed + (0.0 if self.border_open else t - self.closed_at),
            "reopen_day": first_reopen if reopened else 60.0,
            "n_incidents": float(self.count("incident")),
            "observed_like": 1.0 if observed else 0.0,
            "path=escalation": 1.0 if path == "escalation" else 0.0,
            "path=dialogue": 1.0 if path == "dialogue" else 0.0,
            "path=entrenchment": 1.0 if path == "entrenchment" else 0.0,
            "n_events": float(self.n_events),
            "count_border_close": float(self.count("border_close")),
            "count_talks": float(self.count("talks")),
            "count_raise_alert": float(self.count("raise_alert")),
            "tension_POL_BLR_final": pb,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = []
    started = time.perf_counter()
    for _ in range(args.reps):
        rows.append(West2025(rng).run())
    seconds = time.perf_counter() - started
    names = list(rows[0])
    values = np.array([[r[n] for n in names] for r in rows])
    n = len(rows)
    summary = {
        "reps": n,
        "seconds": seconds,
        "events": float(values[:, names.index("n_events")].sum()),
        "metrics": {
            name: {
                "mean": float(values[:, i].mean()),
                "se": float(values[:, i].std(ddof=1) / np.sqrt(n)),
            }
            for i, name in enumerate(names)
        },
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{n} replications in {seconds:.2f} s: {n / seconds:.0f} reps/s, "
              f"{summary['events'] / seconds:.0f} events/s")
        for name, m in summary["metrics"].items():
            print(f"{name:24} {m['mean']:10.4f} ± {m['se']:.4f}")


if __name__ == "__main__":
    main()
