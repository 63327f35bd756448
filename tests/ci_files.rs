//! The CI files driftgate ships, checked with their ecosystems' own linters (installed by
//! scripts/linters.sh): actionlint with ShellCheck over every GitHub workflow, SchemaStore's
//! schemas (through check-jsonschema) over workflows, the action and the GitLab templates, and
//! ShellCheck over the shell scripts. Each linter is also shown a broken file, so that a harness
//! that silently checks nothing cannot pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn lint_bin(name: &str) -> PathBuf {
    let dir = std::env::var("DRIFTGATE_LINT_BIN").unwrap_or_else(|_| {
        panic!(
            "DRIFTGATE_LINT_BIN is not set: these tests need the CI linters. Run the suite with \
             scripts/test.sh, which installs them (scripts/linters.sh)."
        )
    });
    let bin = Path::new(&dir).join(name);
    assert!(
        bin.exists(),
        "{} is missing: run scripts/linters.sh install",
        bin.display()
    );
    bin
}

fn files(dir: &str, ext: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ext.contains(&x))
        })
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no {ext:?} files under {dir}");
    out
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.current_dir(root()).output().unwrap();
    eprintln!(
        "{:?}\n{}{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn workflows() -> Vec<String> {
    let mut all = files(".github/workflows", &["yml", "yaml"]);
    all.extend(files("examples/github", &["yml", "yaml"]));
    all
}

fn actionlint(paths: &[String]) -> Output {
    run(Command::new(lint_bin("actionlint"))
        .arg("-shellcheck")
        .arg(lint_bin("shellcheck"))
        .arg("-oneline")
        .args(paths))
}

#[test]
fn actionlint_passes_every_workflow() {
    let out = actionlint(&workflows());
    assert!(out.status.success(), "actionlint found problems (above)");
}

#[test]
fn actionlint_catches_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    // An unknown context property and a shell bug in `run:` (ShellCheck SC2086 is info level,
    // so an unquoted glob inside [ ] that SC2144 reports as an error).
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n      - run: if [ -f *.tfstate ]; then echo x; fi\n",
    )
    .unwrap();
    let out = actionlint(&[bad.display().to_string()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("no_such_thing"), "{text}");
    assert!(text.contains("SC2144"), "{text}");
}

/// Validates each YAML document of `path` on its own (a GitLab component is a `spec:` header
/// document and a jobs document) against check-jsonschema's vendored `schema`.
fn schema_check(schema: &str, path: &Path) -> Output {
    let text = std::fs::read_to_string(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for (i, doc) in text.split("\n---\n").enumerate() {
        let file = dir.path().join(format!("doc{i}.yml"));
        std::fs::write(&file, doc).unwrap();
        docs.push(file);
    }
    run(Command::new(lint_bin("check-jsonschema"))
        .arg("--builtin-schema")
        .arg(format!("vendor.{schema}"))
        .args(&docs))
}

#[test]
fn every_ci_file_matches_its_schema() {
    let mut checked = Vec::new();
    for wf in workflows() {
        checked.push(("github-workflows", wf));
    }
    checked.push(("github-actions", "action.yml".to_string()));
    for f in files("templates", &["yml"]) {
        checked.push(("gitlab-ci", f));
    }
    for f in files("examples/gitlab", &["yml"]) {
        checked.push(("gitlab-ci", f));
    }
    let failed: Vec<String> = checked
        .iter()
        .filter(|(schema, path)| !schema_check(schema, &root().join(path)).status.success())
        .map(|(schema, path)| format!("{path} ({schema})"))
        .collect();
    assert!(failed.is_empty(), "schema violations (above): {failed:?}");
}

#[test]
fn the_schemas_catch_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let gitlab = dir.path().join("bad.gitlab-ci.yml");
    std::fs::write(
        &gitlab,
        "job:\n  script: [true]\n  artifacts:\n    when: sometimes\n",
    )
    .unwrap();
    assert!(!schema_check("gitlab-ci", &gitlab).status.success());
    let action = dir.path().join("action.yml");
    std::fs::write(
        &action,
        "name: x\ndescription: y\nruns:\n  using: composite\n  stepz: []\n",
    )
    .unwrap();
    assert!(!schema_check("github-actions", &action).status.success());
}

#[test]
fn shellcheck_passes_every_script() {
    let mut scripts = files("scripts", &["sh"]);
    scripts.extend(files("examples/shell", &["sh"]));
    scripts.push(".ci/run".to_string());
    // -x follows `source scripts/env.sh`, so variables it sets are known.
    let out = run(Command::new(lint_bin("shellcheck"))
        .arg("-x")
        .args(&scripts));
    assert!(out.status.success(), "ShellCheck found problems (above)");
}
