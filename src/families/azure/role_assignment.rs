//! Role assignments: `azurerm_role_assignment` (scope, role definition, principal, condition).
//! An assignment cannot be edited in place except for its condition; what drifts is its
//! condition, or the assignment being deleted or recreated under another id.
//!
//! Role definition ids are compared by their GUID: ARM answers `/subscriptions/S/providers/…/
//! roleDefinitions/G` or `/providers/…/roleDefinitions/G` for the same role.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{fetch_each, owned_object, prop, ArmRead};
use crate::clients::Clouds;
use crate::error::Result;
use crate::families::{bad, setting, About, Family};
use crate::model::{Cloud, Declarer, Effect, ExpectedItem, ExpectedObject, Item, LiveObject};
use crate::state::Resource;

pub const ROLE_ASSIGNMENTS: About = About {
    name: "azure_role_assignment",
    cloud: Cloud::Azure,
    label: "role assignment(s)",
    resource_types: &["azurerm_role_assignment"],
    batch_size: super::BATCH,
};

pub struct RoleAssignments;

const API_VERSION: &str = "2022-04-01";

const READ: ArmRead = ArmRead {
    api_version: API_VERSION,
    operation: "roleAssignments.get",
    graph_type: None,
    to_items: live_items,
};

fn role_guid(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(id)
        .to_ascii_lowercase()
}

fn scope(s: &str) -> String {
    s.trim_end_matches('/').to_ascii_lowercase()
}

fn items(role: &str, principal: &str, at: &str, condition: &str) -> Vec<(&'static str, Item)> {
    vec![
        (
            "role_definition_id",
            setting("role_definition_id", json!(role_guid(role)), false),
        ),
        (
            "principal_id",
            setting("principal_id", json!(principal.to_ascii_lowercase()), false),
        ),
        ("scope", setting("scope", json!(scope(at)), false)),
        // An assignment without condition grants the role everywhere in the scope.
        (
            "condition",
            setting(
                "condition",
                json!(condition.trim()),
                condition.trim().is_empty(),
            ),
        ),
    ]
}

fn live_items(body: &Value) -> std::result::Result<Vec<(&'static str, Item)>, String> {
    let text = |k: &str| prop(body, k).and_then(Value::as_str).unwrap_or_default();
    if text("roleDefinitionId").is_empty() || text("principalId").is_empty() {
        return Err("a role assignment without roleDefinitionId or principalId".into());
    }
    Ok(items(
        text("roleDefinitionId"),
        text("principalId"),
        text("scope"),
        text("condition"),
    ))
}

impl Family for RoleAssignments {
    fn about(&self) -> &'static About {
        &ROLE_ASSIGNMENTS
    }

    /// An assignment deleted in the portal (access revoked) leaves the code, with a `removed`
    /// block (the assignment is already gone). A deleted object's effect is `unknown`, so
    /// this is written under `--accept-weakening`.
    fn codify(&self, r: &crate::families::CodifyRequest) -> crate::families::Codify {
        match (r.resource_type, r.kind) {
            ("azurerm_role_assignment", crate::model::DriftKind::Missing) => {
                crate::families::Codify::RemoveResource {
                    summary: "the role assignment is gone".into(),
                }
            }
            _ => crate::families::Codify::Unsupported,
        }
    }

    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>> {
        let mut out = Vec::new();
        for r in resources {
            let id = r.attr_str("id").ok_or_else(|| bad(r, "has no `id`"))?;
            let text = |k: &str| r.attr_str(k).unwrap_or_default();
            let role = text("role_definition_id");
            if role.is_empty() || text("principal_id").is_empty() || text("scope").is_empty() {
                return Err(bad(
                    r,
                    "needs `role_definition_id`, `principal_id` and `scope`",
                ));
            }
            let mut obj = owned_object(self.about().name, id, r);
            obj.region = Some("global".into());
            let by = Declarer::of(r, true);
            for (attribute, item) in
                items(role, text("principal_id"), text("scope"), text("condition"))
            {
                obj.items.push(ExpectedItem {
                    attribute,
                    item,
                    by: by.clone(),
                });
            }
            out.push(obj);
        }
        Ok(out)
    }

    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        _region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>> {
        fetch_each(clouds, ids, &READ)
    }

    fn effect_of_change(&self, attribute: &str, expected: &Item, actual: &Item) -> Effect {
        if attribute == "condition" {
            return crate::families::setting_effect(expected, actual);
        }
        Effect::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_assignment_matches_its_state_spelling() {
        let text = std::fs::read_to_string(
            "tests/fixtures/shared/azure/azure_specs_RoleAssignments_Get.json",
        )
        .unwrap();
        let spec: Value = serde_json::from_str(&text).unwrap();
        let live = live_items(&spec["responses"]["200"]["body"]).unwrap();
        // The provider records the subscription-scoped spelling of the role definition id.
        let state = items(
            "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/providers/Microsoft.Authorization/roleDefinitions/0B5FE924-9A61-425C-96AF-CFE6E287CA2D",
            "ce2ce14e-85d7-4629-bdbc-454d0519d987",
            "/subscriptions/a925f2f7-5c63-4b7b-8799-25a5f97bc3b2/",
            "",
        );
        assert_eq!(live, state);
    }
}
