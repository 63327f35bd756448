//! States behind HTTP APIs, end to end: an HCP Terraform workspace's current state version
//! (`tfc://ORG/WORKSPACE`) and Terraform's http backend as GitLab serves it, from loopback servers
//! answering in the APIs' documented shapes (JSON:API workspace and state-version documents, the
//! archivist download), with the live side in moto. Tokens are sent where they belong and never
//! printed; every missing or refused state is exit 2 naming the URL.

mod common;
#[path = "common/tracker.rs"]
mod tracker;

use common::*;
use serde_json::json;
use tracker::{serve, Reply};

const DATE: &str = "Wed, 02 Dec 2026 10:00:00 GMT";
const TOKEN: &str = "atlasv1.s3cr3t-t0ken-value";

async fn state_with_a_group() -> (Moto, State) {
    let m = moto().await;
    let vpc = m.vpc().await;
    let name = unique("remote");
    let sg = m.group(&vpc, &name).await;
    m.allow_in(&sg, perm("tcp", 443, 443, "10.0.0.0/8")).await;
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
    (m, state)
}

fn hcp_routes(state: &State) -> Vec<(&'static str, Vec<Reply>)> {
    vec![
        (
            "/api/v2/organizations/acme/workspaces/prod",
            vec![Reply::json(json!({"data": {"id": "ws-3yZHjPuBEXAMPLE", "type": "workspaces",
                "attributes": {"name": "prod", "terraform-version": "1.9.8"},
                "relationships": {"current-state-version": {"data": {"id": "sv-g4rqST72EXAMPLE", "type": "state-versions"}}}}}))
                .header("Content-Type", "application/vnd.api+json")],
        ),
        (
            "/api/v2/workspaces/ws-3yZHjPuBEXAMPLE/current-state-version",
            vec![Reply::json(json!({"data": {"id": "sv-g4rqST72EXAMPLE", "type": "state-versions",
                "attributes": {"serial": 12, "status": "finalized",
                    "hosted-state-download-url": "{base}/_archivist/v1/object/dmF1bHQ6djE6U0tJUA",
                    "hosted-json-state-download-url": "{base}/_archivist/v1/object/dmF1bHQ6djE6SlNPTg"}}}))
                .header("Content-Type", "application/vnd.api+json")],
        ),
        (
            "/_archivist/v1/object/dmF1bHQ6djE6U0tJUA",
            vec![Reply::json(state.json())],
        ),
    ]
}

fn check_url(m: &Moto, url: &str, env: &[(&str, Option<&str>)]) -> Run {
    driftgate_env(
        &m.url,
        &["check", "--format", "json", "--state", url],
        None,
        env,
    )
}

#[tokio::test]
async fn hcp_terraform_workspace_current_state() {
    let (m, state) = state_with_a_group().await;
    let hcp = serve(DATE, hcp_routes(&state));
    let env = [
        ("TFE_ADDRESS", Some(hcp.url.as_str())),
        ("TF_TOKEN_127_0_0_1", Some(TOKEN)),
    ];
    let run = check_url(&m, "tfc://acme/prod", &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let source = &run.json()["summary"]["states"][0];
    assert_eq!(source["label"], "tfc://acme/prod (sv-g4rqST72EXAMPLE)");
    assert_eq!(run.json()["summary"]["objects_checked"], 1);
    let hits = hcp.hits();
    assert_eq!(hits.len(), 3, "{hits:?}");
    for h in &hits {
        assert_eq!(
            h.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    assert_eq!(hits[0].header("accept"), Some("application/vnd.api+json"));

    // From the CLI's credentials file instead of the environment.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".terraform.d")).unwrap();
    let creds = json!({"credentials": {format!("127.0.0.1:{}", hcp.url.rsplit(':').next().unwrap()): {"token": TOKEN}}});
    std::fs::write(
        home.path().join(".terraform.d/credentials.tfrc.json"),
        creds.to_string(),
    )
    .unwrap();
    let run = driftgate_at(
        home.path(),
        &m.url,
        &["check", "--format", "json", "--state", "tfc://acme/prod"],
        None,
        &[("TFE_ADDRESS", Some(hcp.url.as_str()))],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Another workspace (HCP Terraform answers 404 also when the token may not see it).
    let run = check_url(&m, "tfc://acme/staging", &env);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("state tfc://acme/staging")
            && run
                .stderr
                .contains("no workspace `staging` in organization `acme`"),
        "{}",
        run.stderr
    );
    // No token: say which variable Terraform reads.
    let run = check_url(
        &m,
        "tfc://acme/prod",
        &[("TFE_ADDRESS", Some(hcp.url.as_str()))],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("set TF_TOKEN_127_0_0_1"),
        "{}",
        run.stderr
    );
    // A refused token: exit 2, the token never printed.
    let refusing = serve(
        DATE,
        vec![(
            "/api/v2/organizations/acme/workspaces/prod",
            vec![Reply::status(
                401,
                r#"{"errors":[{"status":"401","title":"unauthorized"}]}"#,
            )],
        )],
    );
    let run = check_url(
        &m,
        "tfc://acme/prod",
        &[
            ("TFE_ADDRESS", Some(refusing.url.as_str())),
            ("TF_TOKEN_127_0_0_1", Some(TOKEN)),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    // Malformed URLs never reach the network.
    let run = check_url(&m, "tfc://acme", &env);
    assert!(
        run.code == 2 && run.stderr.contains("expected tfc://ORGANIZATION/WORKSPACE"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn http_backend_as_gitlab_serves_it() {
    let (m, state) = state_with_a_group().await;
    let path = "/api/v4/projects/42/terraform/state/production";
    let gitlab = serve(DATE, vec![(path, vec![Reply::json(state.json())])]);
    let url = format!("{}{path}", gitlab.url);
    let run = check_url(
        &m,
        &url,
        &[
            ("TF_HTTP_USERNAME", Some("deploy-bot")),
            ("TF_HTTP_PASSWORD", Some(TOKEN)),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["summary"]["states"][0]["label"], url);
    // Basic auth as the http backend sends it.
    use base64_check::encode;
    assert_eq!(
        gitlab.hits()[0].header("authorization"),
        Some(format!("Basic {}", encode(&format!("deploy-bot:{TOKEN}"))).as_str())
    );

    // In a GitLab CI job: the job token.
    let run = check_url(&m, &url, &[("CI_JOB_TOKEN", Some("glcbt-64_job"))]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        gitlab.hits()[1].header("authorization"),
        Some(format!("Basic {}", encode("gitlab-ci-token:glcbt-64_job")).as_str())
    );

    // No state under that name, and a refused token.
    let run = check_url(
        &m,
        &format!("{}/api/v4/projects/42/terraform/state/nope", gitlab.url),
        &[],
    );
    assert!(
        run.code == 2
            && run.stderr.contains("/terraform/state/nope")
            && run.stderr.contains("no state there"),
        "{}",
        run.stderr
    );
    let refusing = serve(
        DATE,
        vec![(
            path,
            vec![Reply::status(401, r#"{"message":"401 Unauthorized"}"#)],
        )],
    );
    let run = check_url(
        &m,
        &format!("{}{path}", refusing.url),
        &[("TF_HTTP_PASSWORD", Some(TOKEN))],
    );
    assert!(
        run.code == 2 && run.stderr.contains("HTTP 401") && run.stderr.contains("TF_HTTP_USERNAME"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(TOKEN));
    // Credentials are not sent in clear over the network: refused before any request.
    let run = check_url(
        &m,
        "http://gitlab.example.com/api/v4/projects/42/terraform/state/production",
        &[("TF_HTTP_PASSWORD", Some(TOKEN))],
    );
    assert!(
        run.code == 2 && run.stderr.contains("plain HTTP to another host"),
        "{}",
        run.stderr
    );
}

/// Base64 for the expected `Authorization: Basic` header (RFC 4648 with padding).
mod base64_check {
    pub fn encode(s: &str) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
