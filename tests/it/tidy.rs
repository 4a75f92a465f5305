//! Boundaries the compiler cannot see, checked over the source text in the
//! spirit of rust-analyzer's tidy tests: the sled crate is named only in the
//! sled engine, bincode only in the codec, terminal output, environment
//! variables and exit codes only in the CLI, and the test clock only in
//! builds with the `test-clock` feature.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `file:line: text` of every code line (comments and unit tests left out)
/// under `src/` that uses one of `needles` as a path root, outside `allowed`.
fn offenders(needles: &[&str], allowed: &[&str]) -> Vec<String> {
    offenders_in(needles, allowed, true)
}

/// [`offenders`], matching `needles` anywhere in a line unless `as_root`.
fn offenders_in(needles: &[&str], allowed: &[&str], as_root: bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed.iter().any(|a| rel.starts_with(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            // Unit tests sit at the end of a file and may print.
            if code.starts_with("#[cfg(test)]") {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            for needle in needles {
                let hit = code.match_indices(needle).any(|(i, _)| {
                    // A path root: not the tail of a longer path (`storage::sled::`).
                    let before = &code[..i];
                    !as_root
                        || !before.ends_with("::")
                            && !before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn only_the_sled_engine_names_sled() {
    let found = offenders(&["sled::", "use sled"], &["src/storage/sled.rs"]);
    assert!(
        found.is_empty(),
        "sled named outside src/storage/sled.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_read_model_names_sqlite() {
    let found = offenders(&["rusqlite::", "use rusqlite"], &["src/readmodel/"]);
    assert!(
        found.is_empty(),
        "rusqlite named outside src/readmodel/:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_postgres_engine_names_the_postgres_client() {
    let found = offenders(
        &["postgres::", "use postgres"],
        &["src/storage/postgres.rs"],
    );
    assert!(
        found.is_empty(),
        "the postgres crate named outside src/storage/postgres.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_codec_names_bincode() {
    let found = offenders(&["bincode::", "use bincode"], &["src/codec/"]);
    assert!(
        found.is_empty(),
        "bincode named outside src/codec/:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_cli_prints_reads_the_environment_or_exits() {
    let found = offenders_in(
        &[
            "println!",
            "eprintln!",
            "print!",
            "eprint!",
            "env::var",
            "stdout()",
            "stderr()",
            "process::exit",
            "ExitCode",
        ],
        &["src/cli/", "src/main.rs"],
        false,
    );
    assert!(
        found.is_empty(),
        "terminal or environment outside src/cli/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    // Guards the guard: the needles do occur where they are allowed.
    assert!(!offenders(&["sled::"], &[]).is_empty());
    assert!(!offenders(&["bincode::"], &[]).is_empty());
    assert!(!offenders_in(&["stderr()"], &[], false).is_empty());
}

/// A binary users install must not let `STANCELOG_TEST_NOW` forge
/// `recorded_at`: every read of it in `src/` sits right under
/// `#[cfg(feature = "test-clock")]`, and that feature is no default.
#[test]
fn the_test_clock_is_read_only_in_test_clock_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let gate = "#[cfg(feature = \"test-clock\")]";
    let mut reads = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap();
            if !code.contains("STANCELOG_TEST_NOW") {
                continue;
            }
            reads += 1;
            // The gated item starts at most two lines above the name.
            let gated = lines[i.saturating_sub(3)..i]
                .iter()
                .any(|l| l.trim() == gate);
            assert!(
                gated,
                "{}:{}: STANCELOG_TEST_NOW is read without {gate} just above it",
                file.display(),
                i + 1
            );
        }
    }
    assert!(reads > 0, "no read of STANCELOG_TEST_NOW found in src/");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let default = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("default ="))
        .unwrap_or("");
    assert!(
        !default.contains("test-clock"),
        "test-clock must not be a default feature: {default}"
    );
    assert!(
        manifest.contains("\"test-clock\"]"),
        "the test suite no longer turns test-clock on for itself"
    );
}
