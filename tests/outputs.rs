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
    assert_eq!(stderr(&sweep), expected);
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
