//! The drift history: one record per completed run (`check --history DEST`), the raw material of
//! `driftgate metrics`. A run writes one new object and never rewrites another, so concurrent
//! pipelines and sharded sweeps need no lock. The record is a versioned contract
//! (docs/history.md, schemas/history-record-v1.json).

pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::{fingerprint, Report};

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// RFC 3339, UTC.
    pub run_at: String,
    pub tool_version: String,
    pub pipeline: Pipeline,
    pub states: Vec<StateRef>,
    /// Every address the run compared: a finding is remediated only by a later run that checked
    /// its address and did not find it.
    pub checked: Vec<String>,
    pub findings: Vec<RecordedFinding>,
    /// pass, warn or block.
    #[serde(default)]
    pub verdict: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// github-actions, gitlab-ci, atlantis, hcp-terraform, or local.
    pub provider: String,
    pub url: Option<String>,
    pub commit: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateRef {
    pub label: String,
    pub lineage: Option<String>,
    pub serial: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedFinding {
    pub fingerprint: String,
    pub address: String,
    pub resource_type: String,
    pub cloud_id: String,
    /// The account that owns the object, when known.
    #[serde(default)]
    pub account: Option<String>,
    pub policy: String,
    pub severity: String,
    pub effect: String,
    pub kind: String,
    pub blocking: bool,
    pub enforcement: String,
    pub risk: RecordedRisk,
    pub ticket: Option<RecordedTicket>,
    /// Lineage of the state that declares the resource: two workspaces with the same addresses
    /// are different resources.
    #[serde(default)]
    pub lineage: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRisk {
    pub score: f64,
    pub exposure: String,
    pub priority: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedTicket {
    pub tracker: String,
    pub id: String,
    pub url: String,
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// The name of a serde-serialized enum value (`"weakens"`, `"missing"`).
fn name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The record of a completed run.
pub fn record(report: &Report, pipeline: Pipeline) -> Record {
    let lineage_of = |sources: &[String]| {
        report
            .summary
            .states
            .iter()
            .find(|s| sources.contains(&s.label))
            .and_then(|s| s.lineage.clone())
    };
    // A drift's address is always among the checked ones (a deleted object's too).
    let mut checked: Vec<String> = report
        .checked
        .iter()
        .map(|(a, _)| a.clone())
        .chain(report.drifts.iter().map(|f| f.address.clone()))
        .collect();
    checked.sort();
    checked.dedup();
    Record {
        version: VERSION,
        // Milliseconds: two runs in one second (a retried job, a fast sweep) keep their order.
        run_at: jiff::Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_else(|_| report.generated_at.clone()),
        tool_version: report.tool.version.to_string(),
        pipeline,
        states: report
            .summary
            .states
            .iter()
            .map(|s| StateRef {
                label: s.label.clone(),
                lineage: s.lineage.clone(),
                serial: s.serial,
            })
            .collect(),
        checked,
        findings: report
            .drifts
            .iter()
            .map(|f| RecordedFinding {
                fingerprint: fingerprint(f),
                address: f.address.clone(),
                resource_type: f.resource_type.clone(),
                cloud_id: f.cloud_id.clone(),
                account: f.account.clone(),
                policy: f.policy.clone(),
                severity: f.severity.as_str().to_string(),
                effect: name(&f.effect),
                kind: name(&f.kind),
                blocking: f.blocking,
                enforcement: name(&f.enforcement),
                risk: RecordedRisk {
                    score: f.risk.score,
                    exposure: f.risk.exposure.as_str().to_string(),
                    priority: name(&f.risk.priority),
                },
                ticket: f.ticket.as_ref().map(|t| RecordedTicket {
                    tracker: t.tracker.clone(),
                    id: t.id.clone(),
                    url: t.url.clone(),
                    created_at: t.created_at.clone(),
                    expires_at: Some(t.expires_at.clone()),
                }),
                lineage: lineage_of(&f.sources),
            })
            .collect(),
        verdict: report.verdict.as_str().to_string(),
    }
}

/// The pipeline, from the CI's own variables.
pub fn pipeline_from_env(var: &dyn Fn(&str) -> Option<String>) -> Pipeline {
    let v = |k: &str| var(k).filter(|s| !s.is_empty());
    if v("GITHUB_ACTIONS").as_deref() == Some("true") {
        let run = match (
            v("GITHUB_SERVER_URL"),
            v("GITHUB_REPOSITORY"),
            v("GITHUB_RUN_ID"),
        ) {
            (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
            _ => None,
        };
        return Pipeline {
            provider: "github-actions".into(),
            url: run,
            commit: v("GITHUB_SHA"),
            git_ref: v("GITHUB_REF"),
        };
    }
    if v("GITLAB_CI").as_deref() == Some("true") {
        return Pipeline {
            provider: "gitlab-ci".into(),
            url: v("CI_PIPELINE_URL"),
            commit: v("CI_COMMIT_SHA"),
            git_ref: v("CI_COMMIT_REF_NAME"),
        };
    }
    // Atlantis's custom run steps see the pull request and head commit.
    if v("ATLANTIS_TERRAFORM_VERSION").is_some()
        || (v("PULL_NUM").is_some() && v("HEAD_COMMIT").is_some())
    {
        return Pipeline {
            provider: "atlantis".into(),
            url: v("PULL_URL"),
            commit: v("HEAD_COMMIT"),
            git_ref: v("HEAD_BRANCH_NAME"),
        };
    }
    Pipeline {
        provider: "local".into(),
        ..Pipeline::default()
    }
}

/// `runs/YYYY/MM/DD/<run_at>-<8 hex>.json`: date-partitioned, so a window is read by listing
/// only its days, and engines that read partitioned paths (Athena, BigQuery, DuckDB) see one
/// table.
pub fn key(record: &Record, suffix: u32) -> Result<String> {
    let at: jiff::Timestamp = record.run_at.parse().map_err(|e| {
        Error::new(
            "history record",
            format!("run_at `{}` is not RFC 3339: {e}", record.run_at),
        )
    })?;
    let day = at.strftime("%Y/%m/%d");
    let stamp = at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
    Ok(format!("runs/{day}/{stamp}-{suffix:08x}.json"))
}

/// Writes `record` as a new object; returns its full name. A key that exists (two runs in the
/// same second drawing the same 32 random bits) is an error, never an overwrite.
pub async fn write(store: &store::Store, dest: &store::Dest, record: &Record) -> Result<String> {
    let key = key(record, fastrand::u32(..))?;
    // One line: Athena's JSON SerDe and BigQuery's newline-delimited JSON read it as one row.
    let mut bytes = serde_json::to_vec(record)
        .map_err(|e| Error::new("history record", format!("cannot serialize: {e}")))?;
    bytes.push(b'\n');
    if let Err(refused) = store.put_new(&key, bytes.clone()).await {
        // A create whose answer was lost is retried (by the SDK or the HTTP client) and then
        // refused as existing: if what is there is this record, it was written.
        match store.get(&key).await {
            Ok(there) if there == bytes => {}
            _ => return Err(refused),
        }
    }
    Ok(dest.name(&key))
}

/// A record as read back: parsed, checked against the contract, or an error naming it.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Record> {
    let what = format!("history record {name}");
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::new(&what, format!("not JSON: {e}")))?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(1) => {}
        Some(v) => {
            return Err(Error::new(
                &what,
                format!("version {v} is newer than this driftgate reads (1): upgrade driftgate"),
            ))
        }
        None => return Err(Error::new(&what, "no `version`")),
    }
    let record: Record = serde_json::from_value(value)
        .map_err(|e| Error::new(&what, format!("does not match history record v1: {e}")))?;
    record
        .run_at
        .parse::<jiff::Timestamp>()
        .map_err(|e| Error::new(&what, format!("run_at `{}`: {e}", record.run_at)))?;
    for f in &record.findings {
        if !matches!(f.severity.as_str(), "low" | "medium" | "high" | "critical") {
            return Err(Error::new(
                &what,
                format!("finding {}: unknown severity `{}`", f.address, f.severity),
            ));
        }
        if let Some(t) = &f.ticket {
            t.created_at.parse::<jiff::Timestamp>().map_err(|e| {
                Error::new(
                    &what,
                    format!(
                        "finding {}: ticket created_at `{}`: {e}",
                        f.address, t.created_at
                    ),
                )
            })?;
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_from_ci_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let gh = pipeline_from_env(&env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/infra"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SHA", "abc"),
            ("GITHUB_REF", "refs/heads/main"),
        ]));
        assert_eq!(gh.provider, "github-actions");
        assert_eq!(
            gh.url.as_deref(),
            Some("https://github.com/acme/infra/actions/runs/42")
        );
        assert_eq!(gh.git_ref.as_deref(), Some("refs/heads/main"));
        let gl = pipeline_from_env(&env(&[
            ("GITLAB_CI", "true"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.com/acme/infra/-/pipelines/7",
            ),
            ("CI_COMMIT_SHA", "def"),
            ("CI_COMMIT_REF_NAME", "main"),
        ]));
        assert_eq!(gl.provider, "gitlab-ci");
        assert_eq!(gl.commit.as_deref(), Some("def"));
        let at = pipeline_from_env(&env(&[
            ("PULL_NUM", "3"),
            ("HEAD_COMMIT", "123"),
            ("PULL_URL", "https://github.com/acme/infra/pull/3"),
        ]));
        assert_eq!(at.provider, "atlantis");
        assert_eq!(pipeline_from_env(&env(&[])).provider, "local");
    }

    #[test]
    fn keys_are_date_partitioned() {
        let r = Record {
            version: 1,
            run_at: "2026-12-02T10:04:05.123Z".into(),
            tool_version: "0.1.0".into(),
            pipeline: Pipeline::default(),
            states: vec![],
            checked: vec![],
            findings: vec![],
            verdict: "pass".into(),
        };
        assert_eq!(
            key(&r, 0xab12).unwrap(),
            "runs/2026/12/02/2026-12-02T10:04:05.123Z-0000ab12.json"
        );
    }

    #[test]
    fn malformed_records_are_named() {
        for (bytes, needle) in [
            (&b"{"[..], "not JSON"),
            (br#"{"version":2}"#, "newer"),
            (br#"{"run_at":"x"}"#, "no `version`"),
            (
                br#"{"version":1,"run_at":"2026-01-01T00:00:00Z"}"#,
                "does not match",
            ),
        ] {
            let e = parse("runs/x.json", bytes).unwrap_err().to_string();
            assert!(e.contains("runs/x.json") && e.contains(needle), "{e}");
        }
    }
}
