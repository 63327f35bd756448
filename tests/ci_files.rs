//! The CI files driftgate ships, checked with their ecosystems' own linters (installed by
//! scripts/linters.sh): actionlint with ShellCheck over every GitHub workflow, SchemaStore's
//! schemas (through check-jsonschema) over workflows, the action and the GitLab templates, and
//! ShellCheck over the shell scripts. Each linter is also shown a broken file, so that a harness
//! that silently checks nothing cannot pass. And the GitLab template run as GitLab would, under
//! gitlab-ci-local with the shell executor, against moto and a GitLab API stand-in.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

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

/// A project that includes the template with inputs, as a user's .gitlab-ci.yml does, run by
/// gitlab-ci-local: the job downloads the release archive (its checksum checked) because the
/// shell has no driftgate, checks the state against moto, keeps its reports, fails on blocking
/// drift, and writes the merge request note through the GitLab API stand-in.
#[tokio::test]
async fn the_gitlab_template_runs_under_gitlab_ci_local() {
    use std::collections::BTreeMap;
    let gcl = std::env::var("DRIFTGATE_GITLAB_CI_LOCAL").unwrap_or_else(|_| {
        panic!("DRIFTGATE_GITLAB_CI_LOCAL is not set: run the suite with scripts/test.sh")
    });
    let m = moto().await;
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "gitlab").await;
    m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;

    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    State::new()
        .add(
            "aws_security_group.ssh",
            sg_attrs(&sg, &vpc, "gitlab", vec![], vec![]),
        )
        .write(dir, "terraform.tfstate");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::copy(
        root().join("templates/driftgate.yml"),
        dir.join("templates/driftgate.yml"),
    )
    .unwrap();

    let name = "driftgate-x86_64-unknown-linux-musl";
    let (bytes, sum) = release_archive(dir, "x86_64-unknown-linux-musl");
    let v = concat!("v", env!("CARGO_PKG_VERSION"));
    let mut files = BTreeMap::new();
    files.insert(format!("/{v}/{name}.tar.gz"), bytes);
    files.insert(
        format!("/{v}/{name}.tar.gz.sha256"),
        format!("{sum}  {name}.tar.gz\n").into_bytes(),
    );
    let releases = serve_files(files);

    let notes = "/projects/acme%2Finfra/merge_requests/7/notes";
    let gitlab = tracker::serve(
        "Wed, 02 Dec 2026 10:00:00 GMT",
        vec![(
            notes,
            vec![
                tracker::Reply::json(serde_json::json!([])),
                tracker::Reply::json(serde_json::json!({"id": 1})),
            ],
        )],
    );

    std::fs::write(
        dir.join(".gitlab-ci.yml"),
        format!(
            "include:\n  - local: templates/driftgate.yml\n    inputs:\n      states: terraform.tfstate\n      release_url: {releases}\n      aws_role: 'arn:aws:iam::{{account}}:role/driftgate-read'\n"
        ),
    )
    .unwrap();
    let git = |args: &[&str]| {
        assert!(Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap()
            .status
            .success());
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://gitlab.example.com/acme/infra.git",
    ]);
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.email=ci@example.com",
        "-c",
        "user.name=ci",
        "commit",
        "-qm",
        "infra",
    ]);

    // PATH without driftgate: the job must install it.
    let vars = [
        format!("AWS_ENDPOINT_URL={}", m.url),
        "AWS_ACCESS_KEY_ID=testing".into(),
        "AWS_SECRET_ACCESS_KEY=testing".into(),
        format!("AWS_REGION={REGION}"),
        "AWS_EC2_METADATA_DISABLED=true".into(),
        format!("CI_API_V4_URL={}", gitlab.url),
        "CI_MERGE_REQUEST_IID=7".into(),
        "GITLAB_TOKEN=glpat-test".into(),
    ];
    let mut cmd = Command::new(&gcl);
    cmd.arg("--force-shell-executor")
        .arg("--home")
        .arg(dir.join(".gcl-home"))
        .arg("--no-color");
    for v in &vars {
        cmd.arg("--variable").arg(v);
    }
    cmd.arg("driftgate")
        .current_dir(dir)
        .env("HOME", dir)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("CI_") || k.starts_with("GITLAB_") || k == "CI" {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "blocking drift must fail the job:\n{log}"
    );
    assert!(log.contains("FAIL") && log.contains("driftgate"), "{log}");
    assert!(log.contains("aws_security_group.ssh"), "{log}");
    assert!(!log.contains("checksum mismatch"), "{log}");
    // The reports GitLab's widgets read, kept although the job failed.
    for report in [
        "driftgate-junit.xml",
        "gl-code-quality-report.json",
        "drift.json",
    ] {
        let found = walk(dir).into_iter().any(|p| p.ends_with(report));
        assert!(found, "{report} not written:\n{log}");
    }
    // The merge request note: the Markdown report with how to unblock.
    let hits = gitlab.hits();
    let posted = hits
        .iter()
        .find(|r| r.method == "POST")
        .unwrap_or_else(|| panic!("no note posted: {hits:?}\n{log}"));
    assert_eq!(posted.header("private-token"), Some("glpat-test"));
    assert!(
        posted.body.contains("driftgate: BLOCK") && posted.body.contains("To unblock"),
        "{}",
        posted.body
    );
}
