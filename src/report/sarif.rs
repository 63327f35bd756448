//! SARIF 2.1.0 for GitHub code scanning: one rule per policy, one result per drift, located at
//! the `resource` block in the Terraform source when it was found (else at the state file), with
//! a fingerprint that stays the same for the same drift across runs.

use std::collections::BTreeMap;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif, Tool,
    ToolComponent,
};

use super::{fingerprint, Report};
use crate::policy::Severity;
use crate::verdict::Finding;

/// GitHub's `security-severity` scale: critical ≥ 9, high 7–8.9, medium 4–6.9, low < 4.
/// A rule's `security-severity` without results in this run, from its severity alone.
fn security_severity(s: Severity) -> String {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
    .to_string()
}

/// A finding's `security-severity`: its risk score on the 0–10 scale, as GitHub expects it (a
/// string holding a number).
fn finding_severity(f: &Finding) -> String {
    format!("{:.1}", crate::risk::security_severity(f.risk.score))
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

pub fn message(f: &Finding) -> String {
    let attr = f
        .attribute
        .as_deref()
        .map(|a| format!(" {a}"))
        .unwrap_or_default();
    let mut m = format!(
        "{}{attr} drifted ({}, {}): expected {}, actual {}.",
        f.address,
        super::kind_text(f),
        super::effect_text(f.effect),
        f.expected_text.as_deref().unwrap_or("-"),
        f.actual_text.as_deref().unwrap_or("-"),
    );
    m.push_str(&format!(" {}.", super::exposure_text(f)));
    if let Some(t) = &f.ticket {
        m.push_str(&format!(
            " Covered by break-glass ticket {} {} until {}.",
            t.tracker, t.id, t.expires_at
        ));
    }
    if let Some(fix) = super::fix_text(f) {
        m.push_str(&format!(" {fix}."));
    }
    m
}

/// Where a finding points: its source location, else a file of the repository that stands for
/// it, else its state file.
pub fn place(f: &Finding) -> (String, usize) {
    match f.location.as_ref().or(f.fallback.as_ref()) {
        Some(l) => (l.file.clone(), l.line),
        None => (
            f.sources
                .first()
                .cloned()
                .unwrap_or_else(|| "terraform.tfstate".into()),
            1,
        ),
    }
}

pub fn render(report: &Report) -> String {
    let rules: Vec<ReportingDescriptor> = report
        .policies
        .iter()
        .map(|p| {
            let mut tags = vec![
                "security".to_string(),
                "terraform".to_string(),
                "drift".to_string(),
            ];
            tags.extend(p.references.iter().cloned());
            // GitHub ranks alerts by their rule's security-severity: a rule with findings in
            // this run carries the highest of their scores (exposure and data included).
            let worst = report
                .drifts
                .iter()
                .filter(|f| f.policy == p.id)
                .map(|f| crate::risk::security_severity(f.risk.score))
                .max_by(f64::total_cmp);
            let mut extra = BTreeMap::new();
            extra.insert(
                "security-severity".to_string(),
                json!(worst.map_or_else(|| security_severity(p.severity), |w| format!("{w:.1}"))),
            );
            extra.insert("enforcement".to_string(), json!(p.enforcement));
            let full = if p.description.is_empty() {
                p.title.clone()
            } else {
                p.description.clone()
            };
            let help = if p.remediation.is_empty() {
                p.title.clone()
            } else {
                p.remediation.clone()
            };
            ReportingDescriptor::builder()
                .id(p.id.clone())
                .name(p.id.clone())
                .short_description(text(p.title.clone()))
                .full_description(text(full))
                .help(text(help))
                .properties(
                    PropertyBag::builder()
                        .tags(tags)
                        .additional_properties(extra)
                        .build(),
                )
                .build()
        })
        .collect();

    let results: Vec<SarifResult> = report
        .drifts
        .iter()
        .map(|f| {
            let (file, line) = place(f);
            let level = match (f.blocking, f.ticket.is_some()) {
                (true, _) => ResultLevel::Error,
                (false, true) => ResultLevel::Note,
                (false, false) => ResultLevel::Warning,
            };
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(ArtifactLocation::builder().uri(file).build())
                        .region(Region::builder().start_line(line as i64).build())
                        .build(),
                )
                .build();
            let mut fingerprints = BTreeMap::new();
            fingerprints.insert("driftgate/v1".to_string(), fingerprint(f));
            let mut extra = BTreeMap::new();
            extra.insert("address".to_string(), json!(f.address));
            extra.insert("cloud_id".to_string(), json!(f.cloud_id));
            extra.insert("kind".to_string(), json!(f.kind));
            extra.insert("effect".to_string(), json!(f.effect));
            extra.insert("risk".to_string(), json!(f.risk.score));
            extra.insert("security-severity".to_string(), json!(finding_severity(f)));
            extra.insert("exposure".to_string(), json!(f.risk.exposure));
            extra.insert("exposure-reasons".to_string(), json!(f.risk.reasons));
            extra.insert("priority".to_string(), json!(f.risk.priority));
            extra.insert("fix".to_string(), json!(f.fix));
            SarifResult::builder()
                .rule_id(f.policy.clone())
                .level(level)
                .message(Message::builder().text(message(f)).build())
                .locations(vec![location])
                .partial_fingerprints(fingerprints)
                .properties(PropertyBag::builder().additional_properties(extra).build())
                .build()
        })
        .collect();

    let driver = ToolComponent::builder()
        .name("driftgate")
        .version(report.tool.version)
        .rules(rules)
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    let sarif = Sarif::builder()
        .version(json!("2.1.0"))
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}
