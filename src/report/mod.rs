//! The report: one plain structure, rendered by one module per format.

pub mod console;
pub mod json;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::breakglass::BreakGlass;
use crate::policy::Severity;
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
        }
    }
}
