//! Risk score: inherent severity × exposure to the internet × data sensitivity (from tags),
//! halved when the drift makes things stricter. It orders the report so that people fix what
//! matters first; it does not decide blocking (policies do).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Drift, Effect};
use crate::policy::Severity;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    pub score: f64,
    /// `internet` when the drifted rule opens to 0.0.0.0/0 or ::/0, else `limited`.
    pub exposure: &'static str,
    /// The data classification tag's value, or `unclassified`.
    pub sensitivity: String,
}

/// Tag keys read for data sensitivity, compared case-insensitively without `-`/`_`.
const SENSITIVITY_KEYS: [&str; 5] = [
    "dataclassification",
    "classification",
    "datasensitivity",
    "sensitivity",
    "confidentiality",
];

fn severity_weight(s: Severity) -> f64 {
    match s {
        Severity::Low => 1.0,
        Severity::Medium => 2.0,
        Severity::High => 3.0,
        Severity::Critical => 4.0,
    }
}

fn sensitivity(tags: &BTreeMap<String, String>) -> (String, f64) {
    let value = tags.iter().find_map(|(k, v)| {
        let k: String = k
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        SENSITIVITY_KEYS
            .contains(&k.as_str())
            .then(|| v.to_lowercase())
    });
    let Some(v) = value else {
        return ("unclassified".into(), 1.0);
    };
    let weight = match v.as_str() {
        "public" => 1.0,
        "internal" | "private" => 1.5,
        "confidential" | "sensitive" => 2.0,
        "restricted" | "secret" | "pii" | "phi" | "pci" | "highly-confidential" => 3.0,
        _ => 1.5,
    };
    (v, weight)
}

pub fn score(d: &Drift, severity: Severity) -> Risk {
    let internet = d.facts.as_ref().is_some_and(|f| f.open_to_internet());
    let (sensitivity, data) = sensitivity(&d.tags);
    let exposure = if internet { 3.0 } else { 1.0 };
    let direction = if d.effect == Effect::Strengthens {
        0.5
    } else {
        1.0
    };
    let raw = severity_weight(severity) * exposure * data * direction;
    Risk {
        score: (raw * 10.0).round() / 10.0,
        exposure: if internet { "internet" } else { "limited" },
        sensitivity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_set_sensitivity() {
        let tags = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert_eq!(
            sensitivity(&tags("data-classification", "PII")),
            ("pii".into(), 3.0)
        );
        assert_eq!(
            sensitivity(&tags("DataClassification", "internal")),
            ("internal".into(), 1.5)
        );
        assert_eq!(
            sensitivity(&tags("Name", "web")),
            ("unclassified".into(), 1.0)
        );
    }
}
