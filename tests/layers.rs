//! The library's layers import only downward (ARCHITECTURE.md, "Layers"),
//! and no two sibling files of a module import each other: read from the
//! sources, so a new upward `use` fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's layer, lowest first. A module may name modules of
/// its own layer or below, never above.
const LAYERS: &[(&str, u32)] = &[
    ("diag", 0),
    ("digest", 0),
    ("time", 0),
    ("cameo", 0),
    ("rng", 1),
    ("stats", 2),
    ("expr", 2),
    ("scenario", 3),
    ("engine", 4),
    ("error", 5),
    ("runner", 6),
    ("output", 7),
    ("analysis", 8),
    ("sweep", 9),
    ("plot", 10),
    ("html", 11),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under src/: `sweep/check.rs` → [sweep, check],
/// `sweep/mod.rs` → [sweep].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments (line comments and doc comments,
/// which may name modules in prose) and without its `#[cfg(test)]` module.
fn code(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].trim() == "#[cfg(test)]"
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.trim_start().starts_with("mod ") || l.contains(" mod "))
        })
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b` path named in `code`, as [a, b] (b may be absent).
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let path: Vec<String> = after
            .split("::")
            .take(2)
            .map(|seg| {
                seg.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|s| !s.is_empty())
            .collect();
        out.push(path);
        rest = after;
    }
    out
}

#[test]
fn layers_import_only_downward_and_siblings_do_not_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut upward = Vec::new();
    let mut siblings: BTreeSet<(String, String)> = BTreeSet::new();
    for file in &all {
        let module = module_of(&src, file);
        let Some(top) = module.first() else { continue };
        if top == "lib" || top == "main" {
            continue;
        }
        let own = *layer
            .get(top.as_str())
            .unwrap_or_else(|| panic!("src/{top}: add the module to LAYERS and ARCHITECTURE.md"));
        let text = std::fs::read_to_string(file).expect("a source file");
        let code = code(&text);
        for path in crate_paths(&code) {
            let Some(target) = path.first() else { continue };
            if target == top {
                // Within a module: sibling files only, below its mod.rs.
                if let (Some(a), Some(b)) = (module.get(1), path.get(1)) {
                    if a != b
                        && all
                            .iter()
                            .any(|f| module_of(&src, f) == [top.clone(), b.clone()])
                    {
                        siblings.insert((format!("{top}::{a}"), format!("{top}::{b}")));
                    }
                }
                continue;
            }
            let Some(&theirs) = layer.get(target.as_str()) else {
                continue;
            };
            if theirs > own {
                upward.push(format!(
                    "{} names crate::{}",
                    module.join("::"),
                    path.join("::")
                ));
            }
        }
        for line in code.lines() {
            let Some(i) = line.find("super::") else {
                continue;
            };
            let after = &line[i + "super::".len()..];
            // `super::name` or `super::{a, b::c, …}` (on one line).
            let names: Vec<String> = match after.strip_prefix('{') {
                Some(list) => list
                    .split([',', '}'])
                    .map(|n| n.trim().split("::").next().unwrap_or("").to_string())
                    .collect(),
                None => vec![after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()],
            };
            for name in names {
                if module.len() == 2
                    && name != module[1]
                    && all
                        .iter()
                        .any(|f| module_of(&src, f) == [top.clone(), name.clone()])
                {
                    siblings.insert((format!("{top}::{}", module[1]), format!("{top}::{name}")));
                }
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
    let cycles: Vec<String> = siblings
        .iter()
        .filter(|(a, b)| siblings.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{a} <-> {b}"))
        .collect();
    assert!(cycles.is_empty(), "sibling cycles:\n{}", cycles.join("\n"));
}
