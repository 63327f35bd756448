//! `terraform show -json` output: of a state file (`values`) or of a plan file (`prior_state`, the
//! state the plan was made against). Addresses come ready-made in Terraform's syntax.

use serde_json::Value;

use super::{Resource, StateSource};

pub(super) fn parse(label: &str, doc: &Value) -> Result<(StateSource, Vec<Resource>), String> {
    let (values, what) = if let Some(prior) = doc.get("prior_state") {
        (prior.get("values"), "plan (prior_state)")
    } else {
        (doc.get("values"), "state")
    };
    let mut resources = Vec::new();
    // An empty state prints no `values`, and a plan made without a state has no `prior_state`:
    // both mean "no resources", not an error.
    if let Some(root) = values.and_then(|v| v.get("root_module")) {
        walk(label, root, &mut resources)?;
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

fn walk(label: &str, module: &Value, out: &mut Vec<Resource>) -> Result<(), String> {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if r.get("mode").and_then(Value::as_str) != Some("managed") {
            continue;
        }
        let field = |k: &str| {
            r.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a resource in `values` has no `{k}`"))
        };
        let address = field("address")?.to_string();
        let mut sensitive_paths = Vec::new();
        if let Some(sv) = r.get("sensitive_values") {
            collect_sensitive(sv, String::new(), &mut sensitive_paths);
        }
        out.push(Resource {
            resource_type: field("type")?.to_string(),
            // `show -json` names the provider without its configuration (aliases are only in
            // `configuration`); written as state v4 writes the root provider, so that region
            // inference treats both inputs alike.
            provider: format!("provider[\"{}\"]", field("provider_name")?),
            attributes: r.get("values").cloned().unwrap_or(Value::Null),
            sensitive_paths,
            sources: vec![label.to_string()],
            address,
        });
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        walk(label, child, out)?;
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
