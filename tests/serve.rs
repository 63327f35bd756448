//! `driftgate serve`, the HCP Terraform run task endpoint, end to end: the real binary listening
//! on loopback, signed run task requests in (payload version 1, as HCP Terraform sends them), and
//! a loopback HCP Terraform answering the plan JSON download (a redirect to the archivist, as the
//! API does) and taking the task result callbacks (`PATCH`, JSON:API `task-results`).

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};
use tracker::{serve, Reply, Server};

const KEY: &str = "run-task-hmac-key-7f3a";
const ACCESS_TOKEN: &str = "4QEuyyxug1f2rw.atlasv1.run-task-access-token";
const DATE: &str = "Wed, 02 Dec 2026 10:00:00 GMT";

struct Driftgate {
    child: Child,
    url: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Drop for Driftgate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `driftgate serve` on a free loopback port, with the HMAC key and no cloud credentials.
fn start(args: &[&str], key: Option<&str>, env: &[(&str, &str)]) -> Driftgate {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("DRIFTGATE_RUN_TASK_HMAC_KEY")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(k) = key {
        cmd.env("DRIFTGATE_RUN_TASK_HMAC_KEY", k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    start_command(cmd)
}

/// Starts `cmd` (a `driftgate serve`), waits for its address; its JSON log lines collected.
fn start_command(mut cmd: Command) -> Driftgate {
    // No SDK may probe a metadata endpoint, and no setting of the machine leaks in.
    let set: Vec<String> = cmd
        .get_envs()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    for (k, _) in std::env::vars() {
        if [
            "AWS_PROFILE",
            "GOOGLE_",
            "ARM_",
            "AZURE_",
            "TFE_",
            "TF_TOKEN_",
            "DRIFTGATE_MOTO",
        ]
        .iter()
        .any(|p| k.starts_with(p))
            && !set.contains(&k)
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("GCE_METADATA_HOST", "127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["event"] == "listening" {
                    let _ = tx.send(v["address"].as_str().unwrap_or_default().to_string());
                }
            }
            sink.lock().unwrap().push(line);
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("driftgate serve did not say where it listens");
    Driftgate {
        child,
        url: format!("http://{address}"),
        logs,
    }
}

fn request(hcp: &Server, stage: &str, run: &str) -> Value {
    json!({
        "payload_version": 1,
        "stage": stage,
        "access_token": ACCESS_TOKEN,
        "capabilities": {"outcomes": true},
        "configuration_version_download_url": format!("{}/api/v2/configuration-versions/cv-ntv3HbhJqvFzamy7/download", hcp.url),
        "configuration_version_id": "cv-ntv3HbhJqvFzamy7",
        "is_speculative": false,
        "organization_name": "acme",
        "plan_json_api_url": format!("{}/api/v2/plans/plan-{run}/json-output", hcp.url),
        "run_app_url": format!("{}/app/acme/prod/runs/{run}", hcp.url),
        "run_created_at": "2026-12-02T09:58:13.036Z",
        "run_created_by": "deploy-bot",
        "run_id": run,
        "run_message": "Triggered via VCS",
        "task_result_callback_url": format!("{}/api/v2/task-results/{run}/callback", hcp.url),
        "task_result_enforcement_level": "mandatory",
        "task_result_id": format!("taskrs-{run}"),
        "vcs_branch": "main",
        "workspace_app_url": format!("{}/app/acme/prod", hcp.url),
        "workspace_id": "ws-ck4G5bb1Yei5szRh",
        "workspace_name": "prod",
        "workspace_working_directory": ""
    })
}

fn sign(key: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// POSTs `body` with a signature made with `key` (none: no header); (status, text).
fn post(dg: &Driftgate, body: &Value, key: Option<&str>) -> (u16, String) {
    let bytes = body.to_string().into_bytes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut req = reqwest::Client::new()
            .post(&dg.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "TFC/1.0 (+https://app.terraform.io; TFC)");
        if let Some(k) = key {
            req = req.header("X-TFC-Task-Signature", sign(k, &bytes));
        }
        let resp = req.body(bytes).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    })
}

/// The callbacks HCP Terraform received for `run`, waiting until one is final.
fn callbacks(hcp: &Server, run: &str) -> Vec<Value> {
    let path = format!("/api/v2/task-results/{run}/callback");
    let started = Instant::now();
    loop {
        let got: Vec<Value> = hcp
            .hits()
            .iter()
            .filter(|h| h.method == "PATCH" && h.target == path)
            .map(|h| {
                assert_eq!(
                    h.header("authorization"),
                    Some(format!("Bearer {ACCESS_TOKEN}").as_str())
                );
                assert_eq!(h.header("content-type"), Some("application/vnd.api+json"));
                serde_json::from_str(&h.body).unwrap()
            })
            .collect();
        if got
            .iter()
            .any(|b| b["data"]["attributes"]["status"] != "running")
        {
            return got;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no final callback for {run}: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn recorded() -> State {
    let vpc = "vpc-0a1b2c3d4e5f60718";
    State::new().add(
        "aws_security_group.web",
        sg_attrs(
            "sg-0web",
            vpc,
            "web",
            vec![sg_block("tcp", 443, 443, &["10.0.0.0/8"])],
            vec![],
        ),
    )
}

fn drifted() -> State {
    let vpc = "vpc-0a1b2c3d4e5f60718";
    State::new().add(
        "aws_security_group.web",
        sg_attrs(
            "sg-0web",
            vpc,
            "web",
            vec![
                sg_block("tcp", 443, 443, &["10.0.0.0/8"]),
                sg_block("tcp", 22, 22, &["0.0.0.0/0"]),
            ],
            vec![],
        ),
    )
}

/// HCP Terraform: each run's plan JSON behind a redirect to the archivist, and the callback.
fn hcp(plans: Vec<(&'static str, Reply)>) -> Server {
    let mut routes: Vec<(String, Vec<Reply>)> = Vec::new();
    for (run, reply) in plans {
        routes.push((
            format!("/api/v2/plans/plan-{run}/json-output"),
            vec![Reply::status(307, "").header(
                "Location",
                &format!("{{base}}/_archivist/v1/object/plan-{run}"),
            )],
        ));
        routes.push((format!("/_archivist/v1/object/plan-{run}"), vec![reply]));
        routes.push((
            format!("/api/v2/task-results/{run}/callback"),
            vec![Reply::json(json!({}))],
        ));
    }
    serve(
        DATE,
        routes
            .iter()
            .map(|(p, r)| (p.as_str(), r.clone()))
            .collect(),
    )
}

#[test]
fn run_task_checks_the_plan_and_calls_back() {
    let hcp = hcp(vec![
        (
            "run-drift",
            Reply::json(plan_json(&recorded(), Some(&drifted()))),
        ),
        (
            "run-clean",
            Reply::json(plan_json(&recorded(), Some(&recorded()))),
        ),
        (
            "run-broken",
            Reply::status(500, "{\"errors\":[{\"status\":\"500\"}]}"),
        ),
        ("run-preplan", Reply::json(json!({}))),
        (
            "run-slow",
            Reply::json(plan_json(&recorded(), Some(&recorded())))
                .after(Duration::from_millis(2500)),
        ),
    ]);
    let dg = start(
        &["--progress-every", "1"],
        Some(KEY),
        &[("TFE_ADDRESS", hcp.url.as_str())],
    );

    // The verification request HCP Terraform sends when the run task is created.
    let mut verify = request(&hcp, "test", "run-verify");
    verify["access_token"] = json!("test-token");
    assert_eq!(post(&dg, &verify, Some(KEY)).0, 200);

    // A console SSH rule that the plan's refresh read: failed, one critical outcome.
    let (status, text) = post(&dg, &request(&hcp, "post_plan", "run-drift"), Some(KEY));
    assert_eq!((status, text.trim()), (200, "accepted"));
    let got = callbacks(&hcp, "run-drift");
    let last = &got.last().unwrap()["data"];
    assert_eq!(last["type"], "task-results");
    assert_eq!(last["attributes"]["status"], "failed", "{last}");
    assert_eq!(
        last["attributes"]["message"],
        "1 blocking drift(s) in 1 object(s) checked"
    );
    let outcomes = last["relationships"]["outcomes"]["data"]
        .as_array()
        .unwrap();
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0]["attributes"];
    assert_eq!(outcomes[0]["type"], "task-result-outcomes");
    assert!(o["outcome-id"]
        .as_str()
        .unwrap()
        .starts_with("AWS-SG-ADMIN-IPV4-"));
    assert!(o["description"]
        .as_str()
        .unwrap()
        .starts_with("aws_security_group.web: "));
    assert_eq!(
        o["tags"]["Severity"][0],
        json!({"label": "Critical", "level": "error"})
    );
    assert_eq!(
        o["tags"]["Status"][0],
        json!({"label": "Blocking", "level": "error"})
    );
    let body = o["body"].as_str().unwrap();
    assert!(
        body.contains("0.0.0.0/0") && body.contains("CIS AWS Foundations"),
        "{body}"
    );

    // A clean plan passes.
    assert_eq!(
        post(&dg, &request(&hcp, "pre_apply", "run-clean"), Some(KEY)).0,
        200
    );
    let got = callbacks(&hcp, "run-clean");
    let a = &got.last().unwrap()["data"]["attributes"];
    assert_eq!(a["status"], "passed");
    let message = a["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "no security drift in 1 object(s) checked; plan of run-clean holds no refresh drift"
        ),
        "{message}"
    );

    // The plan cannot be downloaded: failed, saying why, never passed.
    assert_eq!(
        post(&dg, &request(&hcp, "post_plan", "run-broken"), Some(KEY)).0,
        200
    );
    let got = callbacks(&hcp, "run-broken");
    let a = &got.last().unwrap()["data"]["attributes"];
    assert_eq!(a["status"], "failed");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("could not complete the check")
            && a["message"].as_str().unwrap().contains("HTTP 500"),
        "{a}"
    );

    // At pre_plan there is no plan, and this server has no cloud credentials.
    assert_eq!(
        post(&dg, &request(&hcp, "pre_plan", "run-preplan"), Some(KEY)).0,
        200
    );

    // A slow download: `running` first, then the verdict.
    assert_eq!(
        post(&dg, &request(&hcp, "post_plan", "run-slow"), Some(KEY)).0,
        200
    );
    let got = callbacks(&hcp, "run-slow");
    let statuses: Vec<&str> = got
        .iter()
        .map(|b| b["data"]["attributes"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.first(), Some(&"running"), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&"passed"), "{statuses:?}");

    // Unsigned and wrongly signed requests are refused, and start nothing.
    let before = hcp.hits().len();
    let forged = request(&hcp, "post_plan", "run-drift");
    assert_eq!(post(&dg, &forged, None).0, 401);
    assert_eq!(post(&dg, &forged, Some("another-key")).0, 401);
    let (status, _) = post(&dg, &json!({"payload_version": 1}), Some(KEY));
    assert_eq!(status, 400);
    // A signed request whose callback is not on this server's HCP Terraform: refused, so that
    // neither the run's token nor the server's goes elsewhere.
    let mut elsewhere = request(&hcp, "post_plan", "run-elsewhere");
    elsewhere["task_result_callback_url"] =
        json!("http://127.0.0.1:9/api/v2/task-results/run-elsewhere/callback");
    let (status, text) = post(&dg, &elsewhere, Some(KEY));
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("is not on"), "{text}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hcp.hits().len(), before);

    // pre_plan's callback (it ran meanwhile): failed with the reason.
    let pre_plan: Vec<Value> = hcp
        .hits()
        .iter()
        .filter(|h| h.method == "PATCH" && h.target == "/api/v2/task-results/run-preplan/callback")
        .map(|h| serde_json::from_str(&h.body).unwrap())
        .collect();
    let a = &pre_plan.last().unwrap()["data"]["attributes"];
    assert_eq!(a["status"], "failed");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("there is no plan to read"),
        "{a}"
    );

    // The logs are JSON lines; tokens and the key appear nowhere.
    let logs = dg.logs.lock().unwrap().clone();
    assert!(
        logs.iter()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{logs:?}"
    );
    let all = logs.join("\n");
    assert!(!all.contains(ACCESS_TOKEN) && !all.contains(KEY), "{all}");
    assert!(all.contains("\"event\":\"refused\""), "{all}");
}

#[test]
fn health_and_an_unverified_server_warns() {
    let dg = start(&[], None, &[]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let health: Value = runtime.block_on(async {
        reqwest::get(format!("{}/healthz", dg.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(health, json!({"status": "ok", "pending": 0}));
    let logs = dg.logs.lock().unwrap().join("\n");
    assert!(logs.contains("requests are not verified"), "{logs}");
}

/// At pre_plan the server reads the workspace's current state from HCP Terraform with its own
/// token and the cloud with its own credentials (moto); a cloud that cannot be read is a failed
/// task with the reason.
#[test]
fn pre_plan_reads_the_workspace_state_and_the_cloud() {
    let name = unique("serve");
    let (m, vpc, sg) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let m = moto().await;
        let vpc = m.vpc().await;
        let sg = m.group(&vpc, &name).await;
        m.allow_in(&sg, perm("tcp", 443, 443, "10.0.0.0/8")).await;
        m.allow_in(&sg, perm("tcp", 3389, 3389, "0.0.0.0/0")).await;
        (m, vpc, sg)
    });
    let state = State::new().add(
        "aws_security_group.web",
        sg_attrs(
            &sg,
            &vpc,
            &name,
            vec![sg_block("tcp", 443, 443, &["10.0.0.0/8"])],
            vec![],
        ),
    );
    let hcp = serve(
        DATE,
        vec![
            (
                "/api/v2/organizations/acme/workspaces/prod",
                vec![Reply::json(
                    json!({"data": {"id": "ws-ck4G5bb1Yei5szRh", "type": "workspaces"}}),
                )],
            ),
            (
                "/api/v2/workspaces/ws-ck4G5bb1Yei5szRh/current-state-version",
                vec![Reply::json(
                    json!({"data": {"id": "sv-SDboVZC8TCxXEneJ", "type": "state-versions",
                    "attributes": {"hosted-state-download-url": "{base}/_archivist/v1/object/state-prod"}}}),
                )],
            ),
            (
                "/_archivist/v1/object/state-prod",
                vec![Reply::json(state.json())],
            ),
            (
                "/api/v2/task-results/run-pre/callback",
                vec![Reply::json(json!({}))],
            ),
            (
                "/api/v2/task-results/run-down/callback",
                vec![Reply::json(json!({}))],
            ),
        ],
    );
    let with_cloud = |endpoint: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftgate"));
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--live", "api"])
            .env("DRIFTGATE_RUN_TASK_HMAC_KEY", KEY)
            .env("TF_TOKEN_127_0_0_1", "server-state-token")
            .env("TFE_ADDRESS", &hcp.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    let dg = start_command(with_cloud(&m.url));
    assert_eq!(
        post(&dg, &request(&hcp, "pre_plan", "run-pre"), Some(KEY)).0,
        200
    );
    let got = callbacks(&hcp, "run-pre");
    let a = &got.last().unwrap()["data"]["attributes"];
    assert_eq!(a["status"], "failed", "{a}");
    assert_eq!(a["message"], "1 blocking drift(s) in 1 object(s) checked");
    let state_reads: Vec<_> = hcp
        .hits()
        .into_iter()
        .filter(|h| {
            h.target.starts_with("/api/v2/organizations")
                || h.target.contains("current-state-version")
        })
        .collect();
    assert!(state_reads
        .iter()
        .all(|h| h.header("authorization") == Some("Bearer server-state-token")));
    drop(dg);

    // The cloud does not answer: failed, with the reason.
    let dg = start_command(with_cloud("http://127.0.0.1:9"));
    assert_eq!(
        post(&dg, &request(&hcp, "post_apply", "run-down"), Some(KEY)).0,
        200
    );
    let got = callbacks(&hcp, "run-down");
    let a = &got.last().unwrap()["data"]["attributes"];
    assert_eq!(a["status"], "failed");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .starts_with("driftgate could not complete the check"),
        "{a}"
    );
}

/// `serve --history DIR`: each completed check is recorded with the run's pipeline fields; a
/// history that cannot be written fails the check instead of passing it unrecorded.
#[test]
fn run_task_checks_are_recorded() {
    let hcp = hcp(vec![
        (
            "run-hist",
            Reply::json(plan_json(&recorded(), Some(&drifted()))),
        ),
        (
            "run-nowhere",
            Reply::json(plan_json(&recorded(), Some(&recorded()))),
        ),
    ]);
    let history = tempfile::tempdir().unwrap();
    let dest = history.path().display().to_string();
    let dg = start(
        &["--history", &dest],
        Some(KEY),
        &[("TFE_ADDRESS", hcp.url.as_str())],
    );
    let mut req = request(&hcp, "post_plan", "run-hist");
    req["vcs_commit_url"] = json!("https://github.com/acme/infra/commit/0123abcd");
    assert_eq!(post(&dg, &req, Some(KEY)).0, 200);
    let got = callbacks(&hcp, "run-hist");
    assert_eq!(
        got.last().unwrap()["data"]["attributes"]["status"],
        "failed"
    );
    let mut files = Vec::new();
    for day in walk(&history.path().join("runs")) {
        files.push(day);
    }
    assert_eq!(files.len(), 1, "{files:?}");
    let record: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(record["pipeline"]["provider"], "hcp-terraform");
    assert_eq!(
        record["pipeline"]["url"],
        format!("{}/app/acme/prod/runs/run-hist", hcp.url)
    );
    assert_eq!(record["pipeline"]["commit"], "0123abcd");
    assert_eq!(record["pipeline"]["ref"], "main");
    assert_eq!(record["findings"][0]["policy"], "AWS-SG-ADMIN-IPV4");

    // The history cannot be written (its path is now a file): the check fails, it does not
    // pass unrecorded.
    let path = history.path().to_path_buf();
    drop(history);
    std::fs::write(&path, "not a directory").unwrap();
    assert_eq!(
        post(&dg, &request(&hcp, "post_plan", "run-nowhere"), Some(KEY)).0,
        200
    );
    let got = callbacks(&hcp, "run-nowhere");
    let last = &got.last().unwrap()["data"]["attributes"];
    assert_eq!(last["status"], "failed", "{last}");
    assert!(
        last["message"].as_str().unwrap().contains("history"),
        "{last}"
    );
    let _ = std::fs::remove_file(&path);
}
