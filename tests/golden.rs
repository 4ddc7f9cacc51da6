//! The committed golden results in `results/` are reproduced byte for byte,
//! through `flashpoint check` (what CI and a researcher run). Regenerate them
//! with the commands in `results/README.md`, or `flashpoint check DIR --update`.

use std::process::Command;

fn check(dir: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_flashpoint"))
        .args(["check", dir, "--threads", "2"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(
        out.status.code() == Some(0),
        "`flashpoint check {dir}` exited with {:?}:\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn west2025_golden_run_is_reproduced() {
    check("results/west2025");
}

#[test]
fn west2025_golden_sweep_is_reproduced() {
    check("results/west2025-sweep");
}

#[test]
fn golden_manifests_hold_the_checksums_of_their_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["results/west2025", "results/west2025-sweep"] {
        let dir = root.join(dir);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
                .expect("JSON");
        let outputs = manifest["outputs"].as_object().expect("outputs");
        assert!(outputs.len() >= 4, "{}", dir.display());
        for (file, sum) in outputs {
            let bytes = std::fs::read(dir.join(file)).expect("golden file");
            assert_eq!(
                sum.as_str(),
                Some(flashpoint::output::sha256_hex(&bytes).as_str()),
                "{}/{file}",
                dir.display()
            );
        }
    }
}

/// Every golden records the scenario-language version this build reads.
#[test]
fn goldens_record_the_language_version() {
    for dir in ["results/west2025", "results/west2025-sweep"] {
        let text = std::fs::read_to_string(format!("{dir}/manifest.json")).expect("manifest");
        let m: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            m["language_version"],
            flashpoint::scenario::LANGUAGE_VERSION,
            "{dir}"
        );
    }
}
