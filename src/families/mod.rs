//! Resource families. Each family turns state resources into the *security view* of the live
//! objects they manage ([`ExpectedObject`]), reads the same view from the cloud ([`LiveObject`]),
//! and knows how to judge a change of one item. Everything else (diffing, policy, verdict,
//! reports) is generic over this plain data.
//!
//! A family covers several Terraform types when they manage one live object together: a security
//! group's rules come from the group's inline blocks and from separate rule resources.
//!
//! A family file starts with its [`About`] (what it is), then holds only its real logic: the
//! state view (`expected`), the live read (`fetch`) and the effect of a change. Adding a family:
//! write its file, list it in [`all`], add its policy entry (docs/architecture.md walks through
//! one).

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod json_text;

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use serde_json::Value;

use crate::clients::Clouds;
use crate::error::Result;
use crate::model::{
    is_private_cidr, Cloud, ConfigItem, Declarer, Effect, ExpectedItem, ExpectedObject, Exposure,
    Facts, Item, LiveObject, Reach,
};
use crate::state::Resource;

/// Every family driftgate can check.
pub fn all() -> Vec<&'static dyn Family> {
    vec![
        &aws::security_group::SecurityGroups,
        &aws::sg_attachment::SgAttachments,
        &aws::network_acl::NetworkAcls,
        &aws::iam::IamPolicies,
        &aws::iam::IamInlinePolicies,
        &aws::iam_role::IamRoles,
        &aws::iam_principal::IamPrincipals,
        &aws::s3_public_access::BucketPublicAccessBlocks,
        &aws::s3_account::AccountPublicAccessBlocks,
        &aws::s3_bucket::BucketPolicies,
        &aws::s3_bucket::BucketEncryption,
        &aws::s3_acl::BucketAcls,
        &aws::ebs::EbsVolumes,
        &aws::ebs::EbsDefaultKmsKey,
        &aws::kms::KmsKeys,
        &aws::rds::DbInstances,
        &aws::rds::DbClusters,
        &aws::ebs::EbsEncryptionByDefault,
        &azure::network_security_group::NetworkSecurityGroups,
        &azure::nsg_association::NIC_NSG,
        &azure::nsg_association::SUBNET_NSG,
        &azure::storage_account::StorageAccounts,
        &azure::key_vault::KeyVaults,
        &azure::managed_disk::ManagedDisks,
        &azure::role_assignment::RoleAssignments,
        &gcp::firewall::Firewalls,
        &gcp::instance::Instances,
        &gcp::iam::IamPolicies,
        &gcp::storage_bucket::StorageBuckets,
        &gcp::compute_disk::ComputeDisks,
        &gcp::sql_instance::SqlInstances,
    ]
}

// `Declarer` is plain data in `model`; how one is made from a state resource is the families'
// business (the state sits above `model`).
impl Declarer {
    pub fn of(r: &Resource, inline: bool) -> Self {
        Declarer {
            address: r.address.clone(),
            resource_type: r.resource_type.clone(),
            sources: r.sources.clone(),
            inline,
            sensitive_paths: r.sensitive_paths.clone(),
            provider: r.provider.clone(),
        }
    }
}

/// What a family is, declared once at the top of its file.
#[derive(Debug)]
pub struct About {
    /// Short stable name (`security_group`), a key in maps and messages.
    pub name: &'static str,
    /// The cloud whose API the family reads.
    pub cloud: Cloud,
    /// What the objects are called in progress lines: `security group(s)`.
    pub label: &'static str,
    /// The Terraform types this family reads from the state.
    pub resource_types: &'static [&'static str],
    /// How many ids one read may carry.
    pub batch_size: usize,
}

/// A drifted object whose exposure is asked: what the state says of it and what was read.
pub struct Subject<'a> {
    pub expected: &'a ExpectedObject,
    pub live: &'a LiveObject,
}

/// How AWS Config names an object: its resource type and how its item is found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigRef {
    pub resource_type: &'static str,
    pub key: ConfigKey,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfigKey {
    /// The item's resource id is the cloud id (`sg-…`, a bucket's name).
    Id(String),
    /// The item's resource id is one the state may not know (an IAM role's `AROA…`, an RDS
    /// instance's `db-…`): found by the item's resource name.
    Name(String),
}

impl ConfigRef {
    pub fn id(resource_type: &'static str, id: &str) -> Option<Self> {
        Some(ConfigRef {
            resource_type,
            key: ConfigKey::Id(id.to_string()),
        })
    }

    pub fn name(resource_type: &'static str, name: &str) -> Option<Self> {
        Some(ConfigRef {
            resource_type,
            key: ConfigKey::Name(name.to_string()),
        })
    }
}

/// What configuration items showed of a family's objects.
#[derive(Debug, Default)]
pub struct FromConfig {
    pub objects: Vec<LiveObject>,
    /// Objects the items show do not exist (a bucket recorded without a policy).
    pub absent: Vec<String>,
    /// The capture time of the item behind each object and absence, by cloud id.
    pub captured: BTreeMap<String, String>,
}

impl FromConfig {
    /// `object`, as `item` shows it.
    pub fn seen(&mut self, object: LiveObject, item: &ConfigItem) {
        self.captured
            .insert(object.cloud_id.clone(), item.captured_at.clone());
        self.objects.push(object);
    }

    /// `id` does not exist, as `item` shows.
    pub fn gone(&mut self, id: &str, item: &ConfigItem) {
        self.captured
            .insert(id.to_string(), item.captured_at.clone());
        self.absent.push(id.to_string());
    }
}

/// A drift to write into the Terraform that declares it: the resource's type and block, and the
/// item the state declares that the live object no longer has (or has otherwise).
pub struct CodifyRequest<'a> {
    pub resource_type: &'a str,
    /// The resource's `resource` block, and the text of its file (spans index into it).
    pub block: &'a hcl_edit::structure::Block,
    pub text: &'a str,
    pub kind: crate::model::DriftKind,
    /// The live object's id (a role's name, `user/NAME`): what a resource that lists several
    /// objects (an `aws_iam_policy_attachment`'s `roles`) names this one by.
    pub object: &'a str,
    pub attribute: Option<&'a str>,
    /// What references of the resource's module stand for in the state.
    pub refs: &'a Refs<'a>,
    pub expected: &'a Value,
    pub actual: &'a Value,
    /// Every drift of this attribute of the resource that the run writes, this one included, as
    /// (kind, expected, actual): for items the code writes together (the grants one canned ACL
    /// stands for), so that each drift's edit says what is live for all of them.
    pub alike: &'a [Alike<'a>],
}

/// The state's view of references in one module: `aws_security_group.web.id` is `sg-0123`, and
/// `sg-0123` is `aws_security_group.web.id`. Only resources without `count`/`for_each` keys are
/// named (an indexed reference names an instance the code chooses by expression), besides the
/// `[0]` of a `count` switch when it is its resource's only instance, and only
/// resources of checked types are known (the state is loaded without the others): a reference
/// to anything else stays unresolved, and the fix that needs it manual.
pub struct Refs<'a> {
    /// The module's address prefix (`module.edge.`; empty for the root module).
    pub module: String,
    pub resources: &'a [Resource],
}

/// No state to resolve references with.
pub const NO_REFS: Refs<'static> = Refs {
    module: String::new(),
    resources: &[],
};

impl Refs<'_> {
    /// The state's value of `TYPE.NAME.ATTR` in this module.
    pub fn value(&self, reference: &str) -> Option<String> {
        let (resource, attr) = reference.rsplit_once('.')?;
        let address = format!("{}{resource}", self.module);
        self.resources
            .iter()
            .find(|r| r.address == address)
            .and_then(|r| r.attr_str(attr))
            .map(str::to_string)
    }

    /// The reference (`TYPE.NAME.ATTR`) to the one resource of this module among `types` whose
    /// `attr` is `value`.
    pub fn reference_to(&self, value: &str, types: &[&str], attr: &str) -> Option<String> {
        self.reference_where(types, attr, &|v| v == value)
    }

    /// The reference (`TYPE.NAME.ATTR`) to the one resource of this module among `types` whose
    /// `attr` passes `is` (ARM ids compare without case).
    pub fn reference_where(
        &self,
        types: &[&str],
        attr: &str,
        is: &dyn Fn(&str) -> bool,
    ) -> Option<String> {
        // `TYPE.NAME[0]` alone in the state: the instance of a `count = … ? 1 : 0` switch,
        // which code names as such.
        let only_instance = |rest: &str| {
            rest.strip_suffix("[0]").is_some_and(|base| {
                !base.contains('[')
                    && !self.resources.iter().any(|o| {
                        o.address.strip_prefix(&self.module).is_some_and(|other| {
                            other.starts_with(&format!("{base}[")) && other != rest
                        })
                    })
            })
        };
        let mut found = self.resources.iter().filter(|r| {
            types.contains(&r.resource_type.as_str())
                && r.attr_str(attr).is_some_and(is)
                && r.address.strip_prefix(&self.module).is_some_and(|rest| {
                    !rest.starts_with("module.") && (!rest.contains('[') || only_instance(rest))
                })
        });
        match (found.next(), found.next()) {
            (Some(r), None) => Some(format!(
                "{}.{attr}",
                r.address.strip_prefix(&self.module).unwrap_or(&r.address)
            )),
            _ => None,
        }
    }
}

/// The elements of list `key` of `body` as the state reads them: a string literal as written,
/// a reference (`aws_security_group.web.id`) as its value in the state (`None` when the state
/// does not say), each with its span. `Err(offset)`: the list is not a literal list (a
/// variable, a `concat`) or an element is neither.
#[allow(clippy::type_complexity)]
pub fn resolved_list(
    body: &hcl_edit::structure::Body,
    key: &str,
    refs: &Refs,
) -> std::result::Result<Vec<(Option<String>, std::ops::Range<usize>)>, usize> {
    use hcl_edit::expr::Expression as E;
    use hcl_edit::Span;
    let Some(attr) = body.get_attribute(key) else {
        return Ok(Vec::new());
    };
    let at = attr.value.span().map_or(0, |s| s.start);
    let E::Array(items) = &attr.value else {
        return Err(at);
    };
    items
        .iter()
        .map(|e| Ok((resolve(e, refs).ok_or(at)?, e.span().ok_or(at)?)))
        .collect()
}

/// The nested blocks a provider also takes as an attribute holding a list of objects
/// (Terraform's attributes-as-blocks, `ConfigMode: SchemaConfigModeAttr`): `ingress = [{ … }]`
/// on a security group or network ACL, `security_rule = [{ … }]` on an NSG, `access_policy = [{
/// … }]` on a key vault. Code in either form declares the same rules.
pub fn attributes_as_blocks(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "aws_security_group"
        | "aws_default_security_group"
        | "aws_network_acl"
        | "aws_default_network_acl" => &["ingress", "egress"],
        "azurerm_network_security_group" => &["security_rule"],
        "azurerm_key_vault" => &["access_policy"],
        _ => &[],
    }
}

/// The name of the `data "TYPE"` block an expression reads one of `attrs` of:
/// `data.TYPE.NAME.ATTR`, or `data.TYPE.NAME[0].ATTR` (a block of `count = … ? 1 : 0`). Another
/// index (`NAME[1]`) reads one of many instances, which no block is alone: `None`.
pub fn data_source_read(
    expr: &hcl_edit::expr::Expression,
    data_type: &str,
    attrs: &[&str],
) -> Option<String> {
    let (root, steps) = crate::literals::traversal_path(expr)?;
    match (root, steps.as_slice()) {
        ("data", [t, name, attr]) if t == data_type && attrs.contains(&attr.as_str()) => {
            let name = name.strip_suffix("[0]").unwrap_or(name);
            (!name.contains('[')).then(|| name.to_string())
        }
        _ => None,
    }
}

/// An expression as the state reads it: `Some(Some(v))` for a string literal or a resolved
/// reference to a resource, `Some(None)` for such a reference the state does not resolve,
/// `None` for anything else (a variable, a local, a data source, a call).
fn resolve(e: &hcl_edit::expr::Expression, refs: &Refs) -> Option<Option<String>> {
    match e {
        hcl_edit::expr::Expression::String(t) => Some(Some(t.value().to_string())),
        _ => match crate::literals::traversal_path(e)? {
            (root, steps) if !matches!(root, "var" | "local" | "data" | "each") => {
                Some(refs.value(&format!("{root}.{}", steps.join("."))))
            }
            _ => None,
        },
    }
}

/// Attribute `key` of `body` as the state reads it: a string literal as written, a reference
/// (`azurerm_user_assigned_identity.app.principal_id`) as its value in the state. `Ok(None)`:
/// absent; `Err(offset)`: an expression the state does not resolve.
pub fn resolved_value(
    body: &hcl_edit::structure::Body,
    key: &str,
    refs: &Refs,
) -> std::result::Result<Option<String>, usize> {
    use hcl_edit::Span;
    let Some(attr) = body.get_attribute(key) else {
        return Ok(None);
    };
    let at = attr.value.span().map_or(0, |s| s.start);
    match resolve(&attr.value, refs) {
        Some(Some(v)) => Ok(Some(v)),
        _ => Err(at),
    }
}

/// Why an element of a list cannot be taken out or added by [`remove_resolved`]: where, and why.
pub type Unresolved = (usize, &'static str);

/// The edit that takes the element the state reads as `value` out of list `key` of `body`
/// (literals and references alike, see [`resolved_list`]). `Ok(None)`: no element is it, and
/// every element is known; `Err`: the list is not a literal list, or an element the state does
/// not resolve might be it.
pub fn remove_resolved(
    text: &str,
    body: &hcl_edit::structure::Body,
    key: &str,
    refs: &Refs,
    value: &str,
) -> std::result::Result<Option<TextEdit>, Unresolved> {
    let elements = resolved_list(body, key, refs).map_err(|at| {
        (
            at,
            "the list is not written as ids and references the state resolves",
        )
    })?;
    let spans: Vec<std::ops::Range<usize>> = elements.iter().map(|(_, s)| s.clone()).collect();
    match elements
        .iter()
        .position(|(v, _)| v.as_deref() == Some(value))
    {
        Some(i) => Ok(Some(TextEdit {
            range: remove_element(text, &spans, i),
            with: String::new(),
        })),
        None => match elements.iter().find(|(v, _)| v.is_none()) {
            Some((_, span)) => Err((
                span.start,
                "an element is a reference the state does not resolve: which one it is cannot \
                 be told",
            )),
            None => Ok(None),
        },
    }
}

/// One drift of [`CodifyRequest::alike`]: kind, expected, actual.
pub type Alike<'a> = (crate::model::DriftKind, &'a Value, &'a Value);

/// A replacement of bytes `range` of a file by `with`: edits are made on the text itself, so
/// that everything outside them stays byte-identical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: std::ops::Range<usize>,
    pub with: String,
}

/// A resource the code lacks (`--harden`): the declared resource it belongs next to, and what
/// the family would declare.
#[derive(Debug, Clone)]
pub struct Lacking {
    /// The resource whose block the new one is written after (a bucket).
    pub by: Declarer,
    pub cloud_id: String,
    pub region: Option<String>,
    pub account: Option<String>,
    /// The type of the resource to add, as the policies name it.
    pub resource_type: &'static str,
    /// The attribute of the drift `codify` is asked to write (on `by`'s block).
    pub attribute: &'static str,
    /// What the new resource declares.
    pub item: Item,
}

/// What a declared item becomes when hardened.
#[derive(Debug, Clone, PartialEq)]
pub enum Hardened {
    /// It goes (the rule is revoked on the next apply).
    Remove,
    /// It becomes this item; `replaces`: the change replaces the resource on apply (an EBS
    /// volume encrypted).
    Replace { item: Box<Item>, replaces: bool },
}

/// A setting hardened to `value` (same name, identity and shape as the declared one).
pub fn harden_setting(item: &Item, value: Value) -> Hardened {
    let name = item.identity.clone().unwrap_or_default();
    let mut new = setting(&name, value, false);
    new.facts = Facts {
        grants: false,
        ..item.facts.clone()
    };
    Hardened::Replace {
        item: Box::new(new),
        replaces: false,
    }
}

/// `--harden` for a setting of one of `types`: `name` declared `bad` becomes `good`.
pub fn harden_value(
    item: &ExpectedItem,
    types: &[&str],
    names: &[&str],
    bad: &dyn Fn(&Value) -> bool,
    good: Value,
) -> Option<Hardened> {
    let name = item.item.identity.as_deref()?;
    let declared = item.item.value.get(name)?;
    (names.contains(&name) && types.contains(&item.by.resource_type.as_str()) && bad(declared))
        .then(|| harden_setting(&item.item, good))
}

/// What a family can write for one drift.
#[derive(Debug, Clone, PartialEq)]
pub enum Codify {
    /// These edits of the resource's file make the code say what is live.
    Edits {
        edits: Vec<TextEdit>,
        summary: String,
    },
    /// The live object is gone: the resource block goes, and Terraform forgets it without
    /// destroying anything (a `removed` block).
    RemoveResource { summary: String },
    /// The value is not a literal in this block (a variable, a local, a computed expression):
    /// what it must become, and where the expression is.
    Manual {
        offset: usize,
        reason: String,
        want: String,
    },
    /// The value is written in another block of the same module, which the attribute reads (a
    /// `data "aws_iam_policy_document"`): the same request is asked again of that block, with
    /// `resource_type` `IDENT.LABEL` (`data.aws_iam_policy_document`). `offset`: the reference.
    Elsewhere {
        ident: &'static str,
        labels: Vec<String>,
        offset: usize,
    },
    /// This family does not write this kind of drift.
    Unsupported,
}

/// The lines a block spans, to remove it whole, with the comment lines right above it; with one
/// blank line after it when a blank line (or the start of the file) is before it, so that no
/// double gap is left.
pub fn block_lines(text: &str, span: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let mut start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    // The comment lines right above the block are about it: they go with it.
    while start > 0 {
        let above = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[above..start].trim();
        if line.starts_with('#') || line.starts_with("//") {
            start = above;
        } else {
            break;
        }
    }
    let mut end = text[span.end.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    let blank = |line: &str| line.trim().is_empty();
    let before = text[..start]
        .strip_suffix('\n')
        .map(|t| t.rsplit('\n').next().unwrap_or(t));
    let after = text[end..].split_inclusive('\n').next();
    if before.is_none_or(blank) {
        if let Some(line) = after.filter(|l| blank(l) && l.ends_with('\n')) {
            end += line.len();
        } else if let Some(gap) =
            before.filter(|_| after.is_none_or(|l| l.trim_start().starts_with('}')))
        {
            // The last block before a closing brace: the blank line above it goes instead.
            start -= gap.len() + 1;
        }
    }
    start..end
}

/// The edit that removes whole the block (or attribute) spanning `span` of `text`: its
/// [`block_lines`].
pub fn remove_lines(text: &str, span: std::ops::Range<usize>) -> TextEdit {
    TextEdit {
        range: block_lines(text, span),
        with: String::new(),
    }
}

/// The edit that writes a nested block as the last thing in `block`, a block of `text`: `lines`
/// are the new block's lines indented relative to it (`grant {`, `  permission = "READ"`, `}`),
/// written at the indentation of the block's own content with the file's line endings, after a
/// blank line unless the block holds nothing else. `Err`: why it cannot be placed.
pub fn append_block(
    text: &str,
    block: &hcl_edit::structure::Block,
    lines: &[String],
) -> std::result::Result<TextEdit, &'static str> {
    use hcl_edit::Span;
    let span = block.span().ok_or("the block has no position")?;
    let close = span.end.saturating_sub(1);
    if text.get(close..span.end) != Some("}") {
        return Err("the block does not end with `}`");
    }
    let line = text[..close].rfind('\n').map_or(0, |i| i + 1);
    if line <= span.start || !text[line..close].trim().is_empty() {
        return Err("the block closes on a line with other content");
    }
    let outer = &text[line..close];
    let inner = block
        .body
        .iter()
        .next()
        .and_then(|s| s.span())
        .map(|s| {
            let l = text[..s.start].rfind('\n').map_or(0, |i| i + 1);
            text[l..s.start].to_string()
        })
        .filter(|i| i.trim().is_empty())
        .unwrap_or_else(|| format!("{outer}  "));
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let gap = if text[..line].trim_end_matches(['\r', '\n']).ends_with('{') {
        ""
    } else {
        nl
    };
    let mut with = gap.to_string();
    for l in lines {
        with.push_str(&format!("{inner}{l}{nl}"));
    }
    Ok(TextEdit {
        range: line..line,
        with,
    })
}

/// The edit that makes attribute `key` of a block (its `body`, starting at byte `start`) say
/// `value` (an HCL literal): its literal replaced, or a line added at the top of the block when
/// the attribute is absent. `Err(offset)`: the attribute is an expression, not a literal.
pub fn attribute_edit(
    body: &hcl_edit::structure::Body,
    start: usize,
    text: &str,
    key: &str,
    value: &str,
) -> std::result::Result<TextEdit, usize> {
    use hcl_edit::expr::Expression as E;
    use hcl_edit::Span;
    if let Some(attr) = body.get_attribute(key) {
        let span = attr.value.span().ok_or(start)?;
        return match &attr.value {
            // A literal list is replaced whole only by `codify_list`, which checked its elements.
            E::Bool(_) | E::Number(_) | E::String(_) | E::Array(_) => Ok(TextEdit {
                range: span,
                with: value.to_string(),
            }),
            _ => Err(span.start),
        };
    }
    let open = text[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .ok_or(start)?;
    // The line after the opening brace is inside the block only when the block does not close
    // on its first line (`resource "x" "y" {}` would put the attribute outside it).
    let first = &text[start..open];
    if !first.contains('{') || first.contains('}') {
        return Err(start);
    }
    // The indentation of the block's first attribute, and the file's line endings.
    let indent = body
        .attributes()
        .next()
        .and_then(|a| a.span())
        .map(|s| {
            let line = text[..s.start].rfind('\n').map_or(0, |i| i + 1);
            text[line..s.start].to_string()
        })
        .filter(|i| i.trim().is_empty())
        .unwrap_or_else(|| "  ".into());
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    Ok(TextEdit {
        range: open..open,
        with: format!("{indent}{key} = {value}{nl}"),
    })
}

/// The edit that makes a flat attribute of the resource block say `value`; a value that is not
/// a literal is manual.
pub fn set_attribute(r: &CodifyRequest, key: &str, value: &str) -> Codify {
    set_attribute_in(r, r.block, key, value)
}

/// [`set_attribute`] in `block`, the resource block or a block nested in it.
pub fn set_attribute_in(
    r: &CodifyRequest,
    block: &hcl_edit::structure::Block,
    key: &str,
    value: &str,
) -> Codify {
    use hcl_edit::Span;
    let summary = format!("{key} = {value}");
    let start = block.span().map_or(0, |s| s.start);
    match attribute_edit(&block.body, start, r.text, key, value) {
        Ok(edit) => Codify::Edits {
            edits: vec![edit],
            summary,
        },
        Err(offset) => Codify::Manual {
            offset,
            reason: match block.body.get_attribute(key) {
                Some(_) => format!("`{key}` is an expression, not a literal of this resource"),
                None => format!("the block closes on its first line: add `{key}` in it"),
            },
            want: summary,
        },
    }
}

/// Where attribute `key` of the resource block names another object (a key, a network security
/// group), the edit that makes it name `value`: by reference when the code refers to that kind
/// of object (`aws_kms_key.ebs.arn`) and one resource of the module among `types` holds `value`
/// as its `attr` (compared by `same`), else as the literal id. An expression that is neither a
/// literal nor a reference to a resource is manual.
pub fn set_id(
    r: &CodifyRequest,
    key: &str,
    value: &str,
    target: (&[&str], &str),
    same: &dyn Fn(&str, &str) -> bool,
) -> Codify {
    set_id_in(r, r.block, key, value, target, same)
}

/// [`set_id`] in `block`, the resource block or a block nested in it.
pub fn set_id_in(
    r: &CodifyRequest,
    block: &hcl_edit::structure::Block,
    key: &str,
    value: &str,
    (types, attr): (&[&str], &str),
    same: &dyn Fn(&str, &str) -> bool,
) -> Codify {
    use hcl_edit::Span;
    let literal = hcl_literal(&Value::String(value.to_string())).unwrap_or_default();
    let written = block.body.get_attribute(key).map(|a| &a.value);
    let by_reference = written
        .filter(|e| !matches!(e, hcl_edit::expr::Expression::String(_)))
        .and_then(|e| Some((resolve(e, r.refs)?, e.span()?)));
    match by_reference {
        Some((_, span)) => {
            let with = r
                .refs
                .reference_where(types, attr, &|v| same(v, value))
                .unwrap_or(literal);
            Codify::Edits {
                summary: format!("{key} = {with}"),
                edits: vec![TextEdit { range: span, with }],
            }
        }
        None => set_attribute_in(r, block, key, &literal),
    }
}

/// The edit that takes attribute `key` out of `block` with its line (and a comment after it on
/// that line). `Err(offset)`: the attribute shares its line with other code.
pub fn remove_attribute(
    text: &str,
    block: &hcl_edit::structure::Block,
    key: &str,
) -> std::result::Result<Option<TextEdit>, usize> {
    use hcl_edit::Span;
    let Some(attr) = block.body.get_attribute(key) else {
        return Ok(None);
    };
    let span = attr.span().ok_or(0usize)?;
    let line = own_line(text, &span).ok_or(span.start)?;
    Ok(Some(TextEdit {
        range: line,
        with: String::new(),
    }))
}

/// A live boolean setting the state declares otherwise (rotation turned on, a Block Public
/// Access setting turned on), written into the resource block.
pub fn codify_flag(r: &CodifyRequest, keys: &[&str]) -> Codify {
    match r.attribute {
        Some(key) if keys.contains(&key) && r.kind == crate::model::DriftKind::Changed => {
            match r.actual.get(key).and_then(Value::as_bool) {
                Some(on) => set_attribute(r, key, &on.to_string()),
                None => Codify::Unsupported,
            }
        }
        _ => Codify::Unsupported,
    }
}

/// A setting's value as an HCL literal: a bool, a number, a string (with `${` and `%{`
/// escaped, so it is not read as a template), or a list of strings. `None` for anything else.
pub fn hcl_literal(value: &Value) -> Option<String> {
    let string = |s: &str| {
        serde_json::to_string(s)
            .ok()
            .map(|q| q.replace("${", "$${").replace("%{", "%%{"))
    };
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => string(s),
        Value::Array(items) => {
            let parts: Option<Vec<String>> =
                items.iter().map(|i| i.as_str().and_then(string)).collect();
            Some(format!("[{}]", parts?.join(", ")))
        }
        _ => None,
    }
}

/// The one block at `path` (nested block names, `[]` for `block` itself) inside `block`. `Err`:
/// the manual answer, saying `want`, when a block on the way is missing or repeated (which one
/// the setting is in is then not the code's to say).
pub fn nested_block<'b>(
    block: &'b hcl_edit::structure::Block,
    path: &[&str],
    want: &str,
) -> std::result::Result<&'b hcl_edit::structure::Block, Codify> {
    use hcl_edit::Span;
    let mut block = block;
    for name in path {
        let mut nested = block.body.blocks().filter(|b| b.ident.as_str() == *name);
        match (nested.next(), nested.next()) {
            (Some(b), None) => block = b,
            (found, _) => {
                return Err(Codify::Manual {
                    offset: block.span().map_or(0, |s| s.start),
                    reason: match found {
                        None => format!("the block has no `{name}` block to write it in"),
                        Some(_) => format!("the block has several `{name}` blocks"),
                    },
                    want: want.to_string(),
                })
            }
        }
    }
    Ok(block)
}

/// The one `name` block directly in `block`, if any. `Err((offset, reason))`: a
/// `dynamic "name"` block writes it from an expression, or there are several (which one a
/// setting is in is then not the code's to say).
pub fn optional_block<'b>(
    block: &'b hcl_edit::structure::Block,
    name: &str,
) -> std::result::Result<Option<&'b hcl_edit::structure::Block>, (usize, String)> {
    use hcl_edit::Span;
    let at = |b: &hcl_edit::structure::Block| b.span().map_or(0, |s| s.start);
    let dynamic = block.body.blocks().find(|b| {
        b.ident.as_str() == "dynamic" && b.labels.first().is_some_and(|l| l.as_str() == name)
    });
    if let Some(d) = dynamic {
        return Err((at(d), format!("`{name}` is written by a `dynamic` block")));
    }
    let mut found = block.body.blocks().filter(|b| b.ident.as_str() == name);
    match (found.next(), found.next()) {
        (_, Some(second)) => Err((at(second), format!("the block has several `{name}` blocks"))),
        (one, None) => Ok(one),
    }
}

/// A live setting the state declares otherwise (public access turned off, TLS raised), written
/// into the block at `path` (nested block names, `[]` for the resource block itself) under the
/// name the block already uses among `names` (the attribute's names across provider versions,
/// newest first). The setting's value is the drift's `actual` under the newest name (or its one
/// `{name: value}` pair).
pub fn codify_setting(r: &CodifyRequest, path: &[&str], names: &[&str]) -> Codify {
    use hcl_edit::Span;
    if r.kind != crate::model::DriftKind::Changed {
        return Codify::Unsupported;
    }
    let Some(newest) = names.first() else {
        return Codify::Unsupported;
    };
    // The value under the setting's own name, else the one value of the drift.
    let Some(value) = r
        .actual
        .get(*newest)
        .or_else(|| {
            r.actual
                .as_object()
                .filter(|m| m.len() == 1)
                .and_then(|m| m.values().next())
        })
        .and_then(hcl_literal)
    else {
        return Codify::Unsupported;
    };
    let block = match nested_block(
        r.block,
        path,
        &format!("{} {newest} = {value}", path.join(" { ")),
    ) {
        Ok(b) => b,
        Err(manual) => return manual,
    };
    let key = names
        .iter()
        .find(|k| block.body.get_attribute(k).is_some())
        .or((names.len() == 1).then_some(newest));
    let Some(key) = key else {
        return Codify::Manual {
            offset: block.span().map_or(0, |s| s.start),
            reason: format!(
                "the block does not set it: add `{newest}` (`{}` on older providers)",
                names[1..].join("`, `")
            ),
            want: format!("{newest} = {value}"),
        };
    };
    let summary = format!("{key} = {value}");
    let start = block.span().map_or(0, |s| s.start);
    match attribute_edit(&block.body, start, r.text, key, &value) {
        Ok(edit) => Codify::Edits {
            edits: vec![edit],
            summary,
        },
        Err(offset) => Codify::Manual {
            offset,
            reason: match block.body.get_attribute(key) {
                Some(_) => format!("`{key}` is an expression, not a literal of this resource"),
                None => format!("the block closes on its first line: add `{key}` in it"),
            },
            want: summary,
        },
    }
}

/// The literal of an attribute of `body`: `Ok(None)` when absent, `Err(offset)` when it is an
/// expression (a variable, a local, a function call) whose value the code does not spell out.
pub fn literal(
    body: &hcl_edit::structure::Body,
    key: &str,
) -> std::result::Result<Option<Value>, usize> {
    use hcl_edit::expr::Expression as E;
    use hcl_edit::Span;
    let Some(attr) = body.get_attribute(key) else {
        return Ok(None);
    };
    let at = attr.value.span().map_or(0, |s| s.start);
    match &attr.value {
        E::Number(n) => n
            .value()
            .as_i64()
            .map(|n| Some(serde_json::json!(n)))
            .ok_or(at),
        E::String(t) => Ok(Some(serde_json::json!(t.value().as_str()))),
        E::Bool(b) => Ok(Some(serde_json::json!(*b.value()))),
        _ => Err(at),
    }
}

/// The list attribute `key` of `body` as (value, span) of each element; `Err(offset)` when it is
/// not a literal list of strings.
#[allow(clippy::type_complexity)]
pub fn literal_list(
    body: &hcl_edit::structure::Body,
    key: &str,
) -> std::result::Result<Vec<(String, std::ops::Range<usize>)>, usize> {
    use hcl_edit::expr::Expression as E;
    use hcl_edit::Span;
    let Some(attr) = body.get_attribute(key) else {
        return Ok(Vec::new());
    };
    let at = attr.value.span().map_or(0, |s| s.start);
    let E::Array(items) = &attr.value else {
        return Err(at);
    };
    items
        .iter()
        .map(|e| match (e, e.span()) {
            (E::String(t), Some(span)) => Ok((t.value().to_string(), span)),
            _ => Err(at),
        })
        .collect()
}

/// The whole line of a list element written alone on its line (with its comma and a trailing
/// comment), so that removing it takes its comment along and leaves no empty line.
fn own_line(text: &str, span: &std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
    let start = text.get(..span.start)?.rfind('\n').map_or(0, |p| p + 1);
    if !text.get(start..span.start)?.trim().is_empty() {
        return None;
    }
    let end = span.end + text.get(span.end..)?.find('\n')?;
    let rest = text.get(span.end..end)?.trim();
    let rest = rest.strip_prefix(',').unwrap_or(rest).trim();
    (rest.is_empty() || rest.starts_with('#') || rest.starts_with("//")).then_some(start..end + 1)
}

/// The edits that take every element `gone` says out of the literal list `key` of `body` (a
/// block starting at `start`): line by line where each is alone on its line, with its
/// separator when there is one, else the list written anew. `Ok(None)`: none is there;
/// `Err(offset)`: the list is not a literal.
pub fn remove_matching(
    text: &str,
    body: &hcl_edit::structure::Body,
    start: usize,
    key: &str,
    gone: &dyn Fn(&str) -> bool,
) -> std::result::Result<Option<Vec<TextEdit>>, usize> {
    let elements = literal_list(body, key)?;
    let spans: Vec<std::ops::Range<usize>> = elements.iter().map(|(_, s)| s.clone()).collect();
    let out: Vec<usize> = (0..elements.len())
        .filter(|i| gone(&elements[*i].0))
        .collect();
    let edit = |range| TextEdit {
        range,
        with: String::new(),
    };
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(match remove_elements(text, &spans, &out) {
        Some(ranges) => ranges.into_iter().map(edit).collect(),
        None => {
            let kept: Vec<String> = elements
                .iter()
                .filter(|(v, _)| !gone(v))
                .map(|(v, _)| format!("\"{v}\""))
                .collect();
            vec![attribute_edit(
                body,
                start,
                text,
                key,
                &format!("[{}]", kept.join(", ")),
            )?]
        }
    }))
}

/// The ranges that take the elements `gone` (indices, ascending) out of an HCL list with these
/// element spans: one element with [`remove_element`]; several, line by line when each is
/// alone on its line (their comments go with them). `None`: several share lines, and the list
/// must be written anew.
pub fn remove_elements(
    text: &str,
    spans: &[std::ops::Range<usize>],
    gone: &[usize],
) -> Option<Vec<std::ops::Range<usize>>> {
    match gone {
        [i] => Some(vec![remove_element(text, spans, *i)]),
        many => many
            .iter()
            .map(|i| own_line(text, spans.get(*i)?))
            .collect(),
    }
}

/// The edit that appends `value` (an HCL literal or reference) to the list `key` of `body` (a block
/// starting at `start`): on a line of its own, at the indentation of the last element, when that
/// one is alone on its line with a trailing comma; else after the last element. An absent list
/// is written with the one value. `Err(offset)`: the list is not a literal.
pub fn append_element(
    text: &str,
    body: &hcl_edit::structure::Body,
    start: usize,
    key: &str,
    value: &str,
) -> std::result::Result<TextEdit, usize> {
    // Only the elements' places matter: literals and references alike.
    let elements = resolved_list(body, key, &NO_REFS)?;
    let Some((_, last)) = elements.last() else {
        return attribute_edit(body, start, text, key, &format!("[{value}]"));
    };
    let line_start = text[..last.start].rfind('\n').map_or(0, |i| i + 1);
    let comma = text[last.end..]
        .trim_start_matches([' ', '\t'])
        .starts_with(',');
    match own_line(text, last) {
        Some(line) if comma => {
            let indent = &text[line_start..last.start];
            let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
            Ok(TextEdit {
                range: line.end..line.end,
                with: format!("{indent}{value},{nl}"),
            })
        }
        _ => Ok(TextEdit {
            range: last.end..last.end,
            with: format!(", {value}"),
        }),
    }
}

/// The bytes that remove element `i` of a list in `text` with these element spans: its line
/// when it is alone on one (a multi-line list), else the element with its separator.
pub fn remove_element(
    text: &str,
    spans: &[std::ops::Range<usize>],
    i: usize,
) -> std::ops::Range<usize> {
    match spans.get(i).and_then(|s| own_line(text, s)) {
        Some(line) => line,
        None => remove_between(spans, i),
    }
}

/// The bytes that remove entry `i` of a map or list (a `for_each` entry, a `dynamic` block's
/// element) with these spans: alone on its lines, those lines with the comment lines right
/// above it (as a block goes); else [`remove_element`].
pub fn remove_entry(
    text: &str,
    spans: &[std::ops::Range<usize>],
    i: usize,
) -> std::ops::Range<usize> {
    match spans.get(i).filter(|s| own_line(text, s).is_some()) {
        Some(span) => block_lines(text, span.clone()),
        None => remove_element(text, spans, i),
    }
}

/// The bytes that remove element `i` with the separator after it (before it, for the last):
/// what a list without trailing commas (JSON) needs.
pub fn remove_between(spans: &[std::ops::Range<usize>], i: usize) -> std::ops::Range<usize> {
    remove_all_between(spans, &[i])
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// The ranges that remove the elements `gone` (indices, ascending) of a list with these element
/// spans, each with one separator, so that a list without trailing commas (JSON) stays valid:
/// an element followed by a kept one goes up to that one's start; the run after the last kept
/// element goes from that element's end. Adjoining ranges are merged.
pub fn remove_all_between(
    spans: &[std::ops::Range<usize>],
    gone: &[usize],
) -> Vec<std::ops::Range<usize>> {
    let last_kept = (0..spans.len()).rev().find(|i| !gone.contains(i));
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for &i in gone {
        let Some(span) = spans.get(i) else { continue };
        let range = match last_kept {
            None => spans[0].start..spans[spans.len() - 1].end,
            Some(k) if i < k => span.start..spans[i + 1].start,
            Some(k) => spans[k].end..span.end,
        };
        match out.last_mut() {
            Some(prev) if prev.end >= range.start => prev.end = prev.end.max(range.end),
            _ => out.push(range),
        }
    }
    out
}

/// The edits that make the literal list `key` of the resource block hold `live` (a firewall's
/// ranges narrowed by hand): elements gone live are removed where they are written, in their
/// order; when an element is only live, the list is written anew as live holds it. A list that
/// is not a literal is manual.
pub fn codify_list(r: &CodifyRequest, key: &str, live: &[String]) -> Codify {
    codify_list_in(r, r.block, key, live, &|v| v.to_string())
}

/// [`codify_list`] for the list `key` of `block` (the resource block or one nested in it), with
/// elements compared as `canon` reads them (`1.2.3.4` and `1.2.3.4/32`, `Logging` and
/// `logging`). `live` is in the form the code is to say; the code's own elements stay as written.
pub fn codify_list_in(
    r: &CodifyRequest,
    block: &hcl_edit::structure::Block,
    key: &str,
    live: &[String],
    canon: &dyn Fn(&str) -> String,
) -> Codify {
    use hcl_edit::Span;
    let start = block.span().map_or(0, |s| s.start);
    let want = format!("{key} = [{}]", live.join(", "));
    let elements = match literal_list(&block.body, key) {
        Ok(e) => e,
        Err(offset) => {
            return Codify::Manual {
                offset,
                reason: format!("`{key}` is an expression, not a literal list of this resource"),
                want,
            }
        }
    };
    let spans: Vec<std::ops::Range<usize>> = elements.iter().map(|(_, s)| s.clone()).collect();
    let live_canon: Vec<String> = live.iter().map(|v| canon(v)).collect();
    let code_canon: Vec<String> = elements.iter().map(|(v, _)| canon(v)).collect();
    let kept = code_canon.iter().filter(|v| live_canon.contains(v)).count();
    let added = live_canon
        .iter()
        .filter(|v| !code_canon.contains(v))
        .count();
    if elements.is_empty() || kept == 0 || added > 0 {
        // Nothing of the code's list stays, or something is new: the list is written whole.
        let list: Vec<String> = live.iter().map(|v| format!("\"{v}\"")).collect();
        return match attribute_edit(
            &block.body,
            start,
            r.text,
            key,
            &format!("[{}]", list.join(", ")),
        ) {
            Ok(edit) => Codify::Edits {
                edits: vec![edit],
                summary: want,
            },
            Err(offset) => Codify::Manual {
                offset,
                reason: format!("`{key}` is not a literal"),
                want,
            },
        };
    }
    // Each run of removed elements goes with its separators, up to the next kept element (or,
    // at the end of the list, from the kept element before it): runs never overlap.
    let gone = |i: usize| !live_canon.contains(&code_canon[i]);
    let mut edits = Vec::new();
    let mut i = 0;
    while i < elements.len() {
        if !gone(i) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < elements.len() && gone(j + 1) {
            j += 1;
        }
        // Elements alone on their lines go line by line; others with their separators.
        let lines: Option<Vec<std::ops::Range<usize>>> =
            (i..=j).map(|k| own_line(r.text, &spans[k])).collect();
        let ranges = match lines {
            Some(lines) => lines,
            None => vec![match (spans.get(j + 1), i.checked_sub(1)) {
                (Some(next), _) => spans[i].start..next.start,
                (None, Some(prev)) => spans[prev].end..spans[j].end,
                (None, None) => spans[i].start..spans[j].end,
            }],
        };
        for range in ranges {
            edits.push(TextEdit {
                range,
                with: String::new(),
            });
        }
        i = j + 1;
    }
    Codify::Edits {
        edits,
        summary: want,
    }
}

/// A family's logic. New per-family pieces (a fix written into HCL, exposure, reading the view
/// from a plan or an AWS Config item) join as methods here, with a default for families that do
/// not have them yet, so each family's knowledge stays in its one file.
pub trait Family: Send + Sync {
    fn about(&self) -> &'static About;
    /// The security view of every object the given resources (all of this family's types) manage.
    fn expected(&self, resources: &[&Resource]) -> Result<Vec<ExpectedObject>>;
    /// Reads the objects with these ids in one region (Azure and Google Cloud read by full
    /// resource id and take the region for display only). Ids that do not exist are absent from
    /// the result (they are reported as missing); anything that prevents knowing is an error.
    fn fetch<'a>(
        &'a self,
        clouds: &'a Clouds,
        region: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<LiveObject>>>;
    /// The effect of one slot changing from `expected` to `actual`.
    fn effect_of_change(&self, _attribute: &str, _expected: &Item, _actual: &Item) -> Effect {
        Effect::Unknown
    }
    /// The effect of a live item no resource declares: an allow allows more, a deny less. A
    /// family whose items only add to what others already allow says so here (an attached
    /// security group that allows nothing its object's declared groups do not).
    fn effect_of_unmanaged(
        &self,
        _expected: &ExpectedObject,
        _live: &LiveObject,
        _attribute: &str,
        item: &Item,
    ) -> Effect {
        if item.facts.grants {
            Effect::Weakens
        } else {
            Effect::Strengthens
        }
    }
    /// How reachable these drifted objects of one region are, by cloud id, with the evidence.
    /// Asked only for objects that drifted and still exist, with `--live api`; reads are
    /// batched over the objects and counted like any read, and a read that fails is an error
    /// (policies may match on exposure). An object left out is `unknown`: the default, for
    /// families whose objects are not reached over a network (a KMS key's rotation, a disk's
    /// encryption).
    fn exposure<'a>(
        &'a self,
        _clouds: &'a Clouds,
        _region: &'a str,
        _objects: &'a [Subject<'a>],
    ) -> BoxFuture<'a, Result<BTreeMap<String, Reach>>> {
        Box::pin(async { Ok(BTreeMap::new()) })
    }
    /// The live view of objects as a plan's refresh read them (`--live plan`), from the
    /// refreshed resources of this family's types: see [`refreshed_view`].
    fn live_from_refresh(&self, resources: &[&Resource]) -> Result<Vec<LiveObject>> {
        refreshed_view(self, resources)
    }
    /// Where AWS Config holds the item of the object with this cloud id, for
    /// `--aws-source config:…`; `None`: read directly under that source too.
    fn config_ref(&self, _cloud_id: &str) -> Option<ConfigRef> {
        None
    }
    /// The live view of the objects with these cloud ids from their configuration items. Only
    /// asked of families with a [`Family::config_ref`]; an item that does not hold what the view
    /// needs is an error, never an object without those items. An id left out of the answer
    /// is read directly.
    fn live_from_config(&self, _ids: &[String], _items: &[ConfigItem]) -> Result<FromConfig> {
        Ok(FromConfig::default())
    }
    /// The edit of the declaring block that codifies this drift (`driftgate fix`).
    fn codify(&self, _request: &CodifyRequest) -> Codify {
        Codify::Unsupported
    }
    /// `driftgate fix --harden`: what a declared item of `object` becomes under the well-known
    /// hardening patterns (admin ports from the internet, rotation off, public access on), also
    /// where nothing drifted; `None`: fine as declared. `admin`: the CIDR that admin access is
    /// narrowed to instead of removed. The change is then written by [`Family::codify`], as
    /// if it had been made live.
    fn harden(
        &self,
        _object: &ExpectedObject,
        _item: &ExpectedItem,
        _admin: Option<&str>,
    ) -> Option<Hardened> {
        None
    }
    /// `driftgate fix --harden` for what the code lacks: resources of this family that should
    /// exist next to other declared resources (the checked `resources`, and every family's
    /// `objects`), such as a bucket's Block Public Access. Written by this family's `codify` on
    /// the declaring block of `by`.
    fn harden_missing(
        &self,
        _resources: &[&Resource],
        _objects: &[&ExpectedObject],
    ) -> Vec<Lacking> {
        Vec::new()
    }
    /// The effect of a declared item absent live: a missing allow allows less, a missing deny
    /// more. A family whose items decide which of the live object's other rules apply says so
    /// here (a network tag a deny firewall targets).
    fn effect_of_missing(
        &self,
        _expected: &ExpectedObject,
        _live: &LiveObject,
        _attribute: &str,
        item: &Item,
    ) -> Effect {
        if item.facts.grants {
            Effect::Strengthens
        } else {
            Effect::Weakens
        }
    }
}

/// The live view of the objects these refreshed resources describe: each resource's own view
/// (as `expected` makes it of that resource alone). Where a resource manages the object as a
/// whole, its refreshed attributes hold every live item, including those that separate resources
/// manage (a group's `ingress` lists the rule resources' rules too: the provider refreshes it
/// from the API), so it alone speaks for the object; otherwise the separate resources' items
/// together do.
pub fn refreshed_view<F: Family + ?Sized>(
    family: &F,
    resources: &[&Resource],
) -> Result<Vec<LiveObject>> {
    // cloud id → (owned by a whole-object resource, items)
    let mut by_id: BTreeMap<String, (bool, LiveObject)> = BTreeMap::new();
    for r in resources {
        for obj in family.expected(&[r])? {
            let owned = obj.owner.is_some();
            let items: Vec<(&'static str, Item)> = obj
                .items
                .into_iter()
                .map(|e| (e.attribute, e.item))
                .collect();
            let entry = by_id.entry(obj.cloud_id.clone()).or_insert_with(|| {
                (
                    owned,
                    LiveObject {
                        cloud_id: obj.cloud_id.clone(),
                        items: Vec::new(),
                        is_default: obj.is_default,
                    },
                )
            });
            match (entry.0, owned) {
                // A separate resource beside the owner: the owner's copy already holds its item.
                (true, false) => {}
                // The owner after separate resources: its view replaces theirs.
                (false, true) => {
                    *entry = (
                        true,
                        LiveObject {
                            cloud_id: obj.cloud_id.clone(),
                            items,
                            is_default: obj.is_default,
                        },
                    )
                }
                _ => entry.1.items.extend(items),
            }
        }
    }
    Ok(by_id.into_values().map(|(_, o)| o).collect())
}

/// The state resources of `resources` that this family reads.
pub fn resources_of<'r>(family: &dyn Family, resources: &'r [Resource]) -> Vec<&'r Resource> {
    let types = family.about().resource_types;
    resources
        .iter()
        .filter(|r| types.contains(&r.resource_type.as_str()))
        .collect()
}

/// The drifts of the one object `state` declares against a live view, for unit tests.
#[cfg(test)]
pub(crate) fn drifts_against(
    family: &dyn Family,
    state: &Resource,
    live: Vec<(&'static str, Item)>,
) -> Vec<crate::model::Drift> {
    let objs = family.expected(&[state]).unwrap();
    let live = LiveObject {
        cloud_id: objs[0].cloud_id.clone(),
        items: live,
        is_default: false,
    };
    crate::diff::compare(family, &objs[0], "test-region", Some(&live))
}

/// An error about a state resource, naming its address and state files.
pub fn bad(r: &Resource, msg: &str) -> crate::error::Error {
    crate::error::Error::new(
        format!("{} (state {})", r.address, r.sources.join(", ")),
        msg.to_string(),
    )
}

pub use crate::model::arn_region_account;

/// `tags` of a resource as plain strings (`tags_all` includes provider default tags).
pub fn tags_of(r: &Resource) -> BTreeMap<String, String> {
    let tags = r.attr("tags_all").or_else(|| r.attr("tags"));
    tags.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

// ---- Normalization shared by every cloud ----

/// Integers appear as numbers, and in some old states as strings.
pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list attribute of strings; `null` and missing are empty; empty strings are skipped
/// (the provider writes `""` for "not set").
pub fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// When separate resources manage an attribute of an object (a direction of a security group or
/// ACL, an NSG's rules, a storage account's network rules, a key vault's access policies), the
/// owner's inline copy in the state is not configuration but the provider's copy of the live
/// items at the last refresh (the attribute is optional and computed). That copy goes stale when a rule
/// resource is destroyed, and it absorbs console rules on the next apply; so for that direction
/// the rule resources alone say what is expected. (Mixing inline blocks and rule resources in one
/// direction is unsupported by the provider, which fights itself on every apply.)
pub fn drop_computed_inline(mut obj: ExpectedObject) -> ExpectedObject {
    let separate: Vec<&'static str> = obj
        .items
        .iter()
        .filter(|i| !i.by.inline)
        .map(|i| i.attribute)
        .collect();
    obj.items
        .retain(|i| !(i.by.inline && separate.contains(&i.attribute)));
    obj
}

/// The first element of a nested block (`settings[0]`), Terraform's shape for single blocks.
pub fn block(v: Option<&Value>) -> Option<&Value> {
    v.and_then(Value::as_array).and_then(|a| a.first())
}

/// One named setting as an item (`min_tls_version = "TLS1_2"`). `weak`: this value lets access
/// through or turns a protection off; [`setting_effect`] judges a change by it.
pub fn setting(name: &str, value: Value, weak: bool) -> Item {
    let key = match &value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Item {
        identity: Some(name.to_string()),
        summary: format!("{name} = {key}"),
        key,
        value: serde_json::json!({ name: value }),
        facts: Facts {
            grants: weak,
            direction: None,
            ports: vec![],
            cidrs: vec![],
            labels: vec![],
        },
    }
}

/// A list-valued setting (allowed IP ranges, subnet ids) compared as a set; `weak`: the list
/// widens access (an allow-list that applies), so growing it weakens.
pub fn set_setting(name: &str, mut values: Vec<String>, weak: bool) -> Item {
    values.sort();
    values.dedup();
    let mut item = setting(name, serde_json::json!(values), weak);
    item.summary = format!("{name} = [{}]", values.join(", "));
    item
}

/// What an object's live inbound rules admit, judged by their sources: the whole internet
/// (`0.0.0.0/0`, `::/0`), named ranges outside private networks (and prefix lists, which name
/// such ranges, as do service tags other than `Internet`), or private ranges and other groups
/// only. `None`: they admit nothing. Shared by every cloud's network rules (security groups,
/// ACLs, NSGs, firewalls): their inbound allow items carry `direction: ingress`.
pub fn inbound_admits(items: &[(&'static str, Item)]) -> Option<(Exposure, String)> {
    let inbound: Vec<&Item> = items
        .iter()
        .filter(|(_, i)| i.facts.direction == Some("ingress") && i.facts.grants)
        .map(|(_, i)| i)
        .collect();
    if inbound.is_empty() {
        return None;
    }
    let list = |rules: Vec<&Item>| {
        let mut s: Vec<String> = rules.iter().map(|i| i.summary.clone()).collect();
        s.sort();
        s.dedup();
        let more = s.len().saturating_sub(3);
        s.truncate(3);
        if more > 0 {
            s.push(format!("{more} more"));
        }
        s.join(", ")
    };
    let open: Vec<&Item> = inbound
        .iter()
        .copied()
        .filter(|i| i.facts.open_to_internet())
        .collect();
    if !open.is_empty() {
        return Some((
            Exposure::Internet,
            format!("its inbound rules admit the internet ({})", list(open)),
        ));
    }
    let outside: Vec<&Item> = inbound
        .iter()
        .copied()
        .filter(|i| {
            i.facts.cidrs.iter().any(|c| !is_private_cidr(c))
                || i.value.get("prefix_list_id").is_some()
        })
        .collect();
    if !outside.is_empty() {
        return Some((
            Exposure::Restricted,
            format!(
                "its inbound rules admit only named ranges outside private networks ({})",
                list(outside)
            ),
        ));
    }
    Some((
        Exposure::Private,
        format!(
            "its inbound rules admit only private ranges and security groups ({})",
            list(inbound)
        ),
    ))
}

/// The reach of an object on the internet's path (`paths`: how, one sentence each) given what
/// its inbound rules admit; of one that is not on it, private (`not_public` says why).
pub fn reach_by_paths(
    paths: &[String],
    admits: Option<(Exposure, String)>,
    not_public: String,
) -> Reach {
    let Some(first) = paths.first() else {
        return Reach::new(Exposure::Private, not_public);
    };
    let mut lead = first.clone();
    if paths.len() > 1 {
        lead.push_str(&format!(" (and {} more such path(s))", paths.len() - 1));
    }
    let (exposure, why) = admits.unwrap_or((
        Exposure::Private,
        "its inbound rules admit nothing".to_string(),
    ));
    Reach {
        exposure,
        reasons: vec![lead, why],
    }
}

/// The live item of a named setting (`network_rules.default_action`).
pub fn live_setting<'a>(items: &'a [(&'static str, Item)], name: &str) -> Option<&'a Item> {
    items
        .iter()
        .map(|(_, i)| i)
        .find(|i| i.identity.as_deref() == Some(name))
}

/// The values of a list setting made by [`set_setting`].
pub fn setting_values(item: &Item) -> Vec<String> {
    item.value
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The effect of a setting changing: to a weak value weakens, from one strengthens. For list
/// settings, a strict superset of an allow-list weakens and a subset strengthens.
pub fn setting_effect(expected: &Item, actual: &Item) -> Effect {
    match (expected.facts.grants, actual.facts.grants) {
        (false, true) => return Effect::Weakens,
        (true, false) => return Effect::Strengthens,
        _ => {}
    }
    let list = |i: &Item| -> Option<BTreeSet<String>> {
        i.value.as_object()?.values().next()?.as_array().map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    };
    match (list(expected), list(actual)) {
        (Some(e), Some(a)) if expected.facts.grants && a.is_superset(&e) && a != e => {
            Effect::Weakens
        }
        (Some(e), Some(a)) if expected.facts.grants && a.is_subset(&e) && a != e => {
            Effect::Strengthens
        }
        _ => Effect::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ports;

    #[test]
    fn arn_parts() {
        assert_eq!(
            arn_region_account("arn:aws:ec2:eu-west-3:047081014315:security-group/sg-9e0204ff"),
            Some((Some("eu-west-3".into()), Some("047081014315".into())))
        );
        assert_eq!(
            arn_region_account("arn:aws:iam::123456789012:role/x"),
            Some((None, Some("123456789012".into())))
        );
        assert_eq!(arn_region_account("sg-1"), None);
    }

    #[test]
    fn port_coverage() {
        assert!(Ports::All.includes(22));
        assert!(Ports::Range(0, 65535).includes(3389));
        assert!(!Ports::Range(80, 443).includes(22));
        assert!(!Ports::None.includes(22));
    }
}

#[cfg(test)]
mod refs_tests {
    use super::*;

    #[test]
    fn references_read_through_the_state_of_their_module() {
        let resources = [
            Resource::for_test(
                "module.edge.aws_security_group.web",
                "aws_security_group",
                serde_json::json!({"id": "sg-web"}),
            ),
            Resource::for_test(
                "aws_security_group.web",
                "aws_security_group",
                serde_json::json!({"id": "sg-root"}),
            ),
            Resource::for_test(
                "module.edge.aws_security_group.each[\"a\"]",
                "aws_security_group",
                serde_json::json!({"id": "sg-a"}),
            ),
        ];
        let refs = Refs {
            module: "module.edge.".into(),
            resources: &resources,
        };
        assert_eq!(
            refs.value("aws_security_group.web.id").as_deref(),
            Some("sg-web")
        );
        assert_eq!(refs.value("aws_security_group.gone.id"), None);
        assert_eq!(
            refs.reference_to("sg-web", &["aws_security_group"], "id")
                .as_deref(),
            Some("aws_security_group.web.id")
        );
        // An instance of a `for_each` is chosen by expression: never written as a reference.
        assert_eq!(
            refs.reference_to("sg-a", &["aws_security_group"], "id"),
            None
        );
        // The one instance of a `count` switch is `[0]`; one of several is not named.
        let counted = [
            Resource::for_test(
                "module.edge.aws_security_group.one[0]",
                "aws_security_group",
                serde_json::json!({"id": "sg-one"}),
            ),
            Resource::for_test(
                "module.edge.aws_security_group.two[0]",
                "aws_security_group",
                serde_json::json!({"id": "sg-two0"}),
            ),
            Resource::for_test(
                "module.edge.aws_security_group.two[1]",
                "aws_security_group",
                serde_json::json!({"id": "sg-two1"}),
            ),
        ];
        let counted = Refs {
            module: "module.edge.".into(),
            resources: &counted,
        };
        assert_eq!(
            counted
                .reference_to("sg-one", &["aws_security_group"], "id")
                .as_deref(),
            Some("aws_security_group.one[0].id")
        );
        assert_eq!(
            counted.value("aws_security_group.one[0].id").as_deref(),
            Some("sg-one")
        );
        assert_eq!(
            counted.reference_to("sg-two0", &["aws_security_group"], "id"),
            None
        );
        let text = "resource \"x\" \"y\" {\n  groups = [\"sg-1\", aws_security_group.web.id, aws_security_group.gone.id]\n  one    = aws_security_group.web.id\n  two    = var.x\n}\n";
        let body = hcl_edit::parser::parse_body(text).unwrap();
        let block = body.blocks().next().unwrap();
        let got: Vec<Option<String>> = resolved_list(&block.body, "groups", &refs)
            .unwrap()
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert_eq!(got, [Some("sg-1".into()), Some("sg-web".into()), None]);
        assert_eq!(
            resolved_value(&block.body, "one", &refs),
            Ok(Some("sg-web".into()))
        );
        assert!(resolved_value(&block.body, "two", &refs).is_err());
        assert_eq!(resolved_value(&block.body, "absent", &refs), Ok(None));
        // The element the state does not resolve might be the one: not guessed.
        assert!(remove_resolved(text, &block.body, "groups", &refs, "sg-other").is_err());
        let edit = remove_resolved(text, &block.body, "groups", &refs, "sg-web")
            .unwrap()
            .unwrap();
        let mut out = text.to_string();
        out.replace_range(edit.range, &edit.with);
        assert!(
            out.contains("groups = [\"sg-1\", aws_security_group.gone.id]"),
            "{out}"
        );
    }
}
