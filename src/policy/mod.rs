//! Policies as data: which resource types and attributes are security-critical, how severe their
//! drift is, whether it blocks, and the references (CIS controls) behind it. The built-in packs in
//! `policies/` are embedded at compile time; `--policy FILE` adds or overrides by `id`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Drift, DriftKind, Effect, Exposure};

const BUILTIN: &[(&str, &str)] = &[
    ("policies/aws.yaml", include_str!("../../policies/aws.yaml")),
    (
        "policies/azure.yaml",
        include_str!("../../policies/azure.yaml"),
    ),
    ("policies/gcp.yaml", include_str!("../../policies/gcp.yaml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Drift fails the pipeline (exit 1) unless a break-glass ticket covers it.
    Block,
    /// Drift is reported; the run passes with a warning.
    Warn,
    /// The policy is switched off (for overriding a built-in one).
    Off,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub effect: Option<Vec<Effect>>,
    pub kind: Option<Vec<DriftKind>>,
    pub direction: Option<String>,
    pub cidr_any: Option<Vec<String>>,
    pub ports_any: Option<Vec<i32>>,
    pub default_object: Option<bool>,
    pub whole_object: Option<bool>,
    pub labels_any: Option<Vec<String>>,
    /// How reachable the object is (`internet`, `cross-account`, `restricted`, `private`,
    /// `unused`, `unknown` when it was not read).
    pub exposure: Option<Vec<Exposure>>,
}

impl Condition {
    fn holds(&self, d: &Drift) -> bool {
        let facts = d.facts.as_ref();
        self.effect.as_ref().is_none_or(|e| e.contains(&d.effect))
            && self.kind.as_ref().is_none_or(|k| k.contains(&d.kind))
            && self
                .direction
                .as_ref()
                .is_none_or(|dir| facts.and_then(|f| f.direction) == Some(dir.as_str()))
            && self
                .cidr_any
                .as_ref()
                .is_none_or(|cs| facts.is_some_and(|f| f.cidrs.iter().any(|c| cs.contains(c))))
            && self.ports_any.as_ref().is_none_or(|ps| {
                facts.is_some_and(|f| ps.iter().any(|p| f.ports.iter().any(|r| r.includes(*p))))
            })
            && self.default_object.is_none_or(|b| b == d.is_default_object)
            && self.whole_object.is_none_or(|b| b == d.attribute.is_none())
            && self.labels_any.as_ref().is_none_or(|ls| {
                facts.is_some_and(|f| f.labels.iter().any(|l| ls.iter().any(|x| x == l)))
            })
            && self.exposure.as_ref().is_none_or(|es| {
                es.contains(&d.reach.as_ref().map_or(Exposure::Unknown, |r| r.exposure))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub resource_types: Vec<String>,
    /// Empty: any attribute, and the object as a whole.
    #[serde(default)]
    pub attributes: Vec<String>,
    #[serde(default)]
    pub when: Condition,
    pub severity: Severity,
    #[serde(default = "default_enforcement")]
    pub enforcement: Enforcement,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub remediation: String,
    /// The file this policy came from, for diagnostics.
    #[serde(skip)]
    pub origin: String,
}

fn default_enforcement() -> Enforcement {
    Enforcement::Block
}

impl Policy {
    fn matches(&self, d: &Drift) -> bool {
        self.enforcement != Enforcement::Off
            && self.resource_types.contains(&d.resource_type)
            && (self.attributes.is_empty()
                || d.attribute
                    .as_ref()
                    .is_some_and(|a| self.attributes.contains(a)))
            && self.when.holds(d)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: u32,
    #[serde(default)]
    policies: Vec<Policy>,
}

#[derive(Debug, Clone)]
pub struct PolicySet {
    pub policies: Vec<Policy>,
}

impl PolicySet {
    /// The built-in packs, then each user file in order; a user policy with a known id replaces it.
    /// `known_types` are the Terraform types driftgate can check: naming another one is an error,
    /// since a policy that silently checks nothing would look like a passing gate.
    pub fn load(user_files: &[String], known_types: &BTreeSet<&str>) -> Result<Self> {
        let mut set = PolicySet {
            policies: Vec::new(),
        };
        for (name, text) in BUILTIN {
            set.add(name, text, known_types)?;
        }
        for path in user_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::new(format!("policy {path}"), format!("cannot read: {e}")))?;
            set.add(path, &text, known_types)?;
        }
        Ok(set)
    }

    fn add(&mut self, origin: &str, text: &str, known_types: &BTreeSet<&str>) -> Result<()> {
        let text = crate::yaml::guard(&format!("policy {origin}"), text)?;
        let file: PolicyFile = serde_yaml_ng::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            Error::new(format!("policy {origin}{at}"), e.to_string())
        })?;
        let at_id = |id: &str| {
            let line = text
                .lines()
                .position(|l| l.contains(id))
                .map(|n| format!(":{}", n + 1))
                .unwrap_or_default();
            format!("policy {origin}{line}")
        };
        if file.version != 1 {
            return Err(Error::new(
                format!("policy {origin}"),
                format!(
                    "`version: {}` is not supported; this driftgate reads version 1",
                    file.version
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for mut p in file.policies {
            if !seen.insert(p.id.clone()) {
                return Err(Error::new(
                    at_id(&p.id),
                    format!("policy id `{}` appears twice", p.id),
                ));
            }
            if p.resource_types.is_empty() {
                return Err(Error::new(
                    at_id(&p.id),
                    format!("policy `{}` lists no resource_types", p.id),
                ));
            }
            if let Some(t) = p
                .resource_types
                .iter()
                .find(|t| !known_types.contains(t.as_str()))
            {
                return Err(Error::new(
                    at_id(&p.id),
                    format!(
                        "policy `{}` names resource type `{t}`, which driftgate cannot check \
                         (supported: {})",
                        p.id,
                        known_types.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            for c in p.when.cidr_any.iter_mut().flatten() {
                *c = crate::model::cidr(c)
                    .map_err(|e| Error::new(at_id(&p.id), format!("policy `{}`: {e}", p.id)))?;
            }
            p.origin = origin.to_string();
            match self.policies.iter_mut().find(|q| q.id == p.id) {
                Some(existing) => *existing = p,
                None => self.policies.push(p),
            }
        }
        Ok(())
    }

    /// Resource types that at least one active policy covers: only these are read and compared.
    pub fn checked_types(&self) -> BTreeSet<&str> {
        self.policies
            .iter()
            .filter(|p| p.enforcement != Enforcement::Off)
            .flat_map(|p| p.resource_types.iter().map(String::as_str))
            .collect()
    }

    /// The policy that judges a drift: the most severe match, the first listed on a tie.
    pub fn judge(&self, d: &Drift) -> Option<&Policy> {
        self.policies
            .iter()
            .filter(|p| p.matches(d))
            .fold(None, |best, p| match best {
                Some(b) if b.severity >= p.severity => Some(b),
                _ => Some(p),
            })
    }

    /// References of every policy that matches, the judging policy's first: a world-open SSH
    /// rule on a default group breaks both the "admin ports" and the "default group" controls.
    pub fn references(&self, d: &Drift) -> Vec<String> {
        let mut refs: Vec<String> = self
            .judge(d)
            .map(|p| p.references.clone())
            .unwrap_or_default();
        for p in self.policies.iter().filter(|p| p.matches(d)) {
            for r in &p.references {
                if !refs.contains(r) {
                    refs.push(r.clone());
                }
            }
        }
        refs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facts, Ports};
    use serde_json::Value;

    fn known() -> BTreeSet<&'static str> {
        crate::families::all()
            .iter()
            .flat_map(|f| f.about().resource_types.iter().copied())
            .collect()
    }

    fn drift(
        t: &str,
        attr: Option<&str>,
        effect: Effect,
        cidr: &str,
        ports: Ports,
        default: bool,
    ) -> Drift {
        Drift {
            family: "security_group",
            address: format!("{t}.x"),
            resource_type: t.into(),
            cloud_id: "id".into(),
            region: "us-east-1".into(),
            account: None,
            kind: DriftKind::Unmanaged,
            attribute: attr.map(str::to_string),
            expected: Value::Null,
            actual: Value::Null,
            expected_summary: None,
            actual_summary: None,
            effect,
            facts: Some(Facts {
                grants: true,
                direction: attr.map(|_| "ingress"),
                ports: vec![ports],
                cidrs: vec![cidr.into()],
                labels: vec![],
            }),
            is_default_object: default,
            tags: Default::default(),
            sources: vec![],
            sensitive: false,
            reach: None,
            observed: None,
        }
    }

    #[test]
    fn builtin_policies_load_and_pick_the_most_severe() {
        let set = PolicySet::load(&[], &known()).unwrap();
        let id = |d: &Drift| set.judge(d).map(|p| p.id.as_str());
        let sg = "aws_security_group";
        assert_eq!(
            id(&drift(
                sg,
                Some("ingress"),
                Effect::Weakens,
                "0.0.0.0/0",
                Ports::Range(22, 22),
                false
            )),
            Some("AWS-SG-ADMIN-IPV4")
        );
        assert_eq!(
            id(&drift(
                sg,
                Some("ingress"),
                Effect::Weakens,
                "::/0",
                Ports::All,
                false
            )),
            Some("AWS-SG-ADMIN-IPV6")
        );
        assert_eq!(
            id(&drift(
                sg,
                Some("ingress"),
                Effect::Weakens,
                "0.0.0.0/0",
                Ports::Range(443, 443),
                false
            )),
            Some("AWS-SG-INTERNET-INGRESS")
        );
        assert_eq!(
            id(&drift(
                sg,
                Some("ingress"),
                Effect::Weakens,
                "10.0.0.0/8",
                Ports::Range(22, 22),
                true
            )),
            Some("AWS-SG-DEFAULT-OPEN")
        );
        assert_eq!(
            id(&drift(
                sg,
                Some("ingress"),
                Effect::Strengthens,
                "0.0.0.0/0",
                Ports::Range(22, 22),
                false
            )),
            Some("AWS-SG-RULES")
        );
        assert_eq!(
            id(&drift(
                "aws_network_acl_rule",
                Some("ingress"),
                Effect::Weakens,
                "0.0.0.0/0",
                Ports::All,
                false
            )),
            Some("AWS-NACL-ADMIN")
        );
        let mut gone = drift(sg, None, Effect::Unknown, "", Ports::None, false);
        gone.kind = DriftKind::Missing;
        gone.facts = None;
        assert_eq!(id(&gone), Some("AWS-SG-MISSING"));
        assert_eq!(
            id(&drift(
                "aws_vpc",
                Some("ingress"),
                Effect::Weakens,
                "0.0.0.0/0",
                Ports::All,
                false
            )),
            None
        );
        assert!(set.checked_types().contains("aws_network_acl_rule"));
    }

    #[test]
    fn user_files_override_by_id_and_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.yaml");
        std::fs::write(&ok, "version: 1\npolicies:\n  - id: AWS-SG-RULES\n    title: t\n    resource_types: [aws_security_group]\n    severity: low\n    enforcement: warn\n").unwrap();
        let set = PolicySet::load(&[ok.display().to_string()], &known()).unwrap();
        let p = set
            .policies
            .iter()
            .find(|p| p.id == "AWS-SG-RULES")
            .unwrap();
        assert_eq!(
            (p.severity, p.enforcement),
            (Severity::Low, Enforcement::Warn)
        );

        let cases = [
            ("version: 1\npolicies:\n  - id: X\n    title: t\n    resource_types: [aws_security_group]\n    severity: huge\n", ":6:"),
            ("version: 1\npolicies:\n  - id: X\n    title: t\n    resource_typo: [aws_security_group]\n", ":5:"),
            ("version: 1\npolicies:\n  - id: X\n    title: t\n    resource_types: [aws_sqs_queue]\n    severity: low\n", "cannot check"),
            ("version: 2\npolicies: []\n", "version: 2"),
            ("version: 1\npolicies:\n  - id: X\n    title: t\n    resource_types: [aws_security_group]\n    severity: low\n    when: { cidr_any: [\"nope\"] }\n", "not a CIDR"),
            ("version: 1\npolicies: [\n", "policy "),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let f = dir.path().join(format!("bad{i}.yaml"));
            std::fs::write(&f, text).unwrap();
            let e = PolicySet::load(&[f.display().to_string()], &known())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("bad{i}.yaml")) && e.contains(want),
                "case {i}: {e}"
            );
        }
    }

    #[test]
    fn off_switches_a_policy_and_its_types() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("off.yaml");
        let mut text = String::from("version: 1\npolicies:\n");
        for id in ["AWS-NACL-ADMIN", "AWS-NACL-ENTRIES", "AWS-NACL-MISSING"] {
            text.push_str(&format!("  - {{id: {id}, title: t, resource_types: [aws_network_acl], severity: low, enforcement: off}}\n"));
        }
        std::fs::write(&f, text).unwrap();
        let set = PolicySet::load(&[f.display().to_string()], &known()).unwrap();
        assert!(!set.checked_types().contains("aws_network_acl"));
    }
}
