//! The optional config file (`.driftgate.yaml` in the working directory, or `--config FILE`).
//!
//! It lives on the branch under check, so a pull request can change it. It may therefore hold
//! only settings that cannot weaken the gate: report formats and files, colour, concurrency,
//! retries and timeouts. Everything that decides what blocks (states, policies, break-glass
//! trackers, label, window, approval) must come from flags in the pipeline definition, which
//! should be protected by CODEOWNERS; the file is rejected if it tries.

use serde::Deserialize;

use crate::error::{Error, Result};

pub const DEFAULT_PATH: &str = ".driftgate.yaml";

#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub format: Option<String>,
    #[serde(default)]
    pub output: Vec<String>,
    pub color: Option<String>,
    pub concurrency: Option<u16>,
    pub max_attempts: Option<u32>,
    pub timeout: Option<u64>,
    pub iam_reads: Option<String>,
    pub quiet: Option<bool>,
    pub source_dir: Option<String>,
    /// Tag keys that carry data classification (ordering only: they never decide what blocks).
    #[serde(default)]
    pub sensitivity_tags: Vec<String>,
}

/// Keys that would let the branch under check decide what blocks, with the flag to use instead.
const SECURITY_KEYS: &[(&str, &str)] = &[
    ("state", "--state"),
    ("states", "--state"),
    ("workspace", "--workspace"),
    ("workspace_key_prefix", "--workspace-key-prefix"),
    ("policy", "--policy"),
    ("policies", "--policy"),
    ("tickets", "--tickets"),
    ("ticket_label", "--ticket-label"),
    ("ticket_max_age", "--ticket-max-age"),
    ("require_approval", "--require-approval"),
    ("live", "--live"),
];

/// Reads `path`; `None` when it is the default path and does not exist.
pub fn load(path: Option<&str>) -> Result<Option<Config>> {
    let (path, explicit) = match path {
        Some(p) => (p, true),
        None => (DEFAULT_PATH, false),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => {
            return Err(Error::new(
                format!("config {path}"),
                format!("cannot read: {e}"),
            ))
        }
    };
    parse(path, &text).map(Some)
}

pub fn parse(path: &str, text: &str) -> Result<Config> {
    let located = |e: serde_yaml_ng::Error| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        Error::new(format!("config {path}{at}"), e.to_string())
    };
    let text = crate::yaml::guard(&format!("config {path}"), text)?;
    let raw: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(located)?;
    if let Some(map) = raw.as_mapping() {
        for (key, flag) in SECURITY_KEYS {
            if map.contains_key(*key) {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("{key}:")))
                    .map(|n| format!(":{}", n + 1))
                    .unwrap_or_default();
                return Err(Error::new(
                    format!("config {path}{line}"),
                    format!(
                        "`{key}` decides what blocks, and this file is on the branch under check: a \
                         pull request could widen its own exception. Set it with {flag} in the \
                         pipeline definition (protect that file with CODEOWNERS)"
                    ),
                ));
            }
        }
    }
    if raw.is_null() {
        return Ok(Config::default());
    }
    serde_yaml_ng::from_value(raw).map_err(|e| Error::new(format!("config {path}"), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_security_settings_only() {
        let c = parse(
            "c.yaml",
            "format: json\noutput: [json=drift.json]\ncolor: never\nconcurrency: 4\n",
        )
        .unwrap();
        assert_eq!(c.format.as_deref(), Some("json"));
        assert_eq!(c.output, ["json=drift.json"]);
        assert_eq!(c.concurrency, Some(4));
        assert_eq!(parse("c.yaml", "").unwrap(), Config::default());

        let e = parse("c.yaml", "format: json\nticket_max_age: 720h\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("config c.yaml:2: `ticket_max_age` decides what blocks"),
            "{e}"
        );
        assert!(e.contains("--ticket-max-age"), "{e}");
        let e = parse("c.yaml", "policy: [lax.yaml]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--policy"), "{e}");
        let e = parse("c.yaml", "colour: never\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = parse("c.yaml", "concurrency: many\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("config c.yaml"), "{e}");
    }
}
