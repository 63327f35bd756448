//! State input: turns state files into a [`Snapshot`], a flat list of managed resource instances
//! with Terraform addresses. Knows nothing about clouds or policies.
//!
//! Accepted: state format v4 (Terraform 0.12 through 1.x, as `terraform state pull` prints it) and
//! `terraform show -json` output of a state or a plan (detected by its `format_version`).

pub mod remote;
pub mod s3;
mod show_json;
mod v4;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde_json::Value;

use crate::error::{Error, Result};

/// One managed resource instance from a state.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Terraform's own address: `module.edge.aws_security_group.this["web"]`.
    pub address: String,
    pub resource_type: String,
    /// The provider configuration address as the state records it.
    pub provider: String,
    pub attributes: Value,
    /// Attribute paths marked sensitive, dotted (`master_password`, `settings.0.secret`).
    /// Values under these paths are never printed.
    pub sensitive_paths: Vec<String>,
    /// Labels of the state sources that contain this instance.
    pub sources: Vec<String>,
}

impl Resource {
    /// A resource of one state (`s`) and one provider configuration (`p`), for unit tests.
    #[cfg(test)]
    pub(crate) fn for_test(address: &str, resource_type: &str, attributes: Value) -> Resource {
        Resource {
            address: address.into(),
            resource_type: resource_type.into(),
            provider: "p".into(),
            attributes,
            sensitive_paths: vec![],
            sources: vec!["s".into()],
        }
    }

    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name).filter(|v| !v.is_null())
    }

    pub fn attr_str(&self, name: &str) -> Option<&str> {
        self.attr(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn is_sensitive(&self, attribute: &str) -> bool {
        self.sensitive_paths
            .iter()
            .any(|p| p == attribute || p.starts_with(&format!("{attribute}.")))
    }
}

/// Where one state came from and what it said about itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StateSource {
    pub label: String,
    pub format: &'static str,
    pub terraform_version: Option<String>,
    pub serial: Option<u64>,
    pub lineage: Option<String>,
    pub resources: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub sources: Vec<StateSource>,
    pub resources: Vec<Resource>,
    /// What the plans' refresh read (their `prior_state` as it is), for `--live plan`.
    pub refreshed: Vec<Resource>,
    /// Labels of the sources that are not plans (and so have no refreshed values).
    pub not_plans: Vec<String>,
    /// The AWS account of each of `resources` (same order) as its state tells it
    /// ([`aws_accounts`]); `None` where it does not.
    pub accounts: Vec<Option<String>>,
}

impl Snapshot {
    /// Adds the resources of one parsed state. An instance that already came from another state
    /// (same address, same cloud id) is kept once with both sources: the same estate read twice
    /// must not double its drift. Same address with another id (two workspaces) stays separate,
    /// and so does the same address and id in another AWS account: one root module applied in
    /// every account names its IAM roles alike, and merging them would leave all but one
    /// unchecked.
    fn merge(&mut self, source: StateSource, resources: Vec<Resource>) {
        let accounts = aws_accounts(&resources);
        let mut index: BTreeMap<(String, Option<String>), Vec<usize>> = BTreeMap::new();
        for (i, r) in self.resources.iter().enumerate() {
            index
                .entry((r.address.clone(), id_of(r)))
                .or_default()
                .push(i);
        }
        for (r, account) in resources.into_iter().zip(accounts) {
            let key = (r.address.clone(), id_of(&r));
            // Merged with the instance of the same account, or of an account one side cannot
            // tell; of several candidates in other accounts, none is picked.
            let same = index.get(&key).and_then(|seen| {
                let known = |i: &usize| self.accounts[*i].as_ref();
                let fits: Vec<usize> = seen
                    .iter()
                    .copied()
                    .filter(|i| {
                        known(i).is_none() || account.is_none() || known(i) == account.as_ref()
                    })
                    .collect();
                match (fits.as_slice(), &account) {
                    ([only], _) => Some(*only),
                    (_, Some(a)) => seen.iter().copied().find(|i| known(i) == Some(a)),
                    _ => None,
                }
            });
            match same {
                Some(i) => {
                    let existing = &mut self.resources[i];
                    for s in r.sources {
                        if !existing.sources.contains(&s) {
                            existing.sources.push(s);
                        }
                    }
                    if self.accounts[i].is_none() {
                        self.accounts[i] = account;
                    }
                }
                None => {
                    index.entry(key).or_default().push(self.resources.len());
                    self.resources.push(r);
                    self.accounts.push(account);
                }
            }
        }
        self.sources.push(source);
    }
}

fn id_of(r: &Resource) -> Option<String> {
    r.attr_str("id").map(str::to_string)
}

/// The AWS account of each resource of one state: its ARN's or its `owner_id`, else the one
/// account the other resources of its provider configuration record (`None`: unknown, or
/// several).
pub fn aws_accounts(resources: &[Resource]) -> Vec<Option<String>> {
    let own: Vec<Option<String>> = resources.iter().map(own_account).collect();
    let mut by_config: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for (r, account) in resources.iter().zip(&own) {
        if let Some(a) = account {
            for s in &r.sources {
                by_config
                    .entry((s.as_str(), r.provider.as_str()))
                    .or_default()
                    .insert(a.as_str());
            }
        }
    }
    resources
        .iter()
        .zip(&own)
        .map(|(r, account)| {
            account.clone().or_else(|| {
                let known: BTreeSet<&str> = r
                    .sources
                    .iter()
                    .filter_map(|s| by_config.get(&(s.as_str(), r.provider.as_str())))
                    .flatten()
                    .copied()
                    .collect();
                match known.len() {
                    1 => known.into_iter().next().map(str::to_string),
                    _ => None,
                }
            })
        })
        .collect()
}

/// A resource's own AWS account: its ARN's, else its `owner_id` (EC2 objects).
pub fn own_account(r: &Resource) -> Option<String> {
    r.attr_str("arn")
        .and_then(crate::model::arn_region_account)
        .and_then(|(_, a)| a)
        .or_else(|| {
            r.attr_str("owner_id")
                .filter(|o| o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
        })
}

/// Where one state comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Stdin,
    File(String),
    /// The S3 backend: `s3://bucket/key`, optionally `?region=eu-west-1`.
    S3 {
        url: String,
        bucket: String,
        key: String,
        region: Option<String>,
    },
    /// The gcs backend: `gs://bucket/object`, or `gs://bucket/prefix/` for `<prefix>/<workspace>.tfstate`.
    Gcs {
        url: String,
        bucket: String,
        object: String,
    },
    /// The azurerm backend: `azurerm://account/container/key`.
    AzureBlob {
        url: String,
        account: String,
        container: String,
        key: String,
    },
    /// An HCP Terraform / Terraform Enterprise workspace: `tfc://organization/workspace`.
    Hcp {
        url: String,
        organization: String,
        workspace: String,
    },
    /// Terraform's `http` backend (GitLab-managed state): an `https://` URL.
    Http {
        url: String,
    },
}

impl Location {
    /// The state's name: its path or URL (`-` for stdin).
    pub fn name(&self) -> &str {
        match self {
            Location::Stdin => "-",
            Location::File(p) => p,
            Location::S3 { url, .. }
            | Location::Gcs { url, .. }
            | Location::AzureBlob { url, .. }
            | Location::Hcp { url, .. }
            | Location::Http { url } => url,
        }
    }
}

/// `--shard K/N`: this run's share of a sweep over many states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || {
            Error::new(
                "--shard",
                format!("`{text}` is not K/N with 1 <= K <= N <= 1000 (e.g. 3/8)"),
            )
        };
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count || count > 1000 {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether a state belongs to this shard: by a hash of its name, so a state stays in its
    /// shard when others are added or removed (a CI matrix re-run checks the same states), and
    /// every state is in exactly one shard.
    pub fn holds(&self, name: &str) -> bool {
        crate::model::stable_hash(name) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// Turns `--state` arguments into locations: `-` is stdin (once), `s3://` URLs are parsed (with
/// the workspace's key when `workspace` names one other than `default`), local paths with glob
/// characters are expanded (sorted; no match is an error), other schemes are refused.
pub fn locate(
    args: &[String],
    workspace: Option<&str>,
    workspace_key_prefix: &str,
) -> Result<Vec<Location>> {
    if args.iter().filter(|p| *p == "-").count() > 1 {
        return Err(Error::new(
            "--state -",
            "standard input can be given only once",
        ));
    }
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            out.push(Location::Stdin);
        } else if let Some(rest) = arg.strip_prefix("s3://") {
            out.push(s3_location(arg, rest, workspace, workspace_key_prefix)?);
        } else if let Some(rest) = arg.strip_prefix("gs://") {
            out.push(gcs_location(arg, rest, workspace)?);
        } else if let Some(rest) = arg.strip_prefix("azurerm://") {
            out.push(azure_location(arg, rest, workspace)?);
        } else if let Some(rest) = arg.strip_prefix("tfc://") {
            out.push(hcp_location(arg, rest, workspace)?);
        } else if arg.starts_with("https://") || arg.starts_with("http://") {
            if workspace.is_some_and(|w| w != "default") {
                return Err(Error::new(
                    format!("state {arg}"),
                    "the http backend has no workspaces: give each state's own URL",
                ));
            }
            out.push(Location::Http { url: arg.clone() });
        } else if let Some((scheme, _)) = arg.split_once("://") {
            return Err(Error::new(
                format!("state {arg}"),
                format!(
                    "state backend `{scheme}://` is not supported (s3://, gs://, azurerm://, \
                     tfc:// and https:// are); pull the state first (`terraform state pull > \
                     state.json`) and pass the file"
                ),
            ));
        } else if arg.contains(['*', '?', '[']) && !std::path::Path::new(arg).exists() {
            let paths = glob::glob(arg)
                .map_err(|e| Error::new(format!("state {arg}"), format!("bad pattern: {e}")))?;
            let mut matched: Vec<String> = paths
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .map(|p| p.display().to_string())
                .collect();
            if matched.is_empty() {
                return Err(Error::new(
                    format!("state {arg}"),
                    "the pattern matches no file",
                ));
            }
            matched.sort();
            out.extend(matched.into_iter().map(Location::File));
        } else {
            out.push(Location::File(arg.clone()));
        }
    }
    Ok(out)
}

fn s3_location(arg: &str, rest: &str, workspace: Option<&str>, prefix: &str) -> Result<Location> {
    let bad = |why: &str| Error::new(format!("state {arg}"), why.to_string());
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (bucket, key) = path
        .split_once('/')
        .ok_or_else(|| bad("expected s3://BUCKET/KEY"))?;
    if bucket.is_empty() || key.is_empty() {
        return Err(bad("expected s3://BUCKET/KEY"));
    }
    let mut region = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("region", r)) if !r.is_empty() => region = Some(r.to_string()),
            _ => {
                return Err(bad(&format!(
                    "unknown parameter `{pair}` (only region=… is understood)"
                )))
            }
        }
    }
    // The S3 backend keeps non-default workspaces at <workspace_key_prefix>/<workspace>/<key>.
    let key = match workspace.filter(|w| *w != "default") {
        Some(w) => format!("{}/{w}/{key}", prefix.trim_end_matches('/')),
        None => key.to_string(),
    };
    Ok(Location::S3 {
        url: format!("s3://{bucket}/{key}"),
        bucket: bucket.to_string(),
        key,
        region,
    })
}

/// `gs://BUCKET/OBJECT`, or `gs://BUCKET/PREFIX/` where the gcs backend keeps
/// `PREFIX/<workspace>.tfstate` (`default.tfstate` without `--workspace`).
fn gcs_location(arg: &str, rest: &str, workspace: Option<&str>) -> Result<Location> {
    let bad = |why: &str| Error::new(format!("state {arg}"), why.to_string());
    let (bucket, object) = rest
        .split_once('/')
        .filter(|(b, _)| !b.is_empty())
        .ok_or_else(|| bad("expected gs://BUCKET/OBJECT or gs://BUCKET/PREFIX/"))?;
    let object = if object.is_empty() || object.ends_with('/') {
        format!("{object}{}.tfstate", workspace.unwrap_or("default"))
    } else if workspace.is_some_and(|w| w != "default") {
        return Err(bad(
            "with --workspace, give the backend's prefix ending in `/` (gs://BUCKET/PREFIX/)",
        ));
    } else {
        object.to_string()
    };
    Ok(Location::Gcs {
        url: format!("gs://{bucket}/{object}"),
        bucket: bucket.to_string(),
        object,
    })
}

/// `azurerm://ACCOUNT/CONTAINER/KEY`; the azurerm backend keeps a non-default workspace at
/// `KEYenv:<workspace>`.
fn azure_location(arg: &str, rest: &str, workspace: Option<&str>) -> Result<Location> {
    let bad = || {
        Error::new(
            format!("state {arg}"),
            "expected azurerm://STORAGE_ACCOUNT/CONTAINER/KEY",
        )
    };
    let mut parts = rest.splitn(3, '/');
    let (account, container, key) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(c), Some(k)) if !a.is_empty() && !c.is_empty() && !k.is_empty() => (a, c, k),
        _ => return Err(bad()),
    };
    let key = match workspace.filter(|w| *w != "default") {
        Some(w) => format!("{key}env:{w}"),
        None => key.to_string(),
    };
    Ok(Location::AzureBlob {
        url: format!("azurerm://{account}/{container}/{key}"),
        account: account.to_string(),
        container: container.to_string(),
        key,
    })
}

/// `tfc://ORGANIZATION/WORKSPACE`: the workspace is named in the URL, as in the `cloud` block.
fn hcp_location(arg: &str, rest: &str, workspace: Option<&str>) -> Result<Location> {
    let bad = |why: &str| Error::new(format!("state {arg}"), why.to_string());
    let (organization, name) = rest
        .split_once('/')
        .filter(|(o, w)| !o.is_empty() && !w.is_empty() && !w.contains('/'))
        .ok_or_else(|| bad("expected tfc://ORGANIZATION/WORKSPACE"))?;
    if workspace.is_some_and(|w| w != "default") {
        return Err(bad(
            "name the HCP Terraform workspace in the URL (tfc://ORGANIZATION/WORKSPACE), not with --workspace",
        ));
    }
    Ok(Location::Hcp {
        url: arg.to_string(),
        organization: organization.to_string(),
        workspace: name.to_string(),
    })
}

/// Where a state comes from when it is not a local file, said where one is missing or is code.
const PULL_HINT: &str = "A state kept in a backend can be saved with `terraform state pull > \
     terraform.tfstate` (or `tofu state pull`), or read directly: s3://BUCKET/KEY, gs://BUCKET/OBJECT, \
     azurerm://ACCOUNT/CONTAINER/KEY, tfc://ORGANIZATION/WORKSPACE";

/// The top-level blocks of Terraform code, in HCL or its JSON syntax (`.tf.json`).
const CODE_BLOCKS: &[&str] = &[
    "terraform",
    "provider",
    "resource",
    "data",
    "module",
    "variable",
    "output",
    "locals",
    "moved",
    "import",
    "removed",
    "check",
];

/// Is this Terraform code rather than a state? By the name (`.tf`, `.tf.json`, `.hcl`,
/// `.tfvars`) or, for text that is not JSON, by its first word being a top-level block.
fn looks_like_code(label: &str, bytes: &[u8]) -> bool {
    let name = label.to_ascii_lowercase();
    if [".tf", ".tf.json", ".hcl", ".tfvars", ".tfvars.json"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        return true;
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .and_then(|l| l.split(|c: char| c.is_whitespace() || c == '{').next())
        .unwrap_or_default();
    CODE_BLOCKS.contains(&first)
}

/// Reads a local location (file or stdin); S3 is read by [`s3::read`].
pub fn read_local(loc: &Location) -> Result<(String, Vec<u8>)> {
    match loc {
        Location::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                Error::new("state from standard input", format!("cannot read: {e}"))
            })?;
            Ok(("<stdin>".to_string(), buf))
        }
        Location::File(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    format!("no such file. {PULL_HINT}")
                } else {
                    format!("cannot read: {e}")
                };
                Error::new(format!("state {path}"), why)
            })?;
            Ok((path.clone(), bytes))
        }
        Location::S3 { url, .. }
        | Location::Gcs { url, .. }
        | Location::AzureBlob { url, .. }
        | Location::Hcp { url, .. }
        | Location::Http { url } => Err(Error::new(format!("state {url}"), "not a local state")),
    }
}

/// Parses states that were read, as (label, bytes), into one snapshot. Only resources whose type
/// `keep` accepts keep their attributes; the others keep their id, ARN and region.
pub fn load(inputs: Vec<(String, Vec<u8>)>, keep: &dyn Fn(&str) -> bool) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    for (label, bytes) in inputs {
        let (source, resources, refreshed) = parse_document(&label, &bytes, keep)?;
        match refreshed {
            Some(r) => snapshot.refreshed.extend(r),
            None => snapshot.not_plans.push(label.clone()),
        }
        snapshot.merge(source, resources);
    }
    Ok(snapshot)
}

/// Parses one state document with every resource's attributes; `label` names it in errors.
pub fn parse(label: &str, bytes: &[u8]) -> Result<(StateSource, Vec<Resource>)> {
    parse_filtered(label, bytes, &|_| true)
}

/// The top-level fields that tell which kind of document this is. Deserializing only these
/// skips the (possibly huge) rest without building it.
#[derive(serde::Deserialize)]
struct Header {
    version: Option<Value>,
    format_version: Option<Value>,
}

pub fn parse_filtered(
    label: &str,
    bytes: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<(StateSource, Vec<Resource>)> {
    parse_document(label, bytes, keep).map(|(source, resources, _)| (source, resources))
}

/// One state document; for a plan also the values its refresh read.
fn parse_document(
    label: &str,
    bytes: &[u8],
    keep: &dyn Fn(&str) -> bool,
) -> Result<(StateSource, Vec<Resource>, Option<Vec<Resource>>)> {
    let err = |msg: String| Error::new(format!("state {label}"), msg);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(err(
            "the file is empty; expected a Terraform state (format version 4)".into(),
        ));
    }
    let code = || {
        err(format!(
            "this is Terraform code, not a state: driftgate reads the state Terraform records \
             (or `terraform show -json` of a state or a plan). {PULL_HINT}"
        ))
    };
    let syntax = |e: serde_json::Error| {
        if looks_like_code(label, bytes) {
            return code();
        }
        let what = if e.is_eof() {
            "the JSON ends early (truncated file?)"
        } else {
            "not valid JSON"
        };
        // serde_json's message ends with the position; say it once, in front.
        let text = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        let why = text.strip_suffix(&at).unwrap_or(&text);
        err(format!(
            "{what} at line {} column {}: {why}",
            e.line(),
            e.column()
        ))
    };
    // Derived structs also accept arrays, so look at the first character before the header.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let doc: Value = serde_json::from_slice(bytes).map_err(syntax)?;
        return Err(err(format!(
            "expected a JSON object (a Terraform state), found {}",
            json_kind(&doc)
        )));
    }
    let header: Header = serde_json::from_slice(bytes).map_err(syntax)?;
    if let Some(v) = header.format_version.as_ref().filter(|v| !v.is_string()) {
        return Err(err(format!(
            "`format_version` is {}, expected a string such as \"1.2\" (the output of \
             `terraform show -json`)",
            json_kind(v)
        )));
    }
    if header.format_version.is_some() {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| err(e.to_string()))?;
        return show_json::parse(label, &doc).map_err(err);
    }
    match header.version {
        Some(Value::Number(n)) if n.as_u64() == Some(4) => v4::parse(label, bytes, keep)
            .map(|(source, resources)| (source, resources, None))
            .map_err(err),
        Some(Value::Number(n)) => Err(err(format!(
            "state format version {n} is not supported: driftgate reads version 4, written by \
             Terraform 0.12 and later (run any `terraform` command of 0.12+ on it to upgrade)"
        ))),
        Some(other) => Err(err(format!(
            "`version` is {}, expected the number 4",
            json_kind(&other)
        ))),
        None => {
            let doc: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            let keys: Vec<&str> = doc
                .as_object()
                .map(|o| o.keys().take(6).map(String::as_str).collect())
                .unwrap_or_default();
            if looks_like_code(label, bytes)
                || (!keys.is_empty() && keys.iter().all(|k| CODE_BLOCKS.contains(k)))
            {
                return Err(code());
            }
            Err(err(format!(
                "not a Terraform state: no `version` field (top-level keys: {})",
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                }
            )))
        }
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `aws_security_group.web`, with module path and instance key in Terraform's syntax.
pub(crate) fn format_address(
    module: Option<&str>,
    resource_type: &str,
    name: &str,
    index: Option<&Value>,
) -> String {
    let mut address = String::new();
    if let Some(m) = module.filter(|m| !m.is_empty()) {
        address.push_str(m);
        address.push('.');
    }
    address.push_str(resource_type);
    address.push('.');
    address.push_str(name);
    match index {
        Some(Value::Number(n)) => address.push_str(&format!("[{n}]")),
        // Terraform quotes string keys like HCL strings; JSON escaping agrees for the characters
        // that can appear in a for_each key (quotes, backslashes, control characters).
        Some(Value::String(s)) => {
            let quoted = serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""));
            address.push_str(&format!("[{quoted}]"));
        }
        _ => {}
    }
    address
}

#[cfg(test)]
mod shard_tests {
    use super::Shard;

    #[test]
    fn every_state_in_exactly_one_shard() {
        let names: Vec<String> = (0..300)
            .map(|i| format!("states/acct-{i}/net.tfstate"))
            .collect();
        let n = 7;
        let shards: Vec<Shard> = (1..=n).map(|k| Shard { index: k, count: n }).collect();
        let mut sizes = vec![0; n as usize];
        for name in &names {
            let holders: Vec<usize> = (0..n as usize).filter(|&i| shards[i].holds(name)).collect();
            assert_eq!(holders.len(), 1, "{name}");
            sizes[holders[0]] += 1;
        }
        // Roughly even: no shard holds twice its share.
        assert!(sizes.iter().all(|&s| s > 20 && s < 86), "{sizes:?}");
        // Stable: the same name, the same shard, whatever else is swept.
        assert!(Shard { index: 3, count: 7 }.holds(&names[0]) == shards[2].holds(&names[0]));
        for bad in ["0/3", "4/3", "3", "a/b", "1/1001", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Shard::parse(" 2/8 ").unwrap(), Shard { index: 2, count: 8 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_address_in_two_accounts_is_two_resources() {
        let res = |address: &str, state: &str, provider: &str, attrs: Value| Resource {
            address: address.into(),
            resource_type: address.split('.').next().unwrap_or_default().into(),
            provider: provider.into(),
            attributes: attrs,
            sensitive_paths: vec![],
            sources: vec![state.into()],
        };
        let source = |label: &str| StateSource {
            label: label.into(),
            format: "tfstate-v4",
            terraform_version: None,
            serial: None,
            lineage: None,
            resources: 2,
        };
        let role = |state: &str, account: &str| {
            res(
                "aws_iam_role.ci",
                state,
                "p",
                json!({"id": "ci", "arn": format!("arn:aws:iam::{account}:role/ci")}),
            )
        };
        // No ARN: its account is its provider configuration's.
        let inline = |state: &str, provider: &str| {
            res(
                "aws_iam_role_policy.read",
                state,
                provider,
                json!({"id": "ci:read"}),
            )
        };
        let mut snap = Snapshot::default();
        snap.merge(
            source("prod"),
            vec![role("prod", "111111111111"), inline("prod", "p")],
        );
        snap.merge(
            source("staging"),
            vec![role("staging", "222222222222"), inline("staging", "p")],
        );
        assert_eq!(snap.resources.len(), 4);
        assert_eq!(
            snap.accounts,
            [
                Some("111111111111".to_string()),
                Some("111111111111".to_string()),
                Some("222222222222".to_string()),
                Some("222222222222".to_string())
            ]
        );
        // The same estate twice (a state and its plan): merged with its own account's.
        snap.merge(
            source("plan"),
            vec![role("plan", "222222222222"), inline("plan", "p")],
        );
        assert_eq!(snap.resources.len(), 4);
        assert_eq!(snap.resources[2].sources, ["staging", "plan"]);
        assert_eq!(snap.resources[3].sources, ["staging", "plan"]);
        // An instance whose account nothing tells, with candidates in two accounts: not merged
        // into either (a guess would leave one unchecked).
        snap.merge(source("bare"), vec![inline("bare", "q")]);
        assert_eq!(snap.resources.len(), 5);
        assert_eq!(snap.accounts[4], None);
        // An `owner_id` that is not an account id says nothing.
        let odd = res("aws_x.y", "s", "p", json!({"owner_id": "self"}));
        assert_eq!(own_account(&odd), None);
    }

    #[test]
    fn addresses_follow_terraform_syntax() {
        assert_eq!(
            format_address(
                Some("module.edge"),
                "aws_security_group",
                "this",
                Some(&json!("web"))
            ),
            r#"module.edge.aws_security_group.this["web"]"#
        );
        assert_eq!(
            format_address(None, "aws_network_acl", "private", Some(&json!(0))),
            "aws_network_acl.private[0]"
        );
        assert_eq!(
            format_address(None, "aws_network_acl", "a", Some(&json!("say \"hi\""))),
            r#"aws_network_acl.a["say \"hi\""]"#
        );
        assert_eq!(
            format_address(None, "aws_vpc", "main", None),
            "aws_vpc.main"
        );
    }

    #[test]
    fn rejects_what_is_not_a_v4_state() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "empty"),
            (b"{\"version\": 4, \"resources\": [", "truncated"),
            (b"[1,2]", "found an array"),
            (
                b"{\"version\": 3, \"modules\": []}",
                "version 3 is not supported",
            ),
            (b"{\"version\": \"4\"}", "`version` is a string"),
            (b"{\"foo\": 1}", "no `version` field (top-level keys: foo)"),
            (
                b"resource \"aws_vpc\" \"x\" {}",
                "Terraform code, not a state",
            ),
            (
                b"# network\n\nterraform {\n}\n",
                "Terraform code, not a state",
            ),
            (
                b"{\"resource\": {\"aws_vpc\": {\"x\": {}}}}",
                "Terraform code, not a state",
            ),
            (
                b"{\"version\": 4, \"resources\": [}",
                "not valid JSON at line 1 column 30: expected value",
            ),
        ];
        for (input, expected) in cases {
            let e = parse("t.tfstate", input).expect_err("must fail");
            assert!(
                e.to_string().contains(expected),
                "{e} should contain {expected}"
            );
            // The position is said once.
            assert!(e.to_string().matches(" line ").count() <= 1, "{e}");
            assert!(e.to_string().starts_with("state t.tfstate: "), "{e}");
        }
    }

    #[test]
    fn code_and_missing_files_say_what_to_give_instead() {
        let e = parse("infra/main.tf", b"x = 1\n")
            .expect_err("code")
            .to_string();
        assert!(
            e.starts_with("state infra/main.tf: this is Terraform code"),
            "{e}"
        );
        assert!(e.contains("terraform state pull"), "{e}");
        let e = read_local(&Location::File("/nonexistent/terraform.tfstate".into()))
            .expect_err("missing")
            .to_string();
        assert!(
            e.starts_with("state /nonexistent/terraform.tfstate: no such file. "),
            "{e}"
        );
        assert!(
            e.contains("terraform state pull > terraform.tfstate"),
            "{e}"
        );
    }

    #[test]
    fn locations() {
        let l = |args: &[&str], ws: Option<&str>| {
            locate(
                &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                ws,
                "env:",
            )
        };
        assert_eq!(
            l(
                &["s3://tf-state/network/terraform.tfstate?region=eu-west-1"],
                None
            )
            .unwrap(),
            [Location::S3 {
                url: "s3://tf-state/network/terraform.tfstate".into(),
                bucket: "tf-state".into(),
                key: "network/terraform.tfstate".into(),
                region: Some("eu-west-1".into())
            }]
        );
        match &l(&["s3://b/net.tfstate"], Some("prod")).unwrap()[0] {
            Location::S3 { key, url, .. } => {
                assert_eq!(key, "env:/prod/net.tfstate");
                assert_eq!(url, "s3://b/env:/prod/net.tfstate");
            }
            other => panic!("{other:?}"),
        }
        match &l(&["s3://b/net.tfstate"], Some("default")).unwrap()[0] {
            Location::S3 { key, .. } => assert_eq!(key, "net.tfstate"),
            other => panic!("{other:?}"),
        }
        for (bad, want) in [
            (&["s3://bucket"][..], "expected s3://BUCKET/KEY"),
            (&["s3://b/k?profile=x"], "unknown parameter"),
            (&["gcs://b/k"], "`gcs://` is not supported"),
            (&["gs://b"], "expected gs://BUCKET/OBJECT"),
            (&["azurerm://acct/tfstate"], "expected azurerm://"),
            (&["-", "-"], "only once"),
            (&["/nonexistent/*/x.tfstate"], "matches no file"),
        ] {
            let e = l(bad, None).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        match &l(&["gs://tf/envs/net/"], Some("prod")).unwrap()[0] {
            Location::Gcs { object, url, .. } => {
                assert_eq!(object, "envs/net/prod.tfstate");
                assert_eq!(url, "gs://tf/envs/net/prod.tfstate");
            }
            other => panic!("{other:?}"),
        }
        match &l(&["gs://tf/envs/net/"], None).unwrap()[0] {
            Location::Gcs { object, .. } => assert_eq!(object, "envs/net/default.tfstate"),
            other => panic!("{other:?}"),
        }
        assert!(l(&["gs://tf/a.tfstate"], Some("prod")).is_err());
        match &l(
            &["azurerm://acct/tfstate/net.terraform.tfstate"],
            Some("dev"),
        )
        .unwrap()[0]
        {
            Location::AzureBlob {
                account,
                container,
                key,
                ..
            } => {
                assert_eq!((account.as_str(), container.as_str()), ("acct", "tfstate"));
                assert_eq!(key, "net.terraform.tfstateenv:dev");
            }
            other => panic!("{other:?}"),
        }
        let dir = tempfile::tempdir().unwrap();
        for env in ["prod", "dev"] {
            std::fs::create_dir_all(dir.path().join(env)).unwrap();
            std::fs::write(dir.path().join(env).join("terraform.tfstate"), "{}").unwrap();
        }
        let pattern = format!("{}/*/terraform.tfstate", dir.path().display());
        let found = l(&[&pattern], None).unwrap();
        assert_eq!(found.len(), 2);
        assert!(matches!(&found[0], Location::File(p) if p.ends_with("dev/terraform.tfstate")));
    }

    #[test]
    fn unchecked_types_keep_only_their_locator() {
        let doc = br#"{"version":4,"resources":[
            {"mode":"managed","type":"aws_instance","name":"a","provider":"p","instances":[{"attributes":
              {"id":"i-1","arn":"arn:aws:ec2:eu-west-1:1:instance/i-1","user_data":"secret stuff"}}]},
            {"mode":"managed","type":"aws_security_group","name":"b","provider":"p","instances":[{"attributes":
              {"id":"sg-1","ingress":[]}}]}]}"#;
        let (_, res) = parse_filtered("s", doc, &|t| t == "aws_security_group").unwrap();
        assert_eq!(
            res[0].attributes,
            serde_json::json!({"id": "i-1", "arn": "arn:aws:ec2:eu-west-1:1:instance/i-1"})
        );
        assert_eq!(
            res[1].attributes,
            serde_json::json!({"id": "sg-1", "ingress": []})
        );
    }

    #[test]
    fn same_instance_in_two_states_is_kept_once_with_both_sources() {
        let doc = br#"{"version":4,"terraform_version":"1.5.7","serial":1,"lineage":"l","resources":[
            {"mode":"managed","type":"aws_security_group","name":"web","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances":[{"schema_version":1,"attributes":{"id":"sg-1"}}]}]}"#;
        let mut snap = Snapshot::default();
        let (s1, r1) = parse("a.tfstate", doc).unwrap();
        let (s2, r2) = parse("b.tfstate", doc).unwrap();
        snap.merge(s1, r1);
        snap.merge(s2, r2);
        assert_eq!(snap.resources.len(), 1);
        assert_eq!(snap.resources[0].sources, vec!["a.tfstate", "b.tfstate"]);
    }
}
