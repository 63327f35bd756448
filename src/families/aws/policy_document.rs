//! IAM policy documents (identity policies, trust policies, bucket and key policies) compared by
//! meaning: a document is a *set of statements*, and each statement is canonical, so that key
//! order, whitespace, `"Action": "x"` vs `["x"]`, statement order, `Sid`s, URL-encoding (IAM's
//! API), the case of actions and condition keys, and a bare account id vs its root ARN as a
//! principal never look like drift. What remains different is different in effect.
//!
//! Shared by the IAM, S3 and KMS families: each statement becomes one comparable item, allow
//! statements grant (added = weakens) and deny statements restrict (removed = weakens).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

/// One canonical statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Canonical JSON text: equal keys mean equal meaning.
    pub key: String,
    pub value: Value,
    pub allow: bool,
    /// One line for humans: `Allow s3:getobject on arn:aws:s3:::b/*`.
    pub summary: String,
}

/// The statements of a policy document, given as text (plain or URL-encoded JSON) or as JSON.
/// The document `Version` matters (policy variables only work in 2012-10-17): it is folded into
/// every statement, with IAM's default of 2008-10-17 when absent.
pub fn statements(doc: &Value) -> Result<Vec<Statement>, String> {
    let parsed;
    let doc = match doc {
        Value::String(text) => {
            parsed = parse_text(text)?;
            &parsed
        }
        other => other,
    };
    let obj = doc
        .as_object()
        .ok_or("a policy document must be a JSON object")?;
    let version = obj
        .get("Version")
        .and_then(Value::as_str)
        .unwrap_or("2008-10-17");
    let list: Vec<&Value> = match obj.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        Some(_) => return Err("`Statement` must be an object or a list".into()),
        None => Vec::new(),
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in list {
        let st = statement(s, version)?;
        // The same statement twice means it once.
        if seen.insert(st.key.clone()) {
            out.push(st);
        }
    }
    Ok(out)
}

fn parse_text(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str(trimmed) {
        Ok(v) => Ok(v),
        Err(first) => {
            let decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|e| format!("not JSON ({first}) and not URL-encoded UTF-8 ({e})"))?;
            serde_json::from_str(&decoded).map_err(|e| format!("not a JSON policy document: {e}"))
        }
    }
}

/// A string or a list of strings as a sorted set.
fn string_set(v: &Value, lower: bool) -> Result<BTreeSet<String>, String> {
    let norm = |s: &str| {
        if lower {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    match v {
        Value::String(s) => Ok(BTreeSet::from([norm(s)])),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(norm(s)),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(format!("unexpected {other} in a list of strings")),
            })
            .collect(),
        Value::Bool(b) => Ok(BTreeSet::from([b.to_string()])),
        Value::Number(n) => Ok(BTreeSet::from([n.to_string()])),
        other => Err(format!("expected a string or a list, found {other}")),
    }
}

/// `"*"`, `{"AWS": "123456789012"}`, `{"AWS": ["arn:aws:iam::123456789012:root"]}`: a map of
/// principal type to a sorted set, with bare account ids written as the root ARN AWS stores.
fn principal(v: &Value) -> Result<Value, String> {
    match v {
        Value::String(s) if s == "*" => Ok(json!({"*": ["*"]})),
        Value::Object(m) => {
            let mut out = Map::new();
            for (kind, ids) in m {
                let set: BTreeSet<String> = string_set(ids, false)?
                    .into_iter()
                    .map(|id| {
                        if kind == "AWS" && id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
                        {
                            format!("arn:aws:iam::{id}:root")
                        } else {
                            id
                        }
                    })
                    .collect();
                out.insert(kind.clone(), json!(set));
            }
            Ok(Value::Object(out))
        }
        other => Err(format!("unexpected principal {other}")),
    }
}

/// Operators keep their case; condition keys are case-insensitive; values are sets.
fn condition(v: &Value) -> Result<Value, String> {
    let ops = v.as_object().ok_or("`Condition` must be an object")?;
    let mut out = BTreeMap::new();
    for (op, keys) in ops {
        let keys = keys
            .as_object()
            .ok_or(format!("condition `{op}` must be an object"))?;
        let mut inner = BTreeMap::new();
        for (k, vals) in keys {
            inner.insert(k.to_ascii_lowercase(), string_set(vals, false)?);
        }
        out.insert(op.clone(), inner);
    }
    serde_json::to_value(out).map_err(|e| e.to_string())
}

pub(super) fn statement(s: &Value, version: &str) -> Result<Statement, String> {
    let obj = s.as_object().ok_or("a statement must be an object")?;
    let effect = obj
        .get("Effect")
        .and_then(Value::as_str)
        .ok_or("a statement has no `Effect`")?;
    let allow = match effect {
        "Allow" => true,
        "Deny" => false,
        other => return Err(format!("`Effect` is {other:?}, expected Allow or Deny")),
    };
    let mut canon = BTreeMap::new();
    canon.insert("Effect".to_string(), json!(effect));
    canon.insert("Version".to_string(), json!(version));
    for (k, v) in obj {
        let value = match k.as_str() {
            "Sid" | "Effect" => continue,
            "Action" | "NotAction" => json!(string_set(v, true)?),
            "Resource" | "NotResource" => json!(string_set(v, false)?),
            "Principal" | "NotPrincipal" => principal(v)?,
            "Condition" => condition(v)?,
            other => return Err(format!("unknown statement element `{other}`")),
        };
        canon.insert(k.clone(), value);
    }
    let value = serde_json::to_value(&canon).map_err(|e| e.to_string())?;
    let key = value.to_string();
    let list = |k: &str| {
        canon.get(k).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let mut summary = effect.to_string();
    if let Some(p) = canon.get("Principal") {
        summary.push_str(&format!(" {p}"));
    }
    match (list("Action"), list("NotAction")) {
        (Some(a), _) => summary.push_str(&format!(" {a}")),
        (None, Some(n)) => summary.push_str(&format!(" all but {n}")),
        _ => {}
    }
    match (list("Resource"), list("NotResource")) {
        (Some(r), _) => summary.push_str(&format!(" on {r}")),
        (None, Some(n)) => summary.push_str(&format!(" on all but {n}")),
        _ => {}
    }
    if canon.contains_key("Condition") {
        summary.push_str(" (with conditions)");
    }
    Ok(Statement {
        key,
        value,
        allow,
        summary,
    })
}

/// Who outside the account an allow statement lets in, as the widest exposure it gives and why,
/// from its canonical value (`Statement::value`): anyone (`*`, `{"AWS": "*"}` or a `NotPrincipal`)
/// without a condition is the internet, and so is an identity provider without one (any of its
/// identities: a GitHub OIDC trust without a `sub` condition lets every repository in);
/// either with conditions, another account, or an identity provider, is cross-account; the
/// account itself and AWS services are neither (`None`).
pub fn outside_principals(
    statement: &Value,
    summary: &str,
    own_account: Option<&str>,
) -> Option<(crate::model::Exposure, String)> {
    use crate::model::Exposure;
    if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return None;
    }
    let conditioned = statement.get("Condition").is_some();
    if statement.get("NotPrincipal").is_some() {
        let e = if conditioned {
            Exposure::CrossAccount
        } else {
            Exposure::Internet
        };
        return Some((
            e,
            format!("`{summary}` lets in everyone but the principals it names"),
        ));
    }
    let principals = statement.get("Principal")?.as_object()?;
    let ids = |kind: &str| -> Vec<&str> {
        principals
            .get(kind)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let anyone = principals.contains_key("*") || ids("AWS").contains(&"*");
    if anyone {
        return Some(if conditioned {
            (
                Exposure::CrossAccount,
                format!("`{summary}` lets in any principal, narrowed by conditions"),
            )
        } else {
            (
                Exposure::Internet,
                format!("`{summary}` lets in any principal (\"*\") with no condition"),
            )
        });
    }
    if let Some(idp) = ids("Federated").first() {
        return Some(if conditioned {
            (
                Exposure::CrossAccount,
                format!("`{summary}` trusts identity provider {idp}, narrowed by conditions"),
            )
        } else {
            (
                Exposure::Internet,
                format!(
                    "`{summary}` trusts identity provider {idp} with no condition: any of its \
                     identities may use it"
                ),
            )
        });
    }
    let others: Vec<&str> = ids("AWS")
        .into_iter()
        .filter(|arn| {
            let account = arn.split(':').nth(4).unwrap_or_default();
            own_account.is_none_or(|own| account != own)
        })
        .collect();
    if let Some(other) = others.first() {
        let account = other.split(':').nth(4).unwrap_or(other);
        return Some((
            Exposure::CrossAccount,
            format!("`{summary}` lets in account {account}"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(doc: Value) -> Vec<String> {
        let mut k: Vec<String> = statements(&doc)
            .unwrap()
            .into_iter()
            .map(|s| s.key)
            .collect();
        k.sort();
        k
    }

    #[test]
    fn equivalent_documents_are_equal() {
        let terraform = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": ["arn:aws:s3:::b"],
             "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}
        ]});
        // Reordered statements and keys, other Sids, single values as lists, lower-case actions,
        // condition keys in another case, pretty-printed and URL-encoded as IAM returns it.
        let live_text = r#"{
          "Statement": [
            {"Resource": "arn:aws:s3:::b", "Action": ["s3:deletebucket"], "Effect": "Deny",
             "Condition": {"StringEquals": {"AWS:SourceVpc": ["vpc-1"]}}},
            {"Effect": "Allow", "Resource": ["*"], "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Sid": "Other"}
          ],
          "Version": "2012-10-17"
        }"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(live_text, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert_eq!(keys(terraform.clone()), keys(json!(live_text)));
        assert_eq!(keys(terraform.clone()), keys(json!(encoded)));
        assert_eq!(keys(terraform.clone()), keys(json!(terraform.to_string())));
    }

    #[test]
    fn principals_and_versions() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}});
        let b = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}, "Action": ["sts:AssumeRole"]}]});
        assert_eq!(keys(a), keys(b));
        let star = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}});
        let star_aws = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}});
        // "*" is everyone (including anonymous); {"AWS": "*"} is any AWS principal: not equal.
        assert_ne!(keys(star.clone()), keys(star_aws));
        // Version is part of the meaning (policy variables), with IAM's default when absent.
        let mut v2012 = star.clone();
        v2012["Version"] = json!("2012-10-17");
        assert_ne!(keys(star.clone()), keys(v2012));
        let mut v2008 = star.clone();
        v2008["Version"] = json!("2008-10-17");
        assert_eq!(keys(star), keys(v2008));
    }

    #[test]
    fn different_documents_differ_and_say_so() {
        let narrow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        let wide = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert_ne!(keys(narrow.clone()), keys(wide.clone()));
        let s = &statements(&wide).unwrap()[0];
        assert!(s.allow);
        assert_eq!(s.summary, "Allow * on *");
        let dup = json!({"Statement": [{"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}, {"Effect": "Deny", "NotAction": ["iam:*"], "Resource": ["*"]}]});
        let st = statements(&dup).unwrap();
        assert_eq!(st.len(), 1, "the same statement twice is one");
        assert!(!st[0].allow);
        assert_eq!(st[0].summary, "Deny all but iam:* on *");
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            json!("{not json"),
            json!({"Statement": "x"}),
            json!({"Statement": [{"Action": "s3:*"}]}),
            json!({"Statement": [{"Effect": "allow", "Action": "s3:*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Acton": "s3:*"}]}),
            json!([1]),
        ] {
            assert!(statements(&bad).is_err(), "{bad}");
        }
        assert!(statements(&json!("")).unwrap().is_empty());
    }

    #[test]
    fn fixture_documents_parse() {
        let text = include_str!("../../../tests/fixtures/iam_GetPolicyVersion.json");
        let v: Value = serde_json::from_str(text).unwrap();
        let doc = &v["data"]["PolicyVersion"]["Document"];
        let st = statements(doc).unwrap();
        assert!(st.len() >= 2, "{st:?}");
        assert!(
            st.iter().any(|s| s.summary.contains("logs:createloggroup")),
            "{st:?}"
        );
    }

    #[test]
    fn who_a_statement_lets_in_from_outside() {
        use crate::model::Exposure;
        let widest = |doc: Value| {
            statements(&doc)
                .unwrap()
                .iter()
                .filter_map(|s| outside_principals(&s.value, &s.summary, Some("111122223333")))
                .map(|(e, _)| e)
                .min()
        };
        let trust = |principal: Value, condition: Option<Value>| {
            let mut st =
                json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
            if let Some(c) = condition {
                st["Condition"] = c;
            }
            json!({"Version": "2012-10-17", "Statement": [st]})
        };
        assert_eq!(widest(trust(json!("*"), None)), Some(Exposure::Internet));
        assert_eq!(
            widest(trust(
                json!({"AWS": "*"}),
                Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))
            )),
            Some(Exposure::CrossAccount)
        );
        let github = json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"});
        assert_eq!(
            widest(trust(github.clone(), None)),
            Some(Exposure::Internet)
        );
        assert_eq!(
            widest(trust(
                github,
                Some(
                    json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/infra:*"}})
                )
            )),
            Some(Exposure::CrossAccount)
        );
        assert_eq!(
            widest(trust(json!({"AWS": "444455556666"}), None)),
            Some(Exposure::CrossAccount)
        );
        // The account itself (bare id or root ARN) and AWS services are not outside.
        assert_eq!(widest(trust(json!({"AWS": "111122223333"}), None)), None);
        assert_eq!(
            widest(trust(json!({"Service": "ec2.amazonaws.com"}), None)),
            None
        );
        // A deny lets no one in.
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]});
        assert_eq!(widest(deny), None);
    }
}
