//! State format version 4, the layout of `terraform.tfstate` since Terraform 0.12.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{format_address, Resource, StateSource};

#[derive(Deserialize)]
struct StateV4<'a> {
    terraform_version: Option<String>,
    serial: Option<u64>,
    lineage: Option<String>,
    /// Terraform always writes it (`[]` when empty): a state without it is not one.
    #[serde(borrow)]
    resources: Vec<ResourceV4<'a>>,
}

#[derive(Deserialize)]
struct ResourceV4<'a> {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    resource_type: String,
    name: String,
    provider: String,
    #[serde(borrow)]
    instances: Vec<InstanceV4<'a>>,
}

#[derive(Deserialize)]
struct InstanceV4<'a> {
    #[serde(default)]
    index_key: Option<Value>,
    #[serde(default)]
    deposed: Option<String>,
    /// Left unparsed until we know the type is checked: most of a big state is attributes of
    /// types no policy covers, and a tree of `Value`s costs several times the text.
    #[serde(default, borrow)]
    attributes: Option<&'a RawValue>,
    #[serde(default)]
    attributes_flat: Option<IgnoredAny>,
    #[serde(default)]
    sensitive_attributes: Option<Vec<Value>>,
}

/// What is kept of a resource whose type is not checked: enough to place it (region, account)
/// and to recognise it in another state (id).
#[derive(Deserialize, serde::Serialize)]
struct Locator {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// The account of EC2 objects without an ARN (place.rs). Any JSON: a type that uses the name
    /// for something else must not make the state unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_id: Option<Value>,
}

pub(super) fn parse(
    label: &str,
    bytes: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<(StateSource, Vec<Resource>), String> {
    let state: StateV4 =
        serde_json::from_slice(bytes).map_err(|e| format!("malformed state v4: {e}"))?;
    let mut resources = Vec::new();
    for (i, r) in state.resources.into_iter().enumerate() {
        match r.mode.as_str() {
            "managed" => {}
            // Data sources are reads, not managed infrastructure: nothing to drift.
            "data" => continue,
            other => {
                return Err(format!(
                    "`resources[{i}].mode` is `{other}`, expected `managed` or `data`"
                ))
            }
        }
        let checked = keep(&r.resource_type);
        for inst in r.instances {
            // A deposed object is an old instance awaiting destruction (create_before_destroy);
            // the current instance is the one Terraform will keep.
            if inst.deposed.is_some() {
                continue;
            }
            let address = format_address(
                r.module.as_deref(),
                &r.resource_type,
                &r.name,
                inst.index_key.as_ref(),
            );
            let raw = match (inst.attributes, inst.attributes_flat) {
                (Some(a), _) if a.get().starts_with('{') => a,
                (_, Some(_)) => {
                    return Err(format!(
                        "{address} has only legacy flat attributes (`attributes_flat`, from a \
                         Terraform 0.11 state); run `terraform apply -refresh-only` with Terraform \
                         0.12+ to rewrite them"
                    ))
                }
                _ => return Err(format!("{address} has no `attributes` object")),
            };
            let attributes = if checked {
                serde_json::from_str(raw.get())
                    .map_err(|e| format!("{address}: attributes: {e}"))?
            } else {
                let locator: Locator = serde_json::from_str(raw.get())
                    .map_err(|e| format!("{address}: attributes: {e}"))?;
                serde_json::to_value(locator).unwrap_or(Value::Null)
            };
            let sensitive_paths = inst
                .sensitive_attributes
                .as_ref()
                .map(|paths| sensitive_paths_v4(paths))
                .unwrap_or_default();
            resources.push(Resource {
                address,
                resource_type: r.resource_type.clone(),
                provider: r.provider.clone(),
                attributes,
                sensitive_paths,
                sources: vec![label.to_string()],
            });
        }
    }
    let source = StateSource {
        label: label.to_string(),
        format: "tfstate-v4",
        terraform_version: state.terraform_version,
        serial: state.serial,
        lineage: state.lineage,
        resources: resources.len(),
    };
    Ok((source, resources))
}

/// `sensitive_attributes` is a list of paths, each a list of steps such as
/// `{"type":"get_attr","value":"password"}` or `{"type":"index","value":{"value":0,"type":"number"}}`.
fn sensitive_paths_v4(paths: &[Value]) -> Vec<String> {
    paths
        .iter()
        .filter_map(|path| {
            let steps = path.as_array()?;
            let parts: Vec<String> = steps
                .iter()
                .filter_map(|step| match step.get("value")? {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.get("value").map(|k| match k {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                    other => Some(other.to_string()),
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("."))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modules_indexes_data_sources_and_deposed() {
        let doc = json!({
            "version": 4, "terraform_version": "1.9.8", "serial": 7, "lineage": "x",
            "resources": [
                {"mode": "data", "type": "aws_vpc", "name": "d", "provider": "p",
                 "instances": [{"attributes": {"id": "vpc-1"}}]},
                {"module": "module.edge", "mode": "managed", "type": "aws_security_group",
                 "name": "this", "each": "map", "provider": "p",
                 "instances": [
                    {"index_key": "web", "attributes": {"id": "sg-1"},
                     "sensitive_attributes": [[{"type": "get_attr", "value": "secret"}]]},
                    {"index_key": "web", "deposed": "00000001", "attributes": {"id": "sg-old"}}
                 ]},
                {"mode": "managed", "type": "aws_network_acl", "name": "private", "each": "list",
                 "provider": "p", "instances": [{"index_key": 0, "attributes": {"id": "acl-1"}}]}
            ]
        });
        let (src, res) = parse("s", doc.to_string().as_bytes(), &|_| true).unwrap();
        assert_eq!(src.resources, 2);
        assert_eq!(src.terraform_version.as_deref(), Some("1.9.8"));
        let addrs: Vec<&str> = res.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addrs,
            [
                r#"module.edge.aws_security_group.this["web"]"#,
                "aws_network_acl.private[0]"
            ]
        );
        assert!(res[0].is_sensitive("secret"));
        assert!(!res[0].is_sensitive("secrets"));
    }

    #[test]
    fn missing_fields_are_named() {
        let all = |_: &str| true;
        let e = parse(
            "s",
            json!({"version": 4, "resources": [{"mode": "managed"}]})
                .to_string()
                .as_bytes(),
            &all,
        )
        .err()
        .unwrap();
        assert!(e.contains("missing field `type`"), "{e}");
        let e = parse(
            "s",
            json!({"version": 4, "resources": [{"mode": "managed", "type": "t", "name": "n",
                   "provider": "p", "instances": [{"attributes_flat": {"id": "1"}}]}]})
            .to_string()
            .as_bytes(),
            &all,
        )
        .err()
        .unwrap();
        assert!(e.contains("t.n has only legacy flat attributes"), "{e}");
    }
}
