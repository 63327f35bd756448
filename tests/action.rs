//! The GitHub Action: its install script in a simulated runner (release download with checksum
//! verification from a loopback server, refusal on a bad checksum, the cargo fallback), its run
//! script against moto, and action.yml's shape.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for f in ["path", "output", "summary", "gh.log"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        // The GitHub CLI as the runner has it, for `gh attestation verify`: the verification
        // itself needs GitHub's attestation API, so this one logs its arguments and answers
        // with FAKE_GH_EXIT (what gh says on success or failure is gh's business).
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let gh = bin.join("gh");
        std::fs::write(
            &gh,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\n[ \"${{FAKE_GH_EXIT:-0}}\" = 0 ] || echo 'Error: no attestations found' >&2\nexit ${{FAKE_GH_EXIT:-0}}\n",
                dir.path().join("gh.log").display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
        Runner { dir }
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }

    fn script(&self, script: &str, env: &[(&str, &str)]) -> (i32, String, String) {
        self.script_with(script, &[], env)
    }

    fn script_with(
        &self,
        script: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, String) {
        let mut cmd = Command::new("bash");
        cmd.arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("scripts")
                .join(script),
        )
        .args(args)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", self.dir.path())
        .env("RUNNER_TOOL_CACHE", self.dir.path().join("toolcache"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
        .env("GITHUB_PATH", self.dir.path().join("path"))
        .env("GITHUB_OUTPUT", self.dir.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                self.dir.path().join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn install_from_a_release_with_checksum() {
    let runner = Runner::new();
    let (archive, sum) = release_archive(runner.dir.path(), "x86_64-unknown-linux-gnu");
    let name = "driftgate-x86_64-unknown-linux-gnu.tar.gz";
    let url = serve_files(BTreeMap::from([
        (format!("/download/v0.1.0/{name}"), archive.clone()),
        (
            format!("/download/v0.1.0/{name}.sha256"),
            format!("{sum}  {name}\n").into_bytes(),
        ),
        (format!("/download/v0.2.0/{name}"), archive),
        (
            format!("/download/v0.2.0/{name}.sha256"),
            format!("{}  {name}\n", "0".repeat(64)).into_bytes(),
        ),
    ]));
    // Provenance that does not verify: refused, nothing installed.
    let (code, out, _) = runner.script(
        "action-install.sh",
        &[
            ("DRIFTGATE_RELEASE_URL", &url),
            ("DRIFTGATE_REPOSITORY", "acme/driftgate"),
            ("DRIFTGATE_VERSION", "v0.1.0"),
            ("FAKE_GH_EXIT", "1"),
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("has no valid build provenance attestation from acme/driftgate")
            && out.contains("no attestations found"),
        "{out}"
    );
    assert!(!runner
        .dir
        .path()
        .join("toolcache/driftgate/v0.1.0/x86_64-unknown-linux-gnu/driftgate")
        .exists());
    // No GitHub CLI: refused, with the way out.
    let (code, out, _) = runner.script(
        "action-install.sh",
        &[
            ("DRIFTGATE_RELEASE_URL", &url),
            ("DRIFTGATE_REPOSITORY", "acme/driftgate"),
            ("DRIFTGATE_VERSION", "v0.1.0"),
            ("PATH", "/usr/bin:/bin"),
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("verify-attestation: false"), "{out}");

    let (code, out, err) = runner.script(
        "action-install.sh",
        &[
            ("DRIFTGATE_RELEASE_URL", &url),
            ("DRIFTGATE_REPOSITORY", "acme/driftgate"),
            ("DRIFTGATE_VERSION", "v0.1.0"),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "installed v0.1.0 for x86_64-unknown-linux-gnu (sha256 {sum})"
        )) && out.contains("build provenance verified (acme/driftgate)"),
        "{out}"
    );
    let gh = runner.file("gh.log");
    let verify = gh.lines().last().unwrap_or_default();
    assert!(
        verify.starts_with("attestation verify ")
            && verify.ends_with(&format!("/{name} --repo acme/driftgate")),
        "{gh}"
    );
    // Only the binary is installed, where PATH points.
    assert!(!runner
        .dir
        .path()
        .join("toolcache/driftgate/v0.1.0/x86_64-unknown-linux-gnu/README.md")
        .exists());
    let installed = runner
        .dir
        .path()
        .join("toolcache/driftgate/v0.1.0/x86_64-unknown-linux-gnu");
    assert_eq!(runner.file("path").trim(), installed.display().to_string());
    assert!(runner
        .file("output")
        .contains(&format!("path={}/driftgate", installed.display())));
    // A second run uses the cache.
    let (code, out, _) = runner.script(
        "action-install.sh",
        &[
            ("DRIFTGATE_RELEASE_URL", &url),
            ("DRIFTGATE_VERSION", "v0.1.0"),
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("using the cached"), "{out}");

    // A checksum that does not match: refused, nothing installed, no fallback.
    let (code, out, err) = runner.script(
        "action-install.sh",
        &[
            ("DRIFTGATE_RELEASE_URL", &url),
            ("DRIFTGATE_VERSION", "v0.2.0"),
        ],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("::error::driftgate: checksum mismatch"),
        "{out}"
    );
    assert!(!runner
        .dir
        .path()
        .join("toolcache/driftgate/v0.2.0/x86_64-unknown-linux-gnu/driftgate")
        .exists());

    // No build for the platform.
    let (code, out, _) = runner.script(
        "action-install.sh",
        &[("RUNNER_OS", "Windows"), ("DRIFTGATE_RELEASE_URL", &url)],
    );
    assert_eq!(code, 2);
    assert!(out.contains("no build for Windows/X64"), "{out}");
}

#[test]
fn the_release_is_the_one_the_action_is_pinned_to() {
    // As the runner checks an action out: _actions/OWNER/REPO/REF, where
    // `github.action_repository` is empty inside a composite action.
    let runner = Runner::new();
    let checkout = runner.dir.path().join("work/_actions/acme/driftgate/v1");
    std::fs::create_dir_all(&checkout).unwrap();
    std::fs::write(
        checkout.join("Cargo.toml"),
        "[package]\nname = \"driftgate\"\nversion = \"1.4.2\"\n\n[dependencies]\nserde = { version = \"1\" }\n",
    )
    .unwrap();
    let path = checkout.to_str().unwrap();
    let (code, out, err) = runner.script_with(
        "action-install.sh",
        &["--resolve"],
        &[("GITHUB_ACTION_PATH", path), ("DRIFTGATE_VERSION", "")],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(
            "release v1.4.2 for x86_64-unknown-linux-gnu from https://github.com/acme/driftgate/releases"
        ),
        "{out}"
    );
    assert!(
        runner
            .file("output")
            .contains("version=v1.4.2\ntarget=x86_64-unknown-linux-gnu\n"),
        "{}",
        runner.file("output")
    );
    // A version given wins; an action path that tells nothing needs the repository named.
    let (_, out, _) = runner.script_with(
        "action-install.sh",
        &["--resolve"],
        &[
            ("GITHUB_ACTION_PATH", path),
            ("DRIFTGATE_VERSION", "v1.0.0"),
        ],
    );
    assert!(out.contains("release v1.0.0 "), "{out}");
    let (code, out, _) = runner.script_with(
        "action-install.sh",
        &["--resolve"],
        &[("GITHUB_ACTION_REPOSITORY", "")],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("set DRIFTGATE_REPOSITORY=OWNER/REPO"), "{out}");
    // Unless it is to be built anyway (a local `uses: ./`).
    let (code, out, _) = runner.script_with(
        "action-install.sh",
        &["--resolve"],
        &[
            ("GITHUB_ACTION_REPOSITORY", ""),
            ("DRIFTGATE_BUILD_FROM_SOURCE", "true"),
        ],
    );
    assert_eq!(code, 0, "{out}");

    // Installing with no version given fetches the pinned release of this checkout.
    let (archive, sum) = release_archive(runner.dir.path(), "x86_64-unknown-linux-gnu");
    let name = "driftgate-x86_64-unknown-linux-gnu.tar.gz";
    let v = concat!("v", env!("CARGO_PKG_VERSION"));
    let url = serve_files(BTreeMap::from([
        (format!("/download/{v}/{name}"), archive),
        (
            format!("/download/{v}/{name}.sha256"),
            format!("{sum}  {name}\n").into_bytes(),
        ),
    ]));
    let (code, out, err) = runner.script(
        "action-install.sh",
        &[
            ("DRIFTGATE_RELEASE_URL", &url),
            ("DRIFTGATE_VERIFY_ATTESTATION", "false"),
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains(&format!("installed {v} for")), "{out}");
    assert!(!out.contains("provenance"), "{out}");
}

#[test]
fn install_falls_back_to_cargo_without_a_release() {
    let runner = Runner::new();
    let url = serve_files(BTreeMap::new());
    // The fallback builds the action's own source; the dev profile reuses the test build.
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| format!("{}/target", env!("CARGO_MANIFEST_DIR")));
    let env = [
        ("DRIFTGATE_RELEASE_URL", url.as_str()),
        ("DRIFTGATE_VERSION", "v9.9.9"),
        ("DRIFTGATE_BUILD_PROFILE", "dev"),
        ("CARGO_TARGET_DIR", target.as_str()),
    ];
    // Not asked to build: a missing release fails the step at once, with what to do.
    let (code, out, _) = runner.script("action-install.sh", &env);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("::error title=driftgate install::no release archive at ")
            && out.contains("set build-from-source: true"),
        "{out}"
    );
    assert!(!runner
        .dir
        .path()
        .join("toolcache/driftgate/v9.9.9")
        .exists());
    let mut asked = env.to_vec();
    asked.push(("DRIFTGATE_BUILD_FROM_SOURCE", "true"));
    let (code, out, err) = runner.script("action-install.sh", &asked);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("::warning::driftgate: no release archive"),
        "{out}"
    );
    assert!(
        out.contains(concat!("driftgate ", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert!(runner
        .dir
        .path()
        .join("toolcache/driftgate/v9.9.9/x86_64-unknown-linux-gnu/driftgate")
        .exists());
}

#[tokio::test]
async fn run_script_in_a_simulated_runner() {
    let m = moto().await;
    let runner = Runner::new();
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "action").await;
    m.allow_in(&sg, perm("tcp", 3389, 3389, "0.0.0.0/0")).await;
    let state = State::new()
        .add(
            "aws_security_group.rdp",
            sg_attrs(&sg, &vpc, "action", vec![], vec![]),
        )
        .write(runner.dir.path(), "terraform.tfstate");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_driftgate"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let states = format!("{}\n", state.display());
    let aws = [
        ("PATH", path.as_str()),
        ("AWS_ENDPOINT_URL", m.url.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", REGION),
    ];
    let inputs = |extra: &[(&'static str, &'static str)]| {
        let mut env: Vec<(&str, &str)> = aws.to_vec();
        env.push(("INPUT_STATES", states.as_str()));
        // action.yml's defaults: passed on only with a tracker.
        env.extend([
            ("INPUT_TICKET_LABEL", "break-glass"),
            ("INPUT_TICKET_MAX_AGE", "48h"),
        ]);
        env.extend_from_slice(extra);
        env
    };
    let (code, out, err) = runner.script(
        "action-run.sh",
        &inputs(&[("INPUT_FORMATS", "sarif, junit,JSON gitlab markdown")]),
    );
    assert_eq!(code, 1, "the exit code stays meaningful: {out}\n{err}");
    let outputs = runner.file("output");
    let sarif = runner.dir.path().join("driftgate/driftgate.sarif");
    assert!(outputs.contains("verdict=block\nblocking=1\n"), "{outputs}");
    assert!(
        outputs.contains(&format!("sarif-file={}", sarif.display())),
        "{outputs}"
    );
    for (output, file) in [
        ("json-file", "driftgate.json"),
        ("junit-file", "driftgate-junit.xml"),
        ("markdown-file", "driftgate.md"),
        ("gitlab-file", "driftgate-codequality.json"),
    ] {
        let line = format!(
            "{output}={}",
            runner.dir.path().join("driftgate").join(file).display()
        );
        assert!(outputs.lines().any(|l| l == line), "{line} in {outputs}");
    }
    for f in [
        "driftgate.sarif",
        "driftgate.json",
        "driftgate-junit.xml",
        "driftgate-codequality.json",
        "driftgate.md",
    ] {
        assert!(runner.dir.path().join("driftgate").join(f).exists(), "{f}");
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "AWS-SG-ADMIN-IPV4");
    assert!(runner.file("summary").contains("driftgate: BLOCK"));
    assert!(err.contains("::error file="), "{err}");

    // soft-fail: the step passes, the verdict still says block.
    std::fs::write(runner.dir.path().join("output"), "").unwrap();
    let (code, out, _) = runner.script("action-run.sh", &inputs(&[("INPUT_SOFT_FAIL", "true")]));
    assert_eq!(code, 0, "{out}");
    assert!(runner.file("output").contains("verdict=block\n"));
    assert!(
        out.contains("::warning title=driftgate::blocking drift found; soft-fail is on"),
        "{out}"
    );

    // An error: verdict `error`, the message as an annotation and in the summary, no report
    // path (the upload step must not point at a file that does not exist), exit 2 even with
    // soft-fail.
    std::fs::write(runner.dir.path().join("output"), "").unwrap();
    std::fs::write(runner.dir.path().join("summary"), "").unwrap();
    let mut env = inputs(&[("INPUT_SOFT_FAIL", "true")]);
    env.retain(|(k, _)| *k != "INPUT_STATES");
    env.push(("INPUT_STATES", "missing/terraform.tfstate\n"));
    let (code, out, err) = runner.script("action-run.sh", &env);
    assert_eq!(code, 2, "{out}\n{err}");
    assert_eq!(runner.file("output"), "verdict=error\n");
    assert!(
        out.contains("::error title=driftgate::state missing/terraform.tfstate: no such file."),
        "{out}"
    );
    assert!(!sarif.exists(), "the earlier run's report is gone");
    let summary = runner.file("summary");
    assert!(summary.contains("driftgate: ERROR"), "{summary}");
    assert!(summary.contains("terraform state pull"), "{summary}");
    // A usage error (no `driftgate: error:` prefix) is reported too, on one annotation line.
    let (code, out, _) = runner.script(
        "action-run.sh",
        &inputs(&[("INPUT_REQUIRE_APPROVAL", "ok")]),
    );
    assert_eq!(code, 2);
    let line = out
        .lines()
        .find(|l| l.starts_with("::error"))
        .unwrap_or_default();
    assert!(
        line.contains("--tickets <TRACKER>") && line.contains("%0A"),
        "{out}"
    );
    let (code, out, _) =
        runner.script("action-run.sh", &inputs(&[("INPUT_AWS_SOURCE", "config:")]));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("::error title=driftgate::--aws-source config:: an aggregator name"),
        "{out}"
    );
    // The role inputs reach driftgate, which checks them: a template without {account}.
    let (code, out, _) = runner.script(
        "action-run.sh",
        &inputs(&[
            ("INPUT_AWS_ROLE", "arn:aws:iam::123456789012:role/read"),
            ("INPUT_AWS_EXTERNAL_ID", "ext-1"),
        ]),
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("::error title=driftgate::--aws-role arn:aws:iam::123456789012:role/read: must name the account exactly once"),
        "{out}"
    );
    let (code, out, _) =
        runner.script("action-run.sh", &inputs(&[("INPUT_FORMATS", "sarif html")]));
    assert_eq!(code, 2);
    assert!(
        out.contains("::error title=driftgate::input formats: unknown format 'html'"),
        "{out}"
    );
}

/// On a pull request the run posts the Markdown report as the sticky comment (whatever the
/// formats input says); a refused comment is a warning and the verdict stands; an error is
/// posted too.
#[tokio::test]
async fn the_pull_request_gets_one_comment() {
    use tracker::{serve, Reply};
    let m = moto().await;
    let runner = Runner::new();
    let vpc = m.vpc().await;
    let sg = m.group(&vpc, "comment").await;
    m.allow_in(&sg, perm("tcp", 22, 22, "0.0.0.0/0")).await;
    let state = State::new()
        .add(
            "aws_security_group.ssh",
            sg_attrs(&sg, &vpc, "comment", vec![], vec![]),
        )
        .write(runner.dir.path(), "terraform.tfstate");
    let comments = "/repos/acme/infra/issues/12/comments";
    let github = serve(
        "Wed, 02 Dec 2026 10:00:00 GMT",
        vec![(
            comments,
            vec![
                Reply::json(serde_json::json!([])),
                Reply::json(
                    serde_json::json!({"id": 1, "html_url": "https://github.com/acme/infra/pull/12#issuecomment-1"}),
                ),
                Reply::json(serde_json::json!([])),
                Reply::status(
                    403,
                    r#"{"message":"Resource not accessible by integration"}"#,
                ),
                Reply::json(serde_json::json!([])),
                Reply::json(serde_json::json!({"id": 2})),
            ],
        )],
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_driftgate"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let states = format!("{}\n", state.display());
    let env = |states: &str| {
        vec![
            ("PATH", path.clone()),
            ("AWS_ENDPOINT_URL", m.url.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("INPUT_STATES", states.to_string()),
            ("INPUT_FORMATS", "sarif".into()),
            ("GITHUB_REPOSITORY", "acme/infra".into()),
            ("GITHUB_API_URL", github.url.clone()),
            ("DRIFTGATE_PR_NUMBER", "12".into()),
            ("INPUT_GITHUB_TOKEN", "ghs_token".into()),
        ]
    };
    let run = |states: &str| {
        let owned = env(states);
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        runner.script("action-run.sh", &pairs)
    };

    let (code, out, err) = run(&states);
    assert_eq!(code, 1, "{out}\n{err}");
    let hits = github.hits();
    let posted = hits
        .iter()
        .find(|r| r.method == "POST")
        .expect("no comment posted");
    assert_eq!(posted.header("authorization"), Some("Bearer ghs_token"));
    let body: Value = serde_json::from_str(&posted.body).unwrap();
    let body = body["body"].as_str().unwrap();
    assert!(
        body.starts_with("<!-- driftgate:comment:driftgate -->"),
        "{body}"
    );
    assert!(
        body.contains("driftgate: BLOCK") && body.contains("To unblock"),
        "{body}"
    );
    assert!(!out.contains("::warning"), "{out}");
    // markdown was not among the formats: no markdown-file output for the comment's file.
    assert!(!runner.file("output").contains("markdown-file"));

    // A fork's read-only token: a warning, the verdict and exit code unchanged.
    let (code, out, _) = run(&states);
    assert_eq!(code, 1);
    assert!(
        out.contains("::warning title=driftgate::could not post the pull request comment")
            && out.contains("pull-requests: write"),
        "{out}"
    );

    // An error is posted as well: the pull request says why nothing was checked.
    let (code, _, _) = run("missing.tfstate\n");
    assert_eq!(code, 2);
    let last = github
        .hits()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST")
        .unwrap();
    assert!(
        last.body.contains("driftgate: ERROR") && last.body.contains("missing.tfstate"),
        "{}",
        last.body
    );
}

/// Every place that names a release (downloads, installer, image, template) names this one, so
/// a version bump cannot leave an example installing an older driftgate.
#[test]
fn examples_name_this_release() {
    let v = concat!("v", env!("CARGO_PKG_VERSION"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md"), root.join("templates/driftgate.yml")];
    for dir in std::fs::read_dir(root.join("examples")).unwrap().flatten() {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            files.push(f.path());
        }
    }
    let mut seen = 0;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for needle in [
            "releases/download/",
            "ghcr.io/acme/driftgate:",
            "acme/driftgate/v",
        ] {
            for (i, _) in text.match_indices(needle) {
                let rest = &text[i + needle.len()..];
                if !rest.starts_with('v') {
                    continue;
                }
                let version: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                    .collect();
                if version == "vX.Y.Z" {
                    continue;
                }
                assert_eq!(version, v, "{}: {needle}{version}", file.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 6, "only {seen} release references found");
}

#[test]
fn action_yml_shape() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));
    for input in [
        "states",
        "tickets",
        "policy-files",
        "formats",
        "version",
        "working-directory",
    ] {
        assert!(doc["inputs"].get(input).is_some(), "input {input}");
    }
    // Nested actions are pinned by commit: a moved tag must not change what the action runs.
    for step in doc["runs"]["steps"].as_sequence().unwrap() {
        if let Some(uses) = step.get("uses").and_then(|u| u.as_str()) {
            let (_, rev) = uses.split_once('@').unwrap_or((uses, ""));
            assert!(
                rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                "{uses} is not pinned by commit"
            );
        }
    }
    assert_eq!(
        doc["inputs"]["version"]["default"].as_str(),
        Some(""),
        "never latest by default"
    );
    for output in [
        "verdict",
        "blocking-count",
        "sarif-file",
        "json-file",
        "junit-file",
        "markdown-file",
        "gitlab-file",
    ] {
        assert!(
            doc["outputs"][output]["value"]
                .as_str()
                .is_some_and(|v| v.contains("steps.run.outputs")),
            "{output}"
        );
    }
    for step in doc["runs"]["steps"].as_sequence().unwrap() {
        if step.get("run").is_some() {
            assert_eq!(
                step["shell"].as_str(),
                Some("bash"),
                "composite run steps need a shell"
            );
            let script = step["run"].as_str().unwrap();
            let file = script
                .trim_start_matches(['"', '\''])
                .split('"')
                .next()
                .unwrap_or_default()
                .replace("$GITHUB_ACTION_PATH/", "");
            assert!(
                Path::new(env!("CARGO_MANIFEST_DIR")).join(&file).exists(),
                "{file}"
            );
        }
    }
}

fn yaml(path: &str) -> Vec<serde_yaml_ng::Value> {
    use serde::Deserialize;
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde_yaml_ng::Value::deserialize(d).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

#[test]
fn ci_files_have_the_expected_shape() {
    // The release targets (cargo-dist's dist-workspace.toml): every one the installers ask for,
    // static musl builds for Alpine images, attested, archived as .tar.gz.
    let dist =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist-workspace.toml"))
            .unwrap();
    let install = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-install.sh"),
    )
    .unwrap();
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/driftgate.yml"),
    )
    .unwrap();
    for t in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
    ] {
        assert!(dist.contains(&format!("\"{t}\"")), "{t}");
        let asked = if t.contains("linux") {
            install.contains(&format!(
                "target={}",
                t.replace("-gnu", "-$libc").replace("-musl", "-$libc")
            ))
        } else {
            install.contains(&format!("target={t}"))
        };
        assert!(asked, "the installer does not ask for {t}");
    }
    assert!(template.contains("name=\"driftgate-$arch-unknown-linux-musl\""));
    for setting in [
        "github-attestations = true",
        "unix-archive = \".tar.gz\"",
        "checksum = \"sha256\"",
    ] {
        assert!(dist.contains(setting), "{setting}");
    }
    // Every job can be scheduled (no retired runner image) and ends (a timeout; a job that calls
    // a reusable workflow has them in that workflow); every action is pinned by commit.
    for path in [
        ".github/workflows/release.yml",
        ".github/workflows/container.yml",
    ] {
        let workflow = &yaml(path)[0];
        for (name, job) in workflow["jobs"].as_mapping().unwrap() {
            if let Some(called) = job["uses"].as_str() {
                assert!(
                    called.starts_with("./.github/workflows/"),
                    "{path} {name:?}: {called}"
                );
                continue;
            }
            assert!(
                job["timeout-minutes"].as_u64().is_some(),
                "{path} {name:?} has no timeout"
            );
            let text = serde_yaml_ng::to_string(job).unwrap();
            for label in [
                "macos-13",
                "macos-12",
                "macos-11",
                "ubuntu-20.04",
                "ubuntu-18.04",
                "windows-2019",
            ] {
                assert!(
                    !text.contains(label),
                    "{path} {name:?} runs on the retired {label}"
                );
            }
            for step in job["steps"].as_sequence().unwrap() {
                if let Some(uses) = step["uses"].as_str() {
                    let rev = uses.split_once('@').map(|(_, r)| r).unwrap_or("");
                    assert!(
                        rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{path}: {uses} is not pinned by commit"
                    );
                }
            }
        }
    }
    // The container image is published by the release run, from its own musl archives.
    let release = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/release.yml"),
    )
    .unwrap();
    assert!(release.contains("uses: ./.github/workflows/container.yml"));

    let workflow = &yaml("examples/github/driftgate.yml")[0];
    assert_eq!(workflow["permissions"]["id-token"].as_str(), Some("write"));
    assert_eq!(
        workflow["permissions"]["security-events"].as_str(),
        Some("write")
    );
    let steps = serde_yaml_ng::to_string(&workflow["jobs"]["apply"]["steps"]).unwrap();
    for needle in [
        "aws-actions/configure-aws-credentials",
        "github/codeql-action/upload-sarif",
        "steps.drift.outputs.sarif-file",
        "terraform apply",
    ] {
        assert!(steps.contains(needle), "{needle}");
    }

    // The multi-cloud example: OIDC for all three clouds, states one per line.
    let multi = &yaml("examples/github/driftgate-multicloud.yml")[0];
    assert_eq!(multi["permissions"]["id-token"].as_str(), Some("write"));
    assert_eq!(
        multi["jobs"]["gate"]["env"]["ARM_USE_OIDC"].as_str(),
        Some("true")
    );
    let gate = serde_yaml_ng::to_string(&multi["jobs"]["gate"]["steps"]).unwrap();
    assert!(gate.contains("google-github-actions/auth"), "{gate}");
    let states = multi["jobs"]["gate"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find_map(|s| s["with"]["states"].as_str())
        .unwrap();
    let schemes: Vec<&str> = states
        .lines()
        .filter_map(|l| l.split_once("://"))
        .map(|(s, _)| s)
        .collect();
    assert_eq!(schemes, ["s3", "azurerm", "gs"]);

    {
        let path = "templates/driftgate.yml";
        let docs = yaml(path);
        let job = &docs.last().unwrap()["driftgate"];
        assert_eq!(job["artifacts"]["when"].as_str(), Some("always"), "{path}");
        assert!(job["artifacts"]["reports"]["junit"].is_string(), "{path}");
        assert!(
            job["artifacts"]["reports"]["codequality"].is_string(),
            "{path}"
        );
        assert!(
            job["id_tokens"]["AWS_OIDC_TOKEN"]["aud"].is_string(),
            "{path}"
        );
    }
    // What decides what passes is an input (fixed at pipeline creation), never a variable that
    // whoever runs a pipeline can set; the image's entrypoint is reset for the runner's shell.
    let template = yaml("templates/driftgate.yml");
    let inputs = &template[0]["spec"]["inputs"];
    for input in [
        "tickets",
        "ticket_label",
        "ticket_max_age",
        "require_approval",
    ] {
        assert!(inputs[input].is_mapping(), "{input}");
    }
    let job = &template[1]["driftgate"];
    assert!(job["variables"].is_null(), "the template sets no variables");
    assert_eq!(
        job["image"]["entrypoint"].as_sequence().map(|s| s.len()),
        Some(1)
    );
    // Its defaults are this release.
    let v = concat!("v", env!("CARGO_PKG_VERSION"));
    assert_eq!(inputs["version"]["default"].as_str(), Some(v));
    assert_eq!(
        inputs["image"]["default"].as_str(),
        Some(format!("ghcr.io/acme/driftgate:{v}").as_str())
    );
    let example = &yaml("examples/gitlab/.gitlab-ci.yml")[0];
    let remote = example["include"][0]["remote"].as_str().unwrap();
    assert!(
        remote.ends_with(&format!("/{v}/templates/driftgate.yml")),
        "{remote}"
    );

    // Atlantis: drift shown at plan time, after Atlantis's plan, with the Terraform (or
    // OpenTofu) binary Atlantis planned with; checked again before apply.
    let atlantis = &yaml("examples/atlantis/repos.yaml")[0];
    let flow = &atlantis["workflows"]["driftgate"];
    let plan = serde_yaml_ng::to_string(&flow["plan"]["steps"]).unwrap();
    assert!(
        plan.find("- plan").unwrap() < plan.find("driftgate check").unwrap(),
        "{plan}"
    );
    let apply = serde_yaml_ng::to_string(&flow["apply"]["steps"]).unwrap();
    assert!(
        apply.find("driftgate check").unwrap() < apply.find("- apply").unwrap(),
        "{apply}"
    );
    for stage in [&plan, &apply] {
        assert!(
            stage.contains("$tf$ATLANTIS_TERRAFORM_VERSION\" show -json \"$PLANFILE\""),
            "{stage}"
        );
        assert!(stage.contains("opentofu"), "{stage}");
    }
    assert_eq!(
        atlantis["repos"][0]["allowed_overrides"]
            .as_sequence()
            .map(|s| s.len()),
        Some(0)
    );
    // Spacelift and env0: installed with the release's installer, then the gate before apply.
    for path in ["examples/spacelift/config.yml", "examples/env0/env0.yml"] {
        let text = serde_yaml_ng::to_string(&yaml(path)[0]).unwrap();
        assert!(text.contains("driftgate check"), "{path}");
        assert!(text.contains("driftgate-installer.sh"), "{path}");
    }
    // Terragrunt: the binary Terragrunt runs (terraform or tofu), before plan and apply; the
    // `$${` keeps HCL from interpolating the shell's variable.
    let hcl = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terragrunt/terragrunt.hcl"),
    )
    .unwrap();
    let body = hcl_edit::parser::parse_body(&hcl).unwrap();
    let text = body.to_string();
    assert!(text.contains("$${TG_CTX_TF_PATH:-terraform}"), "{text}");
    assert!(text.contains("commands = [\"plan\", \"apply\"]"), "{text}");
    for script in [
        "examples/shell/apply-with-driftgate.sh",
        "scripts/action-install.sh",
        "scripts/action-run.sh",
    ] {
        let ok = Command::new("bash")
            .arg("-n")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(script))
            .status()
            .unwrap();
        assert!(ok.success(), "{script}");
    }
}

/// The container image: a static build from the locked sources or the release's prebuilt
/// binaries, pinned bases, run unprivileged, serving the run task by default, with a shell for
/// the GitLab template (`entrypoint: [""]`).
#[test]
fn the_container_image_serves_unprivileged() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let froms: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .copied()
        .collect();
    for f in &froms {
        let image = f.split_whitespace().nth(1).unwrap();
        assert!(
            image == "scratch"
                || image == "${DRIFTGATE_BINARY}"
                || (image.contains(':') && !image.ends_with(":latest")),
            "unpinned base image {image}"
        );
    }
    // The last stage is Alpine (a shell, CA certificates) and runs nothing: the multi-platform
    // release build needs no emulation.
    let last = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    assert!(lines[last].starts_with("FROM alpine:"), "{}", lines[last]);
    assert!(!lines[last..].iter().any(|l| l.starts_with("RUN ")));
    // Both ways to the binary: the source build, and the release's binaries per platform.
    assert!(lines
        .iter()
        .any(|l| l.contains("cargo build --release --locked")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("COPY dist/${TARGETARCH}/driftgate")));
    let release = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.github/workflows/container.yml"
    ))
    .unwrap();
    assert!(release.contains("build-args: DRIFTGATE_BINARY=prebuilt"));
    for arch in ["amd64", "arm64"] {
        assert!(release.contains(&format!("linux/{arch}")), "{arch}");
    }
    let user = lines
        .iter()
        .find(|l| l.starts_with("USER "))
        .expect("no USER");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    let json_line = |key: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.starts_with(key)).unwrap();
        serde_json::from_str(l.trim_start_matches(key)).unwrap()
    };
    assert_eq!(json_line("ENTRYPOINT "), ["driftgate"]);
    assert_eq!(
        json_line("CMD ")[..3],
        ["serve", "--listen", "0.0.0.0:8080"]
    );
    // What the image copies must be what the build needs (Cargo.toml `include`).
    for path in ["Cargo.toml", "Cargo.lock", "src", "policies"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("COPY ") && l.contains(path)),
            "{path}"
        );
    }
}
