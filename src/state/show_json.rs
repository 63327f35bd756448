//! `terraform show -json` output: of a state file (`values`) or of a plan file. Addresses come
//! ready-made in Terraform's syntax.
//!
//! A plan's `prior_state` is the state *after* refresh: the live values. Read as the expected side
//! it would hide every drift refresh saw (live compared with live). What refresh changed is in
//! `resource_drift[]`, each entry's `change.before` being the object as the state recorded it
//! (`actions: ["delete"]` when refresh found it gone, and it is then absent from `prior_state`):
//! putting those back gives the recorded state. A plan made with `-refresh=false` has no
//! `resource_drift` and its `prior_state` is the recorded state as it is.

use serde_json::Value;

use super::{Resource, StateSource};

/// `doc[key]` when present and not null, checked to be an object; `path` names it in errors.
fn object<'v>(doc: &'v Value, key: &str, path: &str) -> Result<Option<&'v Value>, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) if v.is_object() => Ok(Some(v)),
        Some(v) => Err(format!(
            "`{path}` is {}, expected an object",
            super::json_kind(v)
        )),
    }
}

/// `doc[key]` when present and not null, checked to be an array.
fn array<'v>(doc: &'v Value, key: &str, path: &str) -> Result<&'v [Value], String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err(format!(
            "`{path}` is {}, expected an array",
            super::json_kind(v)
        )),
    }
}

/// The state a document describes, and for a plan also the values its refresh read (the
/// resources of `prior_state` as they are), the live side of `--live plan`.
pub(super) type Parsed = (StateSource, Vec<Resource>, Option<Vec<Resource>>);

pub(super) fn parse(label: &str, doc: &Value) -> Result<Parsed, String> {
    // Read strictly: every field with the type Terraform writes, or an error naming its path. A
    // document of the wrong shape must never read as an empty estate.
    let (values, what, path) = match object(doc, "prior_state", "prior_state")? {
        Some(prior) => (
            object(prior, "values", "prior_state.values")?,
            "plan (prior_state)",
            "prior_state.values",
        ),
        None if doc.get("prior_state").is_some() => (None, "plan (prior_state)", ""),
        None => (object(doc, "values", "values")?, "state", "values"),
    };
    let mut resources = Vec::new();
    // An empty state prints no `values`, and a plan made without a state has no `prior_state`:
    // both mean "no resources", not an error.
    if let Some(values) = values {
        let root_path = format!("{path}.root_module");
        if let Some(root) = object(values, "root_module", &root_path)? {
            walk(label, root, &root_path, &mut resources)?;
        }
    }
    let (undone, refreshed) = if what == "state" {
        (0, None)
    } else {
        let refreshed = resources.clone();
        (undo_refresh(label, doc, &mut resources)?, Some(refreshed))
    };
    let source = StateSource {
        label: label.to_string(),
        format: match (what, undone) {
            ("state", _) => "show-json-state",
            // Either made with -refresh=false or refresh found nothing changed: either way
            // `prior_state` is the state as recorded.
            (_, 0) => "show-json-plan",
            _ => "show-json-plan-refreshed",
        },
        terraform_version: doc
            .get("terraform_version")
            .and_then(Value::as_str)
            .map(str::to_string),
        serial: None,
        lineage: None,
        resources: resources.len(),
    };
    Ok((source, resources, refreshed))
}

/// Puts back, for every managed object refresh changed or found gone, the value the state
/// recorded (`resource_drift[].change.before`); returns how many. Deposed objects are not
/// compared and stay as they are.
fn undo_refresh(label: &str, doc: &Value, resources: &mut Vec<Resource>) -> Result<usize, String> {
    let mut undone = 0;
    for (i, entry) in array(doc, "resource_drift", "resource_drift")?
        .iter()
        .enumerate()
    {
        let at = format!("resource_drift[{i}]");
        if !entry.is_object() {
            return Err(format!(
                "`{at}` is {}, expected an object",
                super::json_kind(entry)
            ));
        }
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`{at}.{k}` is missing or not a string"))
        };
        if field("mode")? != "managed" || entry.get("deposed").is_some_and(|d| !d.is_null()) {
            continue;
        }
        let address = field("address")?;
        let Some(change) = object(entry, "change", &format!("{at}.change"))? else {
            return Err(format!("`{at}.change` is missing"));
        };
        // `before` null: refresh found an object the state did not have; nothing was recorded.
        let Some(before) = object(change, "before", &format!("{at}.change.before"))? else {
            continue;
        };
        let mut sensitive_paths = Vec::new();
        if let Some(sv) = change.get("before_sensitive") {
            collect_sensitive(sv, String::new(), &mut sensitive_paths);
        }
        match resources.iter_mut().find(|r| r.address == address) {
            Some(r) => {
                // What refresh read stays marked sensitive too: a value may move between the two.
                for p in std::mem::take(&mut r.sensitive_paths) {
                    if !sensitive_paths.contains(&p) {
                        sensitive_paths.push(p);
                    }
                }
                r.attributes = before.clone();
                r.sensitive_paths = sensitive_paths;
            }
            // Deleted outside Terraform: refresh dropped it from `prior_state`.
            None => resources.push(Resource {
                resource_type: field("type")?.to_string(),
                provider: format!("provider[\"{}\"]", field("provider_name")?),
                attributes: before.clone(),
                sensitive_paths,
                sources: vec![label.to_string()],
                address: address.to_string(),
            }),
        }
        undone += 1;
    }
    Ok(undone)
}

fn walk(label: &str, module: &Value, path: &str, out: &mut Vec<Resource>) -> Result<(), String> {
    for (i, r) in array(module, "resources", &format!("{path}.resources"))?
        .iter()
        .enumerate()
    {
        let at = format!("{path}.resources[{i}]");
        if !r.is_object() {
            return Err(format!(
                "`{at}` is {}, expected an object",
                super::json_kind(r)
            ));
        }
        let field = |k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`{at}.{k}` is missing or not a string"))
        };
        match field("mode")? {
            "managed" => {}
            // Data sources are reads, not managed infrastructure: nothing to drift.
            "data" => continue,
            other => {
                return Err(format!(
                    "`{at}.mode` is `{other}`, expected `managed` or `data`"
                ))
            }
        }
        let address = field("address")?.to_string();
        let mut sensitive_paths = Vec::new();
        if let Some(sv) = r.get("sensitive_values") {
            collect_sensitive(sv, String::new(), &mut sensitive_paths);
        }
        let attributes = match r.get("values") {
            Some(v @ Value::Object(_)) => v.clone(),
            None | Some(Value::Null) => Value::Null,
            Some(v) => {
                return Err(format!(
                    "`{at}.values` is {}, expected an object",
                    super::json_kind(v)
                ))
            }
        };
        out.push(Resource {
            resource_type: field("type")?.to_string(),
            // `show -json` names the provider without its configuration (aliases are only in
            // `configuration`); written as state v4 writes the root provider, so that region
            // inference treats both inputs alike.
            provider: format!("provider[\"{}\"]", field("provider_name")?),
            attributes,
            sensitive_paths,
            sources: vec![label.to_string()],
            address,
        });
    }
    for (i, child) in array(module, "child_modules", &format!("{path}.child_modules"))?
        .iter()
        .enumerate()
    {
        let child_path = format!("{path}.child_modules[{i}]");
        if !child.is_object() {
            return Err(format!(
                "`{child_path}` is {}, expected an object",
                super::json_kind(child)
            ));
        }
        walk(label, child, &child_path, out)?;
    }
    Ok(())
}

/// `sensitive_values` mirrors `values` with `true` at every sensitive leaf.
fn collect_sensitive(v: &Value, prefix: String, out: &mut Vec<String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Bool(true) if !prefix.is_empty() => out.push(prefix),
        Value::Object(map) => {
            for (k, child) in map {
                collect_sensitive(child, join(k), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_sensitive(child, join(&i.to_string()), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(drift: Value) -> Value {
        json!({"format_version": "1.2", "terraform_version": "1.9.8",
            "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": [
                {"address": "aws_security_group.web", "mode": "managed", "type": "aws_security_group",
                 "name": "web", "provider_name": "registry.terraform.io/hashicorp/aws",
                 "values": {"id": "sg-1", "ingress": ["refreshed"]},
                 "sensitive_values": {"tags": {"secret": true}}}]}}},
            "resource_drift": drift})
    }

    fn entry(address: &str, actions: &[&str], before: Value) -> Value {
        json!({"address": address, "mode": "managed", "type": "aws_security_group",
               "name": "x", "provider_name": "registry.terraform.io/hashicorp/aws",
               "change": {"actions": actions, "before": before, "after": null,
                          "before_sensitive": {"description": true}}})
    }

    #[test]
    fn refresh_is_undone_object_by_object() {
        // A deposed object is not compared: its entry changes nothing.
        let mut deposed = entry(
            "aws_security_group.web",
            &["update"],
            json!({"id": "sg-old"}),
        );
        deposed["deposed"] = json!("a1b2c3d4");
        let doc = plan(Value::Array(vec![
            entry(
                "aws_security_group.web",
                &["update"],
                json!({"id": "sg-1", "ingress": ["recorded"]}),
            ),
            entry(
                "aws_security_group.gone",
                &["delete"],
                json!({"id": "sg-2"}),
            ),
            deposed,
        ]));
        let (source, resources, refreshed) = parse("plan", &doc).unwrap();
        assert_eq!(
            refreshed.unwrap()[0].attributes["ingress"],
            json!(["refreshed"])
        );
        assert_eq!(source.format, "show-json-plan-refreshed");
        assert_eq!(resources.len(), 2);
        let web = &resources[0];
        assert_eq!(web.attributes["ingress"], json!(["recorded"]));
        // Sensitive in either version stays sensitive.
        assert!(web.is_sensitive("tags") && web.is_sensitive("description"));
        let gone = &resources[1];
        assert_eq!(gone.address, "aws_security_group.gone");
        assert_eq!(gone.resource_type, "aws_security_group");
        assert_eq!(gone.attributes["id"], "sg-2");
        assert_eq!(
            gone.provider,
            "provider[\"registry.terraform.io/hashicorp/aws\"]"
        );
    }

    #[test]
    fn without_drift_the_prior_state_is_the_recorded_state() {
        let (source, resources, _) = parse("plan", &plan(Value::Null)).unwrap();
        assert_eq!(source.format, "show-json-plan");
        assert_eq!(resources[0].attributes["ingress"], json!(["refreshed"]));
    }

    #[test]
    fn malformed_drift_entries_are_named() {
        for (drift, message) in [
            (
                json!({}),
                "`resource_drift` is an object, expected an array",
            ),
            (
                json!([1]),
                "`resource_drift[0]` is a number, expected an object",
            ),
            (
                json!([{"mode": "managed", "address": "a.b"}]),
                "`resource_drift[0].change` is missing",
            ),
            (
                json!([{"mode": "managed", "address": "a.b", "change": {"before": []}}]),
                "`resource_drift[0].change.before` is an array, expected an object",
            ),
        ] {
            let e = parse("plan", &plan(drift)).unwrap_err();
            assert_eq!(e, message);
        }
    }
}
