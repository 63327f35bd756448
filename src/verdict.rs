//! From drifts to findings and a verdict: each drift is judged by its policy (severity,
//! enforcement, references), scored, and marked blocking or not. Pure, so it is tested without
//! any cloud.

use serde::Serialize;
use serde_json::Value;

use crate::model::{Drift, DriftKind, Effect};
use crate::policy::{Enforcement, PolicySet, Severity};
use crate::risk::{self, Risk};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Block,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass | Verdict::Warn => 0,
            Verdict::Block => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Block => "block",
        }
    }
}

/// The break-glass ticket covering a drift (filled by the break-glass stage).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub tracker: String,
    pub id: String,
    pub url: String,
    pub created_at: String,
    pub expires_at: String,
    /// Time left in the window at the check (negative: expired that long ago), by the clock
    /// the report's `breakglass.clock` names.
    pub seconds_left: i64,
}

/// A drift as the report shows it: what differs, how bad it is, and whether it blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The family whose view it is of (see `Drift::family`): who writes its fix.
    #[serde(skip)]
    pub family: &'static str,
    pub address: String,
    pub resource_type: String,
    pub cloud_id: String,
    pub region: String,
    /// The account that owns the object (an AWS account id), when known.
    pub account: Option<String>,
    pub kind: DriftKind,
    pub attribute: Option<String>,
    pub expected: Value,
    pub actual: Value,
    /// One line each for humans: `tcp port 22 from 0.0.0.0/0`, `absent`.
    pub expected_text: Option<String>,
    pub actual_text: Option<String>,
    pub effect: Effect,
    pub severity: Severity,
    pub enforcement: Enforcement,
    pub risk: Risk,
    pub blocking: bool,
    /// The break-glass ticket that covers this drift (then `blocking` is false).
    pub ticket: Option<Ticket>,
    /// Tickets that name this drift but are past the window.
    pub expired_tickets: Vec<Ticket>,
    /// Tickets that name this drift but lack the approval `--require-approval` asks for.
    pub unapproved_tickets: Vec<Ticket>,
    pub policy: String,
    pub policy_title: String,
    pub references: Vec<String>,
    pub remediation: String,
    /// The state files that declare the resource.
    pub sources: Vec<String>,
    /// Where the resource is declared in the Terraform source, when it was found.
    pub location: Option<SourceLocation>,
    /// How the live side was seen when not by a direct read in this run (AWS Config).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<crate::model::Observed>,
    /// What `driftgate fix` would do with it, when the source was indexed: `codify` (the live,
    /// stricter setting written into the code), `accept` (written with `--accept-weakening`),
    /// `manual` (the code must change where driftgate cannot edit it honestly), `None` (no
    /// edit known, or no source).
    pub fix: Option<&'static str>,
    /// Where reports that must name a repository file (SARIF, annotations, Code Quality) point
    /// when `location` is unknown: the state file if it is in the repository, else a `.tf` file
    /// of the source directory. Set with the source; `None`: the state file as given.
    #[serde(skip)]
    pub fallback: Option<SourceLocation>,
}

/// A file named from the repository root (see `repo_path`) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceLocation {
    pub file: String,
    pub line: usize,
}

const REDACTED: &str = "(sensitive value hidden)";

/// Judges each drift; drifts that no policy covers are not security drift and are dropped.
/// Sorted by risk, highest first, then by address for a stable report.
pub fn judge(drifts: Vec<Drift>, policies: &PolicySet, settings: &risk::Settings) -> Vec<Finding> {
    let mut findings: Vec<Finding> = drifts
        .into_iter()
        .filter_map(|d| {
            let p = policies.judge(&d)?;
            let references = policies.references(&d);
            let risk = risk::score(&d, p.severity, settings);
            let hide = |v: Value, text: Option<String>| {
                if d.sensitive {
                    (Value::String(REDACTED.into()), Some(REDACTED.into()))
                } else {
                    (v, text)
                }
            };
            let (expected, expected_text) = hide(d.expected.clone(), d.expected_summary.clone());
            let (actual, actual_text) = hide(d.actual.clone(), d.actual_summary.clone());
            Some(Finding {
                family: d.family,
                blocking: p.enforcement == Enforcement::Block,
                address: d.address,
                resource_type: d.resource_type,
                cloud_id: d.cloud_id,
                region: d.region,
                account: d.account,
                kind: d.kind,
                attribute: d.attribute,
                expected,
                actual,
                expected_text,
                actual_text,
                effect: d.effect,
                severity: p.severity,
                enforcement: p.enforcement,
                risk,
                ticket: None,
                expired_tickets: Vec::new(),
                unapproved_tickets: Vec::new(),
                policy: p.id.clone(),
                policy_title: p.title.clone(),
                references,
                remediation: p.remediation.clone(),
                sources: d.sources,
                location: None,
                observed: d.observed,
                fix: None,
                fallback: None,
            })
        })
        .collect();
    findings.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.address.cmp(&b.address))
            .then_with(|| a.attribute.cmp(&b.attribute))
            .then_with(|| a.actual_text.cmp(&b.actual_text))
            .then_with(|| a.expected_text.cmp(&b.expected_text))
    });
    findings
}

/// `block` if anything blocks, `warn` if anything was found, else `pass`.
pub fn decide(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| f.blocking) {
        Verdict::Block
    } else if findings.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Warn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facts, Ports};
    use std::collections::BTreeSet;

    fn policies(extra: Option<&str>) -> PolicySet {
        let known: BTreeSet<&str> = crate::families::all()
            .iter()
            .flat_map(|f| f.about().resource_types.iter().copied())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<String> = extra
            .map(|text| {
                let f = dir.path().join("p.yaml");
                std::fs::write(&f, text).unwrap();
                vec![f.display().to_string()]
            })
            .unwrap_or_default();
        PolicySet::load(&files, &known).unwrap()
    }

    fn drift(effect: Effect, cidr: &str) -> Drift {
        Drift {
            family: "security_group",
            address: "aws_security_group.web".into(),
            resource_type: "aws_security_group".into(),
            cloud_id: "sg-1".into(),
            region: "us-east-1".into(),
            account: None,
            kind: DriftKind::Unmanaged,
            attribute: Some("ingress".into()),
            expected: Value::Null,
            actual: serde_json::json!({"cidr_ipv4": cidr}),
            expected_summary: Some("absent".into()),
            actual_summary: Some(format!("tcp port 22 from {cidr}")),
            effect,
            facts: Some(Facts {
                grants: true,
                direction: Some("ingress"),
                ports: vec![Ports::Range(22, 22)],
                cidrs: vec![cidr.into()],
                labels: vec![],
            }),
            is_default_object: false,
            tags: Default::default(),
            sources: vec!["s".into()],
            sensitive: false,
            reach: None,
            observed: None,
        }
    }

    #[test]
    fn verdicts() {
        let p = policies(None);
        assert_eq!(
            decide(&judge(vec![], &p, &Default::default())),
            Verdict::Pass
        );
        let f = judge(
            vec![
                drift(Effect::Strengthens, "10.0.0.0/8"),
                drift(Effect::Weakens, "0.0.0.0/0"),
            ],
            &p,
            &Default::default(),
        );
        assert_eq!(decide(&f), Verdict::Block);
        assert_eq!(f[0].policy, "AWS-SG-ADMIN-IPV4", "highest risk first");
        assert_eq!(f[0].risk.score, 12.0);
        assert_eq!(f[1].risk.score, 1.0);
        assert!(f.iter().all(|f| f.blocking));
        assert_eq!(Verdict::Block.exit_code(), 1);
        assert_eq!(Verdict::Warn.exit_code(), 0);

        let warn_all = "version: 1\npolicies:\n".to_string()
            + &["AWS-SG-ADMIN-IPV4", "AWS-SG-INTERNET-INGRESS", "AWS-SG-RULES"]
                .iter()
                .map(|id| format!("  - {{id: {id}, title: t, resource_types: [aws_security_group], severity: low, enforcement: warn}}\n"))
                .collect::<String>();
        let p = policies(Some(&warn_all));
        let f = judge(
            vec![drift(Effect::Weakens, "0.0.0.0/0")],
            &p,
            &Default::default(),
        );
        assert_eq!(decide(&f), Verdict::Warn);
        assert!(!f[0].blocking);
    }

    #[test]
    fn sensitive_values_never_reach_findings() {
        let mut d = drift(Effect::Weakens, "0.0.0.0/0");
        d.sensitive = true;
        let f = judge(vec![d], &policies(None), &Default::default());
        let text = serde_json::to_string(&f).unwrap();
        assert!(
            !text.contains("cidr_ipv4") && !text.contains("port 22 from"),
            "{text}"
        );
        assert!(text.contains(REDACTED));
    }
}
