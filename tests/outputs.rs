//! What output files may never do: follow a planted link, overwrite a file
//! of a result or an existing file without `--force`, share an `--out`
//! directory with another command, or leave a golden half updated.

mod common;
use common::{flashpoint, ok, read, temp_dir};
use std::path::Path;
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A small finished `run --out` result.
fn small_run(dir: &Path) {
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "20",
        "--seed",
        "3",
        "--quiet",
        "--out",
        s(dir),
    ]));
}

#[test]
fn a_planted_partial_symlink_is_not_followed() {
    let base = temp_dir("outputs-symlink");
    let victim = base.join("victim");
    small_run(&victim);
    let before = read(&victim.join("runs.csv"));
    // run --out: runs.csv.partial is created fresh, never through a link.
    let out = base.join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::os::unix::fs::symlink(victim.join("runs.csv"), out.join("runs.csv.partial"))
        .expect("symlink");
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "50",
        "--quiet",
        "--out",
        s(&out),
    ]));
    assert!(
        read(&victim.join("runs.csv")) == before,
        "the link's target was overwritten"
    );
    assert_eq!(
        String::from_utf8(read(&out.join("runs.csv")))
            .expect("utf-8")
            .lines()
            .count(),
        51
    );
    // sweep --resume: an appended partial that is a link is refused.
    let sweep = base.join("sweep");
    std::fs::create_dir_all(&sweep).expect("mkdir");
    let partial = sweep.join("runs.csv.partial");
    let manifest_src = base.join("real-sweep");
    ok(&flashpoint(&[
        "sweep",
        "scenarios/west2025.toml",
        "--vary",
        "incident_gain=0:0.2:2",
        "--reps",
        "10",
        "--quiet",
        "--out",
        s(&manifest_src),
    ]));
    let victim_runs = read(&manifest_src.join("runs.csv"));
    std::os::unix::fs::symlink(manifest_src.join("runs.csv"), &partial).expect("symlink");
    let manifest = std::fs::read(manifest_src.join("manifest.json")).expect("manifest");
    std::fs::write(sweep.join("manifest.json.partial"), manifest).expect("write");
    let out = flashpoint(&[
        "sweep",
        "scenarios/west2025.toml",
        "--vary",
        "incident_gain=0:0.2:2",
        "--reps",
        "10",
        "--quiet",
        "--resume",
        s(&sweep),
    ]);
    assert!(read(&manifest_src.join("runs.csv")) == victim_runs);
    assert!(!out.status.success(), "a resume through a link succeeded");
    assert!(
        stderr(&out).contains(&format!(
            "{} is not a regular file; remove it",
            partial.display()
        )),
        "{}",
        stderr(&out)
    );
}

/// Waits (without a deadline on the assertion itself) until `path` exists
/// or `child` has exited.
fn wait_for(path: &Path, child: &mut std::process::Child) {
    while !path.exists() {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the first command exited first: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_out_directory_in_use_by_another_command_is_refused() {
    let base = temp_dir("outputs-lock");
    let dir = base.join("shared");
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args([
            "run",
            "scenarios/west2025.toml",
            "--reps",
            "100000000",
            "--threads",
            "1",
            "--quiet",
            "--out",
            s(&dir),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for(&dir.join("runs.csv.partial"), &mut first);
    let expected = format!(
        "error: {} is in use by another flashpoint command; wait for it to finish or choose another --out\n",
        dir.display()
    );
    let second = flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "10",
        "--quiet",
        "--out",
        s(&dir),
    ]);
    let sweep = flashpoint(&[
        "sweep",
        "scenarios/west2025.toml",
        "--vary",
        "incident_gain=0:0.2:2",
        "--reps",
        "10",
        "--quiet",
        "--resume",
        s(&dir),
    ]);
    first.kill().expect("kill");
    first.wait().expect("wait");
    assert_eq!(stderr(&second), expected);
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        stderr(&sweep),
        format!(
            "error: {} is in use by another flashpoint command; wait for it to finish\n",
            dir.display()
        )
    );
    assert!(!dir.join("manifest.json").exists());
    // The kernel releases the claim of a killed command: no stale lock.
    ok(&flashpoint(&[
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "10",
        "--quiet",
        "--out",
        s(&dir),
    ]));
    assert_eq!(
        String::from_utf8(read(&dir.join("runs.csv")))
            .expect("utf-8")
            .lines()
            .count(),
        11
    );
}

#[test]
fn single_file_outputs_never_overwrite_a_result_and_need_force_for_a_file() {
    let base = temp_dir("outputs-overwrite");
    let result = base.join("result");
    small_run(&result);
    let files = ["runs.csv", "summary.csv", "manifest.json"];
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(&result.join(f))).collect();
    for file in files {
        let target = result.join(file);
        for force in [false, true] {
            let mut args = vec![
                "run",
                "scenarios/west2025.toml",
                "--reps",
                "5",
                "--quiet",
                "--events-cameo",
                s(&target),
            ];
            if force {
                args.push("--force");
            }
            let out = flashpoint(&args);
            assert_eq!(
                stderr(&out),
                format!(
                    "error: {} is a file of the result in {}; choose another path\n",
                    target.display(),
                    result.display()
                )
            );
            assert_eq!(out.status.code(), Some(2));
        }
    }
    let after: Vec<Vec<u8>> = files.iter().map(|f| read(&result.join(f))).collect();
    assert!(before == after, "a file of the result was overwritten");
    ok(&flashpoint(&["check", s(&result)]));

    // An ordinary existing file: refused without --force, replaced with it.
    let cameo = base.join("events.csv");
    std::fs::write(&cameo, "keep me\n").expect("write");
    let args = [
        "run",
        "scenarios/west2025.toml",
        "--reps",
        "5",
        "--quiet",
        "--events-cameo",
        s(&cameo),
    ];
    let out = flashpoint(&args);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {} already exists; choose another path or pass --force to overwrite it\n",
            cameo.display()
        )
    );
    assert_eq!(read(&cameo), b"keep me\n");
    ok(&flashpoint(&[&args[..], &["--force"]].concat()));
    assert!(read(&cameo).starts_with(b"date,source,target,"));

    // plot --out, and plot's default DIR/plot.svg.
    let svg = base.join("chart.svg");
    std::fs::write(&svg, "keep me\n").expect("write");
    let out = flashpoint(&["plot", s(&result), "--out", s(&svg)]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {} already exists; choose another path or pass --force to overwrite it\n",
            svg.display()
        )
    );
    assert_eq!(read(&svg), b"keep me\n");
    ok(&flashpoint(&[
        "plot",
        s(&result),
        "--out",
        s(&svg),
        "--force",
    ]));
    assert!(read(&svg).starts_with(b"<svg"));
    ok(&flashpoint(&["plot", s(&result)]));
    let out = flashpoint(&["plot", s(&result)]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {} already exists; choose another path or pass --force to overwrite it\n",
            result.join("plot.svg").display()
        )
    );
}

/// Every file of `dir` by name (a directory inside fails the test).
fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                read(&e.path()),
            )
        })
        .collect()
}

/// [`snapshot`] with the one field that varies between identical runs
/// (the manifest's `created` time) blanked.
fn snapshot_same(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = snapshot(dir);
    if let Some(m) = files.get_mut("manifest.json") {
        let text = String::from_utf8_lossy(m).into_owned();
        *m = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("\"created\""))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes();
    }
    files
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("mkdir");
    for (name, bytes) in snapshot(from) {
        std::fs::write(to.join(name), bytes).expect("write");
    }
}

/// The operations (`fault-point OP N PATH`) of a command, traced.
fn fault_points(args: &[&str]) -> Vec<(String, u64, String)> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FLASHPOINT_FAULT", "trace")
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("fault-point ")?.splitn(3, ' ');
            Some((
                f.next()?.to_string(),
                f.next()?.parse().ok()?,
                f.next()?.to_string(),
            ))
        })
        .collect()
}

fn with_fault(args: &[&str], fault: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FLASHPOINT_FAULT", fault)
        .output()
        .expect("runs")
}

#[test]
fn check_update_leaves_the_golden_old_or_new_under_every_fault() {
    let base = temp_dir("outputs-update");
    let scenario = base.join("scenario.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/west2025.toml"),
    )
    .expect("scenario");
    std::fs::write(&scenario, &text).expect("write");
    let golden = base.join("golden");
    ok(&flashpoint(&[
        "run",
        s(&scenario),
        "--reps",
        "20",
        "--seed",
        "3",
        "--trace",
        "2",
        "--quiet",
        "--out",
        s(&golden),
    ]));
    // The scenario changes: every file of the result changes.
    let changed = text.replace("prob = \"close_prob\"", "prob = \"0\"");
    assert_ne!(changed, text);
    std::fs::write(&scenario, changed).expect("write");
    let old = snapshot_same(&golden);
    let pristine = base.join("pristine");
    copy_dir(&golden, &pristine);
    let args = ["check", s(&golden), "--update", "--threads", "1"];
    let points = fault_points(&args);
    let new = snapshot_same(&golden);
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>()
    );
    for name in ["runs.csv", "summary.csv", "events.csv"] {
        assert!(old[name] != new[name], "{name} did not change");
    }
    // Only the operations of the update itself (not of the re-run into the
    // temporary directory, whose failure leaves the golden untouched).
    // (The re-run's directory is `$TMPDIR/flashpoint-check-…`; the golden
    // itself may live under `$TMPDIR` too, when the repository does.)
    let update_points: Vec<_> = points
        .iter()
        .filter(|(_, _, path)| !path.contains("/flashpoint-check-"))
        .collect();
    assert!(update_points.len() >= 8, "{points:?}");
    for (op, n, path) in update_points {
        for action in ["enospc", "kill"] {
            copy_dir(&pristine, &golden);
            let out = with_fault(&args, &format!("{op}:{n}:{action}"));
            let now = snapshot_same(&golden);
            assert!(
                now == old || now == new,
                "{op}:{n}:{action} ({path}) left a golden that is neither old nor new: {:?}",
                now.keys().collect::<Vec<_>>()
            );
            // A failed sync of the parent after the swap is not an error:
            // the update is done (only its durability is not certain).
            if action == "enospc" && !(out.status.success() && now == new) {
                assert_eq!(out.status.code(), Some(2), "{op}:{n}:{action}");
                let err = stderr(&out);
                assert!(
                    err.contains("No space left on device") && err.contains(s(&golden)),
                    "{op}:{n}: {err}"
                );
                let left = names(&base);
                assert!(
                    left.iter().all(|n| !n.starts_with('.')),
                    "{op}:{n}: {left:?}"
                );
                let golden_names = names(&golden);
                assert!(
                    golden_names.iter().all(|n| !n.ends_with(".partial")),
                    "{op}:{n}: {golden_names:?}"
                );
            }
        }
    }
    // A killed update's staging directory is swept by the next one.
    ok(&flashpoint(&args));
    let left = names(&base);
    assert!(left.iter().all(|n| !n.starts_with('.')), "{left:?}");
    assert!(snapshot_same(&golden) == new);
}

#[test]
fn check_removes_its_temporary_directory_on_signals_and_sweeps_stale_ones() {
    let base = temp_dir("outputs-check-tmp");
    let tmp = base.join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let golden = base.join("golden");
    small_run(&golden);
    // A manifest that asks for far more replications than the test waits
    // for: the check is still re-running when it gets the signal.
    let manifest = golden.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let long = text.replacen("\"reps\": 20,", "\"reps\": 100000000,", 1);
    assert_ne!(long, text);
    std::fs::write(&manifest, long).expect("write");
    for signal in ["INT", "TERM", "HUP"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
            .args(["check", s(&golden), "--threads", "1"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("TMPDIR", &tmp)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Until the re-run has written into its temporary directory.
        while !std::fs::read_dir(&tmp)
            .expect("read_dir")
            .flatten()
            .any(|e| std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some()))
        {
            assert!(child.try_wait().expect("wait").is_none(), "check exited");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = child.wait().expect("wait");
        assert!(!status.success(), "SIG{signal}: {status}");
        assert_eq!(names(&tmp), Vec::<String>::new(), "SIG{signal} left it");
    }
    // After SIGKILL nothing can clean up: the next check removes what a
    // dead process left, and nothing of a live one.
    let mut dead = std::process::Command::new("true").spawn().expect("spawn");
    let dead_pid = dead.id();
    dead.wait().expect("wait");
    let stale = tmp.join(format!("flashpoint-check-{dead_pid}-1-0"));
    let live = tmp.join(format!("flashpoint-check-{}-1-0", std::process::id()));
    for d in [&stale, &live] {
        std::fs::create_dir_all(d).expect("mkdir");
        std::fs::write(d.join("runs.csv.partial"), "x\n").expect("write");
    }
    std::fs::write(&manifest, text).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(["check", s(&golden)])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", &tmp)
        .output()
        .expect("runs");
    ok(&out);
    assert_eq!(
        names(&tmp),
        vec![format!("flashpoint-check-{}-1-0", std::process::id())]
    );
}
