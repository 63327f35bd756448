//! `driftgate serve`: the HCP Terraform / Terraform Enterprise run task endpoint.
//!
//! HCP Terraform POSTs a run task request (payload version 1) at a run's stage and waits for a
//! callback. The server verifies `X-TFC-Task-Signature` (HMAC-SHA512 of the body) when it has a
//! key, answers 200 at once, and checks in the background, a bounded number at a time: at
//! `post_plan` and `pre_apply` the run's plan JSON (downloaded with the request's access token),
//! at `pre_plan` and `post_apply` the workspace's current state (read with the server's own
//! token: the request's cannot read state versions). It then PATCHes the task result: `passed` or
//! `failed` with one outcome per drift. A check that cannot be completed is `failed` with the
//! reason; one still running reports `running` now and then, and is given up (failed) before
//! HCP Terraform's ten-minute limit. Logs are JSON lines on stderr; tokens and keys never appear.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::check::{self, CheckOptions, LiveSource};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::report::run_task;

/// The token HCP Terraform sends when it verifies the endpoint (creating the run task): answered
/// 200, no check, no callback.
const VERIFICATION_TOKEN: &str = "test-token";

pub struct ServeOptions {
    pub listen: String,
    /// `X-TFC-Task-Signature` key; `None`: requests are not verified (a warning at start).
    pub hmac_key: Option<Vec<u8>>,
    /// Policies, break-glass and reads for each check; its `states` and `live` are set per run.
    pub check: CheckOptions,
    /// Where the live side of plan stages comes from (`pre_plan` / `post_apply` need the API).
    pub live: LiveSource,
    pub parallel: usize,
    pub queue: usize,
    /// How often a check still running says so.
    pub progress_every: Duration,
    /// A check not done by then is reported failed (HCP Terraform's limit is ten minutes).
    pub deadline: Duration,
    /// Where each completed check is recorded (`serve --history`); a record that cannot be
    /// written fails the check.
    pub history: Option<crate::history::store::Dest>,
}

/// The run task request, as HCP Terraform sends it (payload version 1). Only what is used.
#[derive(Deserialize)]
struct TaskRequest {
    payload_version: i64,
    stage: String,
    access_token: String,
    #[serde(default)]
    task_result_callback_url: String,
    #[serde(default)]
    plan_json_api_url: Option<String>,
    #[serde(default)]
    run_id: String,
    #[serde(default)]
    organization_name: String,
    #[serde(default)]
    workspace_name: String,
    #[serde(default)]
    is_speculative: bool,
    /// For the history record's pipeline fields.
    #[serde(default)]
    run_app_url: Option<String>,
    #[serde(default)]
    vcs_commit_url: Option<String>,
    #[serde(default)]
    vcs_branch: Option<String>,
    /// When it was accepted: the deadline counts from then, queue time included.
    #[serde(skip)]
    accepted: Option<Instant>,
}

struct App {
    opts: ServeOptions,
    /// The HCP Terraform served (`TFE_ADDRESS`, else app.terraform.io).
    origin: reqwest::Url,
    client: Client,
    /// The queue of accepted checks, taken by the workers.
    queue: mpsc::Sender<TaskRequest>,
    /// Accepted and not yet called back.
    pending: AtomicUsize,
}

/// One JSON line on stderr.
fn log(level: &str, event: &str, fields: Value) {
    let mut line = json!({
        "time": jiff::Timestamp::now().to_string(),
        "level": level,
        "event": event,
    });
    if let (Some(l), Value::Object(f)) = (line.as_object_mut(), fields) {
        l.extend(f);
    }
    eprintln!("{line}");
}

pub async fn serve(opts: ServeOptions) -> Result<()> {
    let addr: SocketAddr = opts.listen.parse().map_err(|e| {
        Error::new(
            "--listen",
            format!("`{}` is not ADDRESS:PORT: {e}", opts.listen),
        )
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::new("--listen", format!("cannot listen on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::new("--listen", e.to_string()))?;
    if opts.hmac_key.is_none() {
        log(
            "warn",
            "unverified",
            json!({"message": "no HMAC key (DRIFTGATE_RUN_TASK_HMAC_KEY): requests are not verified; set the run task's HMAC key and the variable"}),
        );
    }
    let (sender, receiver) = mpsc::channel(opts.queue.max(1));
    let (origin, _) = crate::state::remote::hcp_base()?;
    let app = Arc::new(App {
        origin,
        client: Client::new("HCP Terraform")?,
        queue: sender,
        pending: AtomicUsize::new(0),
        opts,
    });
    start_workers(&app, receiver)?;
    let router = Router::new()
        .route("/", post(run_task))
        .route("/healthz", get(health))
        .with_state(app.clone());
    log(
        "info",
        "listening",
        json!({"address": bound.to_string(), "live": live_name(app.opts.live),
               "hcp_terraform": app.origin.origin().ascii_serialization()}),
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| Error::new("driftgate serve", e.to_string()))?;
    // Accepted checks still owe HCP Terraform their callback.
    let started = Instant::now();
    while app.pending.load(Ordering::SeqCst) > 0 && started.elapsed() < app.opts.deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    log(
        "info",
        "stopped",
        json!({"unfinished": app.pending.load(Ordering::SeqCst)}),
    );
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn live_name(live: LiveSource) -> &'static str {
    match live {
        LiveSource::Api => "api",
        LiveSource::Plan => "plan",
    }
}

async fn health(State(app): State<Arc<App>>) -> (StatusCode, axum::Json<Value>) {
    (
        StatusCode::OK,
        axum::Json(json!({
            "status": "ok",
            "pending": app.pending.load(Ordering::SeqCst),
        })),
    )
}

/// Is `signature` (hex) the HMAC-SHA512 of `body` with `key`? Compared in constant time.
fn signed(key: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha512>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

async fn run_task(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Some(key) = &app.opts.hmac_key {
        let signature = headers
            .get("x-tfc-task-signature")
            .and_then(|v| v.to_str().ok());
        if !signature.is_some_and(|s| signed(key, &body, s)) {
            log(
                "warn",
                "refused",
                json!({"reason": if signature.is_some() { "bad signature" } else { "no signature" }}),
            );
            return (
                StatusCode::UNAUTHORIZED,
                "X-TFC-Task-Signature is missing or does not match the body\n".into(),
            );
        }
    }
    let mut req: TaskRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            log(
                "warn",
                "refused",
                json!({"reason": format!("not a run task request: {e}")}),
            );
            return (
                StatusCode::BAD_REQUEST,
                format!("not a run task request: {e}\n"),
            );
        }
    };
    if req.access_token == VERIFICATION_TOKEN {
        log("info", "verified", json!({"stage": req.stage}));
        return (StatusCode::OK, "driftgate run task endpoint\n".into());
    }
    if req.payload_version != 1 {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "payload_version {} is not supported (1 is)\n",
                req.payload_version
            ),
        );
    }
    // Every URL of the request must be on the HCP Terraform this server serves: it sends the
    // run's token there, and (pre_plan) reads state with its own.
    let origin = app.origin.origin();
    let foreign = |u: &str| reqwest::Url::parse(u).map_or(true, |u| u.origin() != origin);
    let urls = std::iter::once(req.task_result_callback_url.as_str())
        .chain(req.plan_json_api_url.as_deref().filter(|u| !u.is_empty()));
    if let Some(u) = urls.into_iter().find(|u| foreign(u)) {
        log(
            "warn",
            "refused",
            json!({"reason": "a URL not on the HCP Terraform address", "url": u}),
        );
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "`{u}` is not on {} (TFE_ADDRESS): this server calls only its HCP Terraform\n",
                origin.ascii_serialization()
            ),
        );
    }
    let fields = json!({"run_id": req.run_id, "stage": req.stage, "workspace": req.workspace_name,
                        "organization": req.organization_name, "speculative": req.is_speculative});
    req.accepted = Some(Instant::now());
    app.pending.fetch_add(1, Ordering::SeqCst);
    // A full queue: HCP Terraform retries a request that is not answered 200.
    if app.queue.try_send(req).is_err() {
        app.pending.fetch_sub(1, Ordering::SeqCst);
        log("warn", "queue full", fields);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many checks queued; retry\n".into(),
        );
    }
    log("info", "accepted", fields);
    (StatusCode::OK, "accepted\n".into())
}

/// `parallel` worker threads, each with a runtime of its own, take checks off the queue: a
/// check is a whole `driftgate check` (its futures need not be `Send`), and a slow cloud holds up
/// only its worker while the queue keeps accepting.
fn start_workers(app: &Arc<App>, receiver: mpsc::Receiver<TaskRequest>) -> Result<()> {
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    for n in 0..app.opts.parallel.max(1) {
        let (app, receiver) = (app.clone(), receiver.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::new("driftgate serve", format!("cannot start a worker: {e}")))?;
        std::thread::Builder::new()
            .name(format!("check-{n}"))
            .spawn(move || {
                runtime.block_on(async {
                    loop {
                        let next = receiver.lock().await.recv().await;
                        let Some(req) = next else { break };
                        job(&app, req).await;
                    }
                })
            })
            .map_err(|e| Error::new("driftgate serve", format!("cannot start a worker: {e}")))?;
    }
    Ok(())
}

/// Checks one run and calls back; says it is still running every `progress_every`.
async fn job(app: &App, req: TaskRequest) {
    let started = req.accepted.unwrap_or_else(Instant::now);
    let left = app.opts.deadline.saturating_sub(started.elapsed());
    let work = tokio::time::timeout(left, check_run(app, &req));
    tokio::pin!(work);
    let outcome = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = tokio::time::sleep(app.opts.progress_every) => {
                let message = format!(
                    "driftgate is checking ({} s so far)",
                    started.elapsed().as_secs()
                );
                if let Err(e) = call_back(app, &req, run_task::running(&message)).await {
                    log("warn", "progress not sent",
                        json!({"run_id": req.run_id, "error": e.to_string()}));
                }
            }
        }
    };
    let (body, verdict) = match outcome {
        Ok(Ok(report)) => (
            run_task::verdict(&report),
            report.verdict.as_str().to_string(),
        ),
        Ok(Err(e)) => (run_task::could_not_check(&e.to_string()), "error".into()),
        Err(_) => (
            run_task::could_not_check(&format!(
                "the check did not finish within {} s",
                app.opts.deadline.as_secs()
            )),
            "error".into(),
        ),
    };
    match call_back(app, &req, body).await {
        Ok(()) => log(
            "info",
            "called back",
            json!({"run_id": req.run_id, "verdict": verdict,
                   "seconds": started.elapsed().as_secs_f64()}),
        ),
        Err(e) => log(
            "error",
            "callback failed",
            json!({"run_id": req.run_id, "verdict": verdict, "error": e.to_string()}),
        ),
    }
    app.pending.fetch_sub(1, Ordering::SeqCst);
}

/// The document this stage checks: the plan (plan stages) or the workspace's current state.
async fn check_run(app: &App, req: &TaskRequest) -> Result<crate::report::Report> {
    let what = format!("run {}", req.run_id);
    let (label, bytes, live) = match req.stage.as_str() {
        "post_plan" | "pre_apply" => {
            let url = req
                .plan_json_api_url
                .as_deref()
                .filter(|u| !u.is_empty())
                .ok_or_else(|| Error::new(&what, "the request has no plan_json_api_url"))?;
            let token = req.access_token.clone();
            let plan_what = format!("plan JSON of {}", req.run_id);
            let bytes = app
                .client
                .bytes_or_missing(
                    &plan_what,
                    "the run task's access token must read the plan",
                    || app.client.inner.get(url).bearer_auth(&token),
                )
                .await?
                .ok_or_else(|| Error::new(&plan_what, "HTTP 404: the plan has no JSON output"))?;
            (format!("plan of {}", req.run_id), bytes, app.opts.live)
        }
        "pre_plan" | "post_apply" => {
            if app.opts.live == LiveSource::Plan {
                return Err(Error::new(
                    &what,
                    format!(
                        "at {} there is no plan to read: attach the task at post_plan, or run the \
                         server with --live api and cloud credentials",
                        req.stage
                    ),
                ));
            }
            let url = format!("tfc://{}/{}", req.organization_name, req.workspace_name);
            let (label, bytes) = crate::state::remote::read_hcp(
                &app.client,
                &url,
                &req.organization_name,
                &req.workspace_name,
            )
            .await?;
            (label, bytes, LiveSource::Api)
        }
        other => return Err(Error::new(&what, format!("unknown stage `{other}`"))),
    };
    let path = std::env::temp_dir().join(format!(
        "driftgate-{}-{}-{}.json",
        std::process::id(),
        req.run_id
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
        req.stage
    ));
    std::fs::write(&path, &bytes)
        .map_err(|e| Error::new(&label, format!("cannot keep it in {}: {e}", path.display())))?;
    let opts = CheckOptions {
        states: vec![path.display().to_string()],
        live,
        ..app.opts.check.clone()
    };
    let report = check::run(&opts).await;
    let _ = std::fs::remove_file(&path);
    // The temporary file is ours; the reader knows the run.
    let shown = path.display().to_string();
    let report = report.map(|mut r| {
        for note in &mut r.summary.notes {
            *note = note.replace(&shown, &label);
        }
        for s in &mut r.summary.states {
            s.label = label.clone();
        }
        r
    })?;
    if let Some(dest) = &app.opts.history {
        let pipeline = crate::history::Pipeline {
            provider: "hcp-terraform".into(),
            url: req.run_app_url.clone().filter(|u| !u.is_empty()),
            // `…/commit/<sha>` on GitHub, GitLab and Bitbucket.
            commit: req
                .vcs_commit_url
                .as_deref()
                .and_then(|u| u.rsplit('/').next())
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            git_ref: req.vcs_branch.clone().filter(|b| !b.is_empty()),
        };
        let record = crate::history::record(&report, pipeline);
        let store = crate::history::store::Store::open(dest, &app.opts.check.aws).await?;
        let written = crate::history::write(&store, dest, &record).await?;
        log(
            "info",
            "recorded",
            json!({"run_id": req.run_id, "record": written}),
        );
    }
    Ok(report)
}

/// PATCHes the task result with the request's access token.
async fn call_back(app: &App, req: &TaskRequest, body: Value) -> Result<()> {
    let what = format!("callback of {}", req.run_id);
    let url = req.task_result_callback_url.clone();
    let token = req.access_token.clone();
    let text = body.to_string();
    app.client
        .bytes_or_missing(
            &what,
            "the run task's access token must update the task result",
            || {
                app.client
                    .inner
                    .patch(&url)
                    .bearer_auth(&token)
                    .header("Content-Type", "application/vnd.api+json")
                    .body(text.clone())
            },
        )
        .await?
        .ok_or_else(|| Error::new(&what, "HTTP 404: no such task result"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha512_of_the_body() {
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(b"key").unwrap();
        mac.update(b"{\"a\":1}");
        let sig = hex::encode(mac.finalize().into_bytes());
        assert!(signed(b"key", b"{\"a\":1}", &sig));
        assert!(!signed(b"key", b"{\"a\":2}", &sig));
        assert!(!signed(b"other", b"{\"a\":1}", &sig));
        assert!(!signed(b"key", b"{\"a\":1}", "not hex"));
    }
}
