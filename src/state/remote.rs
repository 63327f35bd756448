//! States kept behind HTTP APIs: HCP Terraform / Terraform Enterprise workspaces
//! (`tfc://ORGANIZATION/WORKSPACE`, the current state version) and Terraform's `http` backend,
//! which is how GitLab-managed Terraform state is read
//! (`https://gitlab.example.com/api/v4/projects/ID/terraform/state/NAME`).
//!
//! Credentials are found where Terraform finds them: `TF_TOKEN_<host>` (dots as `_`, dashes as
//! `__`) or the CLI's `credentials.tfrc.json` for HCP Terraform, `TF_HTTP_USERNAME` /
//! `TF_HTTP_PASSWORD` for the http backend (or GitLab CI's `CI_JOB_TOKEN`). A token is sent only
//! to the host it belongs to, over HTTPS (plain HTTP only to a loopback address), and never
//! printed.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::{self, Client};

const HCP_HOST: &str = "app.terraform.io";

/// Is `url` plain HTTP to another machine (where a token would cross the network in clear)?
fn clear_text_to_elsewhere(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    url.scheme() != "https" && !loopback
}

fn parse_url(what: &str, text: &str) -> Result<reqwest::Url> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| Error::new(what, format!("`{text}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(Error::new(what, format!("`{text}` is not an http(s) URL")));
    }
    if clear_text_to_elsewhere(&url) {
        return Err(Error::new(
            what,
            format!("`{text}` is plain HTTP to another host: credentials would cross the network in clear; use https"),
        ));
    }
    Ok(url)
}

/// `host[:port]` as Terraform names a host in `TF_TOKEN_…`: dots become `_`, dashes `__`.
fn token_variable(host: &str) -> String {
    let host = host.split(':').next().unwrap_or(host);
    format!("TF_TOKEN_{}", host.replace('-', "__").replace('.', "_"))
}

/// The API token for `host`: `TF_TOKEN_<host>`, then the `credentials` block of the CLI's
/// `credentials.tfrc.json` (`TF_CLI_CONFIG_DIR`, else `~/.terraform.d`), then `TFE_TOKEN`.
fn hcp_token(host: &str) -> Result<String> {
    let variable = token_variable(host);
    if let Some(t) = http::env(&variable) {
        return Ok(t.trim().to_string());
    }
    let dir = http::env("TF_CLI_CONFIG_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| http::env("HOME").map(|h| std::path::Path::new(&h).join(".terraform.d")));
    if let Some(path) = dir.map(|d| d.join("credentials.tfrc.json")) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let doc: Value = serde_json::from_str(&text).map_err(|e| {
                Error::new(
                    format!("Terraform credentials {}", path.display()),
                    format!("not valid JSON: {e}"),
                )
            })?;
            if let Some(t) = doc
                .pointer(&format!(
                    "/credentials/{}/token",
                    host.replace('~', "~0").replace('/', "~1")
                ))
                .and_then(Value::as_str)
            {
                return Ok(t.trim().to_string());
            }
        }
    }
    if let Some(t) = http::env("TFE_TOKEN") {
        return Ok(t.trim().to_string());
    }
    Err(Error::new(
        format!("HCP Terraform {host}"),
        format!(
            "no API token: set {variable} (as the Terraform CLI reads it), or log in with \
             `terraform login {host}`"
        ),
    ))
}

/// The API host and base: `TFE_ADDRESS` (Terraform Enterprise) or app.terraform.io.
pub fn hcp_base() -> Result<(reqwest::Url, String)> {
    let address = http::env("TFE_ADDRESS").unwrap_or_else(|| format!("https://{HCP_HOST}"));
    let address = if address.contains("://") {
        address
    } else {
        format!("https://{address}")
    };
    let url = parse_url("TFE_ADDRESS", address.trim().trim_end_matches('/'))?;
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    Ok((url, host))
}

/// The current state version of an HCP Terraform workspace: the workspace by name, its
/// `current-state-version`, then the state from `hosted-state-download-url`. Returns the label
/// (with the state version id) and the bytes.
pub async fn read_hcp(
    client: &Client,
    url: &str,
    organization: &str,
    workspace: &str,
) -> Result<(String, Vec<u8>)> {
    let (base, host) = hcp_base()?;
    let token = hcp_token(&host)?;
    let what = format!("state {url}");
    let api = |path: &str| format!("{}/api/v2/{path}", base.as_str().trim_end_matches('/'));
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, http::COMPONENT).to_string();
    let hint = format!(
        "the token ({}) needs read access to the workspace's state versions",
        token_variable(&host)
    );
    let get = |target: String| {
        let token = token.clone();
        move || {
            client
                .inner
                .get(&target)
                .bearer_auth(&token)
                .header("Accept", "application/vnd.api+json")
        }
    };
    let ws = client
        .json_or_missing(
            &what,
            &hint,
            get(api(&format!(
                "organizations/{}/workspaces/{}",
                enc(organization),
                enc(workspace)
            ))),
        )
        .await?
        .ok_or_else(|| {
            Error::new(
                &what,
                format!(
                    "HCP Terraform has no workspace `{workspace}` in organization \
                     `{organization}` on {host}, or the token cannot see it"
                ),
            )
        })?;
    let id = ws
        .body
        .pointer("/data/id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new(&what, "the workspace answer has no `data.id`"))?;
    let version = client
        .json_or_missing(
            &what,
            &hint,
            get(api(&format!(
                "workspaces/{}/current-state-version",
                enc(id)
            ))),
        )
        .await?
        .ok_or_else(|| {
            Error::new(
                &what,
                format!("workspace `{workspace}` has no state yet (no current state version)"),
            )
        })?;
    let attrs = version
        .body
        .pointer("/data/attributes")
        .ok_or_else(|| Error::new(&what, "the state version answer has no `data.attributes`"))?;
    let download = attrs
        .get("hosted-state-download-url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::new(
                &what,
                "the current state version has no `hosted-state-download-url` (still being \
                 uploaded?); run again",
            )
        })?;
    let download = parse_url(&what, download)?;
    let version_id = version
        .body
        .pointer("/data/id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    // The token goes only to the API's own origin; elsewhere (archivist) the URL is signed.
    let same_origin = download.origin() == base.origin();
    let bytes = client
        .bytes_or_missing(&what, &hint, || {
            let req = client.inner.get(download.clone());
            if same_origin {
                req.bearer_auth(&token)
            } else {
                req
            }
        })
        .await?
        .ok_or_else(|| Error::new(&what, "the state version's download URL answered 404"))?;
    Ok((format!("{url} ({version_id})"), bytes))
}

/// A state from Terraform's `http` backend: GET with the backend's basic auth.
pub async fn read_http(client: &Client, url: &str) -> Result<(String, Vec<u8>)> {
    let what = format!("state {url}");
    let target = parse_url(&what, url)?;
    let credentials = match (http::env("TF_HTTP_USERNAME"), http::env("TF_HTTP_PASSWORD")) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, Some(p)) => Some(("".into(), p)),
        // GitLab CI: the job token reads the project's Terraform states.
        _ => http::env("CI_JOB_TOKEN").map(|t| ("gitlab-ci-token".to_string(), t)),
    };
    let hint = "set TF_HTTP_USERNAME and TF_HTTP_PASSWORD (GitLab: a token with read_api, or \
                CI_JOB_TOKEN in a job)";
    let bytes = client
        .bytes_or_missing(&what, hint, || {
            let req = client.inner.get(target.clone());
            match &credentials {
                Some((u, p)) => req.basic_auth(u, Some(p)),
                None => req,
            }
        })
        .await?
        .ok_or_else(|| Error::new(&what, "no state there (HTTP 404)"))?;
    // The http backend answers 204, or 200 with an empty body, for "no state yet".
    if bytes.is_empty() {
        return Err(Error::new(&what, "no state there (empty answer)"));
    }
    Ok((url.to_string(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_variables_follow_terraform() {
        assert_eq!(
            token_variable("app.terraform.io"),
            "TF_TOKEN_app_terraform_io"
        );
        assert_eq!(
            token_variable("tfe.my-corp.example:8443"),
            "TF_TOKEN_tfe_my__corp_example"
        );
    }

    #[test]
    fn credentials_never_cross_the_network_in_clear() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(clear_text_to_elsewhere(&u("http://gitlab.example.com/api")));
        assert!(!clear_text_to_elsewhere(&u(
            "https://gitlab.example.com/api"
        )));
        assert!(!clear_text_to_elsewhere(&u("http://127.0.0.1:8080/state")));
        assert!(!clear_text_to_elsewhere(&u("http://[::1]:8080/state")));
        assert!(parse_url("x", "ftp://host/state").is_err());
    }
}
