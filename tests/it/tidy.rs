//! Checks of the source text itself.

use std::path::Path;

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A binary users install must not let `STANCELOG_TEST_NOW` forge
/// `recorded_at`: every read of it in `src/` sits right under
/// `#[cfg(feature = "test-clock")]`, and that feature is no default.
#[test]
fn the_test_clock_is_read_only_in_test_clock_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
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
        manifest.contains("features = [\"test-clock\"]"),
        "the test suite no longer turns test-clock on for itself"
    );
}
