//! `terraform show -json` output: of a state file (`values`) or of a plan file (`prior_state`, the
//! state the plan was made against). Addresses come ready-made in Terraform's syntax.

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

pub(super) fn parse(label: &str, doc: &Value) -> Result<(StateSource, Vec<Resource>), String> {
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
    let source = StateSource {
        label: label.to_string(),
        format: if what == "state" {
            "show-json-state"
        } else {
            "show-json-plan"
        },
        terraform_version: doc
            .get("terraform_version")
            .and_then(Value::as_str)
            .map(str::to_string),
        serial: None,
        lineage: None,
        resources: resources.len(),
    };
    Ok((source, resources))
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
