//! The report: one plain structure, rendered by one module per format.

pub mod console;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod run_task;
pub mod sarif;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::breakglass::BreakGlass;
use crate::policy::{Policy, Severity};
use crate::state::StateSource;
use crate::verdict::{self, Finding, Verdict};

/// Version of the JSON report layout; bumped on incompatible changes.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Managed resource instances in all states.
    pub resources_in_state: usize,
    /// Those whose type a policy covers.
    pub resources_checked: usize,
    /// Live objects compared (a group and its rule resources are one object).
    pub objects_checked: usize,
    pub drifts: usize,
    pub blocking: usize,
    pub warnings: usize,
    pub covered_by_ticket: usize,
    pub by_severity: BTreeMap<&'static str, usize>,
    pub regions: Vec<String>,
    pub states: Vec<StateSource>,
    /// API requests made, per service and operation: the cost of the check.
    pub api_calls: BTreeMap<String, BTreeMap<String, u64>>,
    pub duration_ms: u64,
    /// What the reader should know about how far the check could see (printed on stderr by
    /// `check`, in the message of a run task result).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub generated_at: String,
    pub verdict: Verdict,
    pub summary: Summary,
    pub drifts: Vec<Finding>,
    /// Present when `--tickets` was given.
    pub breakglass: Option<BreakGlass>,
    /// Addresses and types of the resources checked (for JUnit: one test case each).
    #[serde(skip)]
    pub checked: Vec<(String, String)>,
    /// The policies in force (for SARIF: one rule each).
    #[serde(skip)]
    pub policies: Vec<Policy>,
}

impl Report {
    pub fn new(mut summary: Summary, drifts: Vec<Finding>, breakglass: Option<BreakGlass>) -> Self {
        summary.drifts = drifts.len();
        summary.blocking = drifts.iter().filter(|f| f.blocking).count();
        summary.covered_by_ticket = drifts.iter().filter(|f| f.ticket.is_some()).count();
        summary.warnings = summary.drifts - summary.blocking;
        for s in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
        ] {
            let n = drifts.iter().filter(|f| f.severity == s).count();
            summary.by_severity.insert(s.as_str(), n);
        }
        Report {
            version: REPORT_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME"),
                version: env!("CARGO_PKG_VERSION"),
            },
            generated_at: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now())
                .to_string(),
            verdict: verdict::decide(&drifts),
            summary,
            drifts,
            breakglass,
            checked: Vec::new(),
            policies: Vec::new(),
        }
    }
}

/// What happened, in a few words.
pub fn kind_text(f: &Finding) -> &'static str {
    use crate::model::DriftKind;
    match (f.kind, f.attribute.is_some()) {
        (DriftKind::Missing, false) => "deleted outside Terraform",
        (DriftKind::Missing, true) => "declared in Terraform, absent live",
        (DriftKind::Unmanaged, _) => "present live, declared by no Terraform resource",
        (DriftKind::Changed, _) if f.actual.is_null() => "declared in Terraform, absent live",
        (DriftKind::Changed, _) => "changed outside Terraform",
    }
}

pub fn effect_text(e: crate::model::Effect) -> &'static str {
    use crate::model::Effect;
    match e {
        Effect::Weakens => "weakens security",
        Effect::Strengthens => "stricter than the code: the next apply reverts it",
        Effect::Unknown => "effect unclear",
    }
}

/// What `driftgate fix` can do with a finding, in words (when the check indexed the source).
pub fn fix_text(f: &Finding) -> Option<&'static str> {
    match f.fix? {
        "codify" => {
            Some("`driftgate fix` can write this change into the code (codify the live setting)")
        }
        "accept" => Some(
            "`driftgate fix --accept-weakening` can write this change into the code (accept it)",
        ),
        "manual" => Some("`driftgate fix` names the expression to change by hand"),
        _ => None,
    }
}

/// The exposure and its evidence in one phrase: `exposure internet: sg-1 is attached to …`.
pub fn exposure_text(f: &Finding) -> String {
    if f.risk.reasons.is_empty() {
        format!("Exposure {}", f.risk.exposure.as_str())
    } else {
        format!(
            "Exposure {}: {}",
            f.risk.exposure.as_str(),
            f.risk.reasons.join("; ")
        )
    }
}

/// Where the live side of a drift was seen, when not read directly in this run.
pub fn observed_text(f: &Finding) -> Option<String> {
    let o = f.observed.as_ref()?;
    let source = match o.source {
        "aws-config" => "AWS Config",
        other => other,
    };
    Some(if o.confirmed {
        format!(
            "seen by {source} (captured {}), confirmed by a direct read",
            o.captured_at
        )
    } else {
        format!(
            "seen by {source} only (captured {}): unconfirmed, no credentials for account {} to \
             read it directly, and {source} may lag behind the cloud",
            o.captured_at,
            f.account.as_deref().unwrap_or("-")
        )
    })
}

/// A stable identity of a drift across runs (SARIF `partialFingerprints`, GitLab `fingerprint`):
/// the same address, attribute, kind and rule give the same value.
pub fn fingerprint(f: &Finding) -> String {
    let key = format!(
        "{}|{}|{:?}|{}|{}",
        f.address,
        f.attribute.as_deref().unwrap_or(""),
        f.kind,
        f.expected,
        f.actual
    );
    format!("{:016x}", crate::model::stable_hash(&key))
}
