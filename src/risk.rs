//! Risk score: inherent severity × exposure (how reachable the object is, read from the cloud) ×
//! data sensitivity (from tags or labels), halved when the drift makes things stricter; and a
//! priority from the same three. It orders the report so that people fix what matters first; it
//! does not decide blocking (policies do).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Drift, Effect, Exposure};
use crate::policy::Severity;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    pub score: f64,
    pub exposure: Exposure,
    /// The evidence for the exposure, in words.
    pub reasons: Vec<String>,
    /// The data classification tag's value, or `unclassified`.
    pub sensitivity: String,
    pub priority: Priority,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    /// Severity high or critical, reachable from the internet, confidential data or above: drop
    /// everything.
    Urgent,
    Normal,
    /// Low severity, not reachable from outside, no classified data: a candidate for a
    /// documented, accepted exception.
    AcceptCandidate,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Normal => "normal",
            Priority::AcceptCandidate => "accept-candidate",
        }
    }
}

/// How findings are scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Tag (label) keys that carry the data classification, compared case-insensitively
    /// without `-`, `_` and spaces; the first key an object has wins, in this order.
    pub sensitivity_keys: Vec<String>,
}

/// Tag keys read for data sensitivity when none are given.
pub const SENSITIVITY_KEYS: [&str; 5] = [
    "dataclassification",
    "classification",
    "datasensitivity",
    "sensitivity",
    "confidentiality",
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sensitivity_keys: SENSITIVITY_KEYS.iter().map(|k| k.to_string()).collect(),
        }
    }
}

fn severity_weight(s: Severity) -> f64 {
    match s {
        Severity::Low => 1.0,
        Severity::Medium => 2.0,
        Severity::High => 3.0,
        Severity::Critical => 4.0,
    }
}

/// Folds a tag key for comparison: `Data-Classification`, `data_classification` and
/// `dataclassification` are one key (Google labels allow only lower case, `-` and `_`).
fn fold(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// The classification and its weight: the first configured key the object carries.
fn sensitivity(tags: &BTreeMap<String, String>, keys: &[String]) -> (String, f64) {
    let folded: BTreeMap<String, &String> = tags.iter().map(|(k, v)| (fold(k), v)).collect();
    let Some(v) = keys
        .iter()
        .find_map(|k| folded.get(&fold(k)))
        .map(|v| v.to_lowercase())
    else {
        return ("unclassified".into(), 1.0);
    };
    let weight = match fold(&v).as_str() {
        "public" => 1.0,
        "internal" | "private" => 1.5,
        "confidential" | "sensitive" => 2.0,
        "restricted" | "secret" | "pii" | "phi" | "pci" | "highlyconfidential" | "topsecret" => 3.0,
        _ => 1.5,
    };
    (v, weight)
}

/// An exposure's weight. `unknown` (not read) is weighed by the drifted item itself: a rule
/// that opens to the whole internet counts as reachable, so not knowing never ranks it down.
fn exposure_weight(exposure: Exposure, d: &Drift) -> f64 {
    match exposure {
        Exposure::Internet => 3.0,
        Exposure::CrossAccount | Exposure::Restricted => 2.0,
        Exposure::Private => 1.0,
        Exposure::Unused => 0.5,
        Exposure::Unknown if d.facts.as_ref().is_some_and(|f| f.open_to_internet()) => 3.0,
        Exposure::Unknown => 1.0,
    }
}

pub fn score(d: &Drift, severity: Severity, settings: &Settings) -> Risk {
    let (exposure, reasons) = match &d.reach {
        Some(r) => (r.exposure, r.reasons.clone()),
        None => (Exposure::Unknown, Vec::new()),
    };
    let (sensitivity, data) = sensitivity(&d.tags, &settings.sensitivity_keys);
    let direction = if d.effect == Effect::Strengthens {
        0.5
    } else {
        1.0
    };
    let raw = severity_weight(severity) * exposure_weight(exposure, d) * data * direction;
    let priority = if severity >= Severity::High && exposure == Exposure::Internet && data >= 2.0 {
        Priority::Urgent
    } else if severity == Severity::Low
        && matches!(exposure, Exposure::Private | Exposure::Unused)
        && data <= 1.0
    {
        Priority::AcceptCandidate
    } else {
        Priority::Normal
    };
    Risk {
        score: (raw * 10.0).round() / 10.0,
        exposure,
        reasons,
        sensitivity,
        priority,
    }
}

/// The score on the 0.0–10.0 scale of SARIF's `security-severity` (GitHub code scanning ranks
/// alerts by it: 9.0 and up critical, 7.0 high, 4.0 medium, above 0 low). The map is monotone and
/// saturates: a critical finding reachable from the internet (12) is 9.1, the same finding on a
/// private network (4) 5.5, a high one on the internet (9) 8.3; the highest score (36) is 10.0.
pub fn security_severity(score: f64) -> f64 {
    let s = 10.0 * (1.0 - (-score.max(0.0) / 5.0).exp());
    (s * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_set_sensitivity() {
        let keys = Settings::default().sensitivity_keys;
        let tags = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(
            sensitivity(&tags("data-classification", "PII"), &keys),
            ("pii".into(), 3.0)
        );
        assert_eq!(
            sensitivity(&tags("DataClassification", "internal"), &keys),
            ("internal".into(), 1.5)
        );
        assert_eq!(
            sensitivity(&tags("data_classification", "highly_confidential"), &keys),
            ("highly_confidential".into(), 3.0)
        );
        assert_eq!(
            sensitivity(&tags("Name", "web"), &keys),
            ("unclassified".into(), 1.0)
        );
        // Configured keys replace the defaults, in their order.
        let mine = vec!["owner-data".to_string(), "tier".to_string()];
        let both = BTreeMap::from([
            ("tier".to_string(), "public".to_string()),
            ("owner_data".to_string(), "secret".to_string()),
        ]);
        assert_eq!(sensitivity(&both, &mine), ("secret".into(), 3.0));
        assert_eq!(
            sensitivity(&tags("classification", "secret"), &mine).0,
            "unclassified"
        );
    }

    #[test]
    fn security_severity_follows_github_bands() {
        assert_eq!(security_severity(0.0), 0.0);
        assert!(security_severity(12.0) >= 9.0, "critical on the internet");
        assert!((7.0..9.0).contains(&security_severity(9.0)));
        assert!((4.0..7.0).contains(&security_severity(4.0)));
        assert!(security_severity(1.0) < 4.0);
        assert_eq!(security_severity(36.0), 10.0);
        let mut last = 0.0;
        for s in [0.5, 1.0, 2.0, 4.0, 6.0, 12.0, 20.0] {
            assert!(security_severity(s) > last);
            last = security_severity(s);
        }
    }
}
