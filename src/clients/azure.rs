//! The Azure side of live reads: a token from `azure_identity`, chosen from the same `ARM_*`
//! variables the azurerm provider reads (so a pipeline that runs `terraform plan` can run
//! driftgate unchanged), and GETs of Azure Resource Manager objects by resource id with the
//! `api-version` each family pins.
//!
//! ARM itself is spoken over plain REST (reqwest): the generated management crates
//! (`azure_mgmt_*`) are unmaintained and tied to an old `azure_core`, and a GET by id needs no
//! more than the shared JSON client in [`crate::http`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use serde_json::Value;

use crate::clients::CallCounter;
use crate::error::{Error, Result};
use crate::http;

/// A sovereign cloud: where tokens come from and where ARM is (`ARM_ENVIRONMENT`, as the azurerm
/// provider names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Public,
    UsGovernment,
    China,
}

impl Environment {
    pub fn from_name(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "public" | "azurecloud" => Ok(Environment::Public),
            "usgovernment" | "usgovernmentcloud" | "azureusgovernment" => {
                Ok(Environment::UsGovernment)
            }
            "china" | "azurechinacloud" => Ok(Environment::China),
            other => Err(Error::new(
                "ARM_ENVIRONMENT",
                format!("unknown Azure environment `{other}`: use public, usgovernment or china"),
            )),
        }
    }

    pub fn arm(self) -> &'static str {
        match self {
            Environment::Public => "https://management.azure.com",
            Environment::UsGovernment => "https://management.usgovcloudapi.net",
            Environment::China => "https://management.chinacloudapi.cn",
        }
    }

    /// The DNS suffix of storage endpoints (`ACCOUNT.blob.SUFFIX`).
    pub fn storage_suffix(self) -> &'static str {
        match self {
            Environment::Public => "core.windows.net",
            Environment::UsGovernment => "core.usgovcloudapi.net",
            Environment::China => "core.chinacloudapi.cn",
        }
    }

    fn cloud(self) -> CloudConfiguration {
        match self {
            Environment::Public => CloudConfiguration::AzurePublic,
            Environment::UsGovernment => CloudConfiguration::AzureGovernment,
            Environment::China => CloudConfiguration::AzureChina,
        }
    }
}

/// Where the token comes from, decided from the environment alone (unit-testable; nothing is
/// contacted). The order is the azurerm provider's: client secret, OIDC, managed identity, and
/// the Azure CLI's login last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    ClientSecret {
        tenant: String,
        client: String,
    },
    Oidc {
        tenant: String,
        client: String,
        assertion: AssertionSource,
    },
    ManagedIdentity {
        client: Option<String>,
    },
    Cli {
        tenant: Option<String>,
    },
}

/// The federated token exchanged for an Entra ID token under OIDC.
#[derive(Clone, PartialEq, Eq)]
pub enum AssertionSource {
    /// `ARM_OIDC_TOKEN`.
    Token(String),
    /// `ARM_OIDC_TOKEN_FILE_PATH` / `AZURE_FEDERATED_TOKEN_FILE`: read on every exchange, since
    /// the file is rotated (Kubernetes workload identity).
    File(String),
    /// GitHub Actions: `ACTIONS_ID_TOKEN_REQUEST_URL` with its bearer token.
    GitHub { url: String, bearer: String },
}

impl std::fmt::Debug for AssertionSource {
    // Never print the tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AssertionSource::Token(_) => f.write_str("Token(…)"),
            AssertionSource::File(p) => write!(f, "File({p})"),
            AssertionSource::GitHub { url, .. } => write!(f, "GitHub({url})"),
        }
    }
}

impl Login {
    pub fn describe(&self) -> String {
        match self {
            Login::ClientSecret { client, .. } => format!("client secret of {client}"),
            Login::Oidc { client, .. } => format!("OIDC federated token for {client}"),
            Login::ManagedIdentity { client: Some(c) } => format!("managed identity {c}"),
            Login::ManagedIdentity { client: None } => "system-assigned managed identity".into(),
            Login::Cli { .. } => "Azure CLI login (az account get-access-token)".into(),
        }
    }

    /// Chooses as the azurerm provider does. `var` reads one environment variable.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let flag = |k: &str| {
            var(k).is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"))
        };
        let client = var("ARM_CLIENT_ID").or_else(|| var("AZURE_CLIENT_ID"));
        let tenant = var("ARM_TENANT_ID").or_else(|| var("AZURE_TENANT_ID"));
        let need = |what: Option<String>, name: &str, mode: &str| {
            what.ok_or_else(|| {
                Error::new(
                    "Azure credentials",
                    format!("{mode} needs {name} (as for the azurerm provider)"),
                )
            })
        };
        if let Some(_secret) = var("ARM_CLIENT_SECRET") {
            return Ok(Login::ClientSecret {
                tenant: need(tenant, "ARM_TENANT_ID", "ARM_CLIENT_SECRET")?,
                client: need(client, "ARM_CLIENT_ID", "ARM_CLIENT_SECRET")?,
            });
        }
        let oidc_token = var("ARM_OIDC_TOKEN");
        let oidc_file =
            var("ARM_OIDC_TOKEN_FILE_PATH").or_else(|| var("AZURE_FEDERATED_TOKEN_FILE"));
        if flag("ARM_USE_OIDC") || oidc_token.is_some() || oidc_file.is_some() {
            let assertion = if let Some(t) = oidc_token {
                AssertionSource::Token(t)
            } else if let Some(p) = oidc_file {
                AssertionSource::File(p)
            } else {
                let url =
                    var("ARM_OIDC_REQUEST_URL").or_else(|| var("ACTIONS_ID_TOKEN_REQUEST_URL"));
                let bearer =
                    var("ARM_OIDC_REQUEST_TOKEN").or_else(|| var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"));
                match (url, bearer) {
                    (Some(url), Some(bearer)) => AssertionSource::GitHub { url, bearer },
                    _ => {
                        return Err(Error::new(
                            "Azure credentials",
                            "ARM_USE_OIDC is set but no federated token is available: set \
                             ARM_OIDC_TOKEN or ARM_OIDC_TOKEN_FILE_PATH, or on GitHub Actions \
                             give the job `permissions: id-token: write`",
                        ))
                    }
                }
            };
            return Ok(Login::Oidc {
                tenant: need(tenant, "ARM_TENANT_ID", "OIDC")?,
                client: need(client, "ARM_CLIENT_ID", "OIDC")?,
                assertion,
            });
        }
        if flag("ARM_USE_MSI") {
            return Ok(Login::ManagedIdentity { client });
        }
        // Falling back to the CLI would read with another identity than the pipeline's.
        if var("ARM_CLIENT_CERTIFICATE_PATH").is_some() {
            return Err(Error::new(
                "Azure credentials",
                "ARM_CLIENT_CERTIFICATE_PATH is set, but driftgate does not log in with client \
                 certificates: use ARM_CLIENT_SECRET, OIDC (ARM_USE_OIDC) or a managed identity",
            ));
        }
        Ok(Login::Cli { tenant })
    }
}

/// Fetches the federated token for [`ClientAssertionCredential`].
struct Assertion {
    source: AssertionSource,
    http: Arc<http::Client>,
}

impl std::fmt::Debug for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.source.fmt(f)
    }
}

#[async_trait::async_trait]
impl ClientAssertion for Assertion {
    async fn secret(
        &self,
        _: Option<azure_core::http::ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        let fail = |m: String| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, m)
        };
        match &self.source {
            AssertionSource::Token(t) => Ok(t.clone()),
            AssertionSource::File(p) => std::fs::read_to_string(p)
                .map(|t| t.trim().to_string())
                .map_err(|e| fail(format!("cannot read the federated token file {p}: {e}"))),
            AssertionSource::GitHub { url, bearer } => {
                let answer = self
                    .http
                    .json(
                        "GitHub OIDC token request",
                        "the job needs `permissions: id-token: write`",
                        || {
                            self.http
                                .inner
                                .get(url)
                                .query(&[("audience", "api://AzureADTokenExchange")])
                                .bearer_auth(bearer)
                        },
                    )
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                answer
                    .body
                    .get("value")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| fail("the GitHub OIDC answer has no `value`".into()))
            }
        }
    }
}

pub struct AzureContext {
    http: Arc<http::Client>,
    credential: Arc<dyn TokenCredential>,
    login: String,
    arm: String,
    scope: String,
    calls: CallCounter,
    /// Resource Graph reads are allowed (off for the confirming pass, see `check`).
    graph: AtomicBool,
    /// Objects read through Resource Graph so far.
    graph_reads: AtomicUsize,
    env: Environment,
    /// DRIFTGATE_AZURE_BLOB_ENDPOINT: the blob service base URL instead of
    /// `https://ACCOUNT.blob.core.windows.net` (Azurite, private endpoints).
    blob_endpoint: Option<String>,
}

/// Resource Graph query size: ids per query (the query text stays well under its size limit).
const GRAPH_IDS_PER_QUERY: usize = 100;

impl AzureContext {
    /// Sets up the credential from the environment. Nothing is contacted yet: a missing login
    /// shows on the first read, naming the method tried.
    pub fn load() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let env = Environment::from_name(&var("ARM_ENVIRONMENT").unwrap_or_default())?;
        let login = Login::from_env(&var)?;
        let http = Arc::new(http::Client::new("Azure")?);
        // DRIFTGATE_AZURE_AUTHORITY_HOST: a private or sovereign cloud's Entra ID endpoint
        // (HTTPS). Token requests retry a few times, then fail: a CI step must not hang.
        let cloud = match var("DRIFTGATE_AZURE_AUTHORITY_HOST") {
            Some(host) => {
                let mut custom = CustomConfiguration::default();
                custom.authority_host = host.trim().trim_end_matches('/').to_string();
                CloudConfiguration::Custom(custom)
            }
            None => env.cloud(),
        };
        let options = || ClientOptions {
            cloud: Some(Arc::new(cloud.clone())),
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: azure_core::time::Duration::milliseconds(500),
                max_retries: 3,
                max_total_elapsed: azure_core::time::Duration::seconds(20),
                max_delay: azure_core::time::Duration::seconds(5),
            }),
            ..Default::default()
        };
        let setup = |e: azure_core::Error| {
            Error::new(
                "Azure credentials",
                format!("cannot set up the {}: {e}", login.describe()),
            )
        };
        let credential: Arc<dyn TokenCredential> = match &login {
            Login::ClientSecret { tenant, client } => ClientSecretCredential::new(
                tenant,
                client.clone(),
                var("ARM_CLIENT_SECRET").unwrap_or_default().into(),
                Some(ClientSecretCredentialOptions {
                    client_options: options(),
                }),
            )
            .map_err(setup)?,
            Login::Oidc {
                tenant,
                client,
                assertion,
            } => ClientAssertionCredential::new(
                tenant.clone(),
                client.clone(),
                Assertion {
                    source: assertion.clone(),
                    http: http.clone(),
                },
                Some(ClientAssertionCredentialOptions {
                    client_options: options(),
                }),
            )
            .map_err(setup)?,
            Login::ManagedIdentity { client } => {
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: client.clone().map(UserAssignedId::ClientId),
                    client_options: options(),
                }))
                .map_err(setup)?
            }
            Login::Cli { tenant } => AzureCliCredential::new(Some(AzureCliCredentialOptions {
                tenant_id: tenant.clone(),
                ..Default::default()
            }))
            .map_err(setup)?,
        };
        // The token's audience is the environment's ARM, also when requests go elsewhere
        // (DRIFTGATE_ARM_ENDPOINT: a proxy, an emulator).
        let scope = format!("{}/.default", env.arm());
        let arm = var("DRIFTGATE_ARM_ENDPOINT")
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| env.arm().to_string());
        Ok(AzureContext {
            http,
            credential,
            login: login.describe(),
            arm,
            scope,
            calls: CallCounter::default(),
            graph: AtomicBool::new(true),
            graph_reads: AtomicUsize::new(0),
            env,
            blob_endpoint: var("DRIFTGATE_AZURE_BLOB_ENDPOINT")
                .map(|u| u.trim().trim_end_matches('/').to_string()),
        })
    }

    async fn token(&self) -> Result<String> {
        self.token_for(&self.scope).await
    }

    async fn token_for(&self, scope: &str) -> Result<String> {
        let token = self
            .credential
            .get_token(&[scope], None)
            .await
            .map_err(|e| {
                Error::new(
                    "Azure credentials",
                    format!(
                        "cannot get a token with the {}: {e}. Set ARM_CLIENT_ID, ARM_TENANT_ID and \
                         ARM_CLIENT_SECRET (or ARM_USE_OIDC / ARM_USE_MSI), or run `az login`",
                        self.login
                    ),
                )
            })?;
        Ok(token.token.secret().to_string())
    }

    /// GET one ARM object by resource id (`/subscriptions/…`). `None`: it does not exist (404).
    /// `operation` names the call in the API-call summary (`networkSecurityGroups.get`).
    pub async fn get(&self, id: &str, api_version: &str, operation: &str) -> Result<Option<Value>> {
        let token = self.token().await?;
        let url = format!("{}{}", self.arm, id);
        self.calls.add("arm", operation);
        let what = format!("Azure {operation} {id}");
        let answer = self
            .http
            .json_or_missing(
                &what,
                "the identity needs the Reader role on the resource",
                || {
                    self.http
                        .inner
                        .get(&url)
                        .query(&[("api-version", api_version)])
                        .bearer_auth(&token)
                },
            )
            .await?;
        Ok(answer.map(|a| a.body))
    }

    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.calls.snapshot()
    }

    /// Downloads a blob (a state kept by the azurerm backend) with an Entra ID token for
    /// Azure Storage. `None`: no such blob or container.
    pub async fn download_blob(
        &self,
        account: &str,
        container: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>> {
        let token = self.token_for("https://storage.azure.com/.default").await?;
        let base = self.blob_base(account);
        let path: String = key
            .split('/')
            // Blob names keep their `/` between segments.
            .map(|seg| percent_encoding::utf8_percent_encode(seg, http::COMPONENT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        let url = format!("{base}/{container}/{path}");
        self.calls.add("blob", "GetBlob");
        self.http
            .bytes_or_missing(
                &format!("Azure blob {account}/{container}/{key}"),
                "the identity needs the Storage Blob Data Reader role on the container",
                || {
                    self.http
                        .inner
                        .get(&url)
                        .header("x-ms-version", "2021-08-06")
                        .bearer_auth(&token)
                },
            )
            .await
    }

    fn blob_base(&self, account: &str) -> String {
        match &self.blob_endpoint {
            Some(b) => b.clone(),
            None => format!("https://{account}.blob.{}", self.env.storage_suffix()),
        }
    }

    /// Uploads a new block blob; `If-None-Match: *` makes it fail rather than replace one that
    /// exists (history records are written once).
    pub async fn upload_new_blob(
        &self,
        account: &str,
        container: &str,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let token = self.token_for("https://storage.azure.com/.default").await?;
        let path: String = key
            .split('/')
            .map(|seg| percent_encoding::utf8_percent_encode(seg, http::COMPONENT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        let url = format!("{}/{container}/{path}", self.blob_base(account));
        self.calls.add("blob", "PutBlob");
        self.http
            .create_raw(
                &format!("Azure blob {account}/{container}/{key}"),
                "the identity needs the Storage Blob Data Contributor role on the container",
                || {
                    self.http
                        .inner
                        .put(&url)
                        .header("x-ms-version", "2021-08-06")
                        .header("x-ms-blob-type", "BlockBlob")
                        .header("If-None-Match", "*")
                        .header("Content-Type", "application/json")
                        .bearer_auth(&token)
                        .body(bytes.clone())
                },
            )
            .await?;
        Ok(())
    }

    /// Names of the blobs under `prefix` (List Blobs, every page by `NextMarker`).
    pub async fn list_blobs(
        &self,
        account: &str,
        container: &str,
        prefix: &str,
    ) -> Result<Vec<String>> {
        let token = self.token_for("https://storage.azure.com/.default").await?;
        let what = format!("Azure blob {account}/{container}/{prefix} List Blobs");
        let hint = "the identity needs the Storage Blob Data Reader role on the container";
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/{container}?restype=container&comp=list&prefix={}",
                self.blob_base(account),
                percent_encoding::utf8_percent_encode(prefix, http::COMPONENT)
            );
            if let Some(m) = &marker {
                url.push_str("&marker=");
                url.push_str(
                    &percent_encoding::utf8_percent_encode(m, http::COMPONENT).to_string(),
                );
            }
            self.calls.add("blob", "ListBlobs");
            let xml = self
                .http
                .bytes_or_missing(&what, hint, || {
                    self.http
                        .inner
                        .get(&url)
                        .header("x-ms-version", "2021-08-06")
                        .bearer_auth(&token)
                })
                .await?
                .ok_or_else(|| Error::new(&what, "no such container"))?;
            let (page, next) = parse_blob_list(&xml).map_err(|e| Error::new(&what, e))?;
            names.extend(page);
            match next {
                Some(n) if Some(&n) != marker.as_ref() => marker = Some(n),
                Some(_) => return Err(Error::new(&what, "the same NextMarker twice")),
                None => return Ok(names),
            }
        }
    }

    pub fn graph_enabled(&self) -> bool {
        self.graph.load(Ordering::SeqCst)
    }

    /// Further reads go to ARM directly (the confirming pass).
    pub fn disable_graph(&self) {
        self.graph.store(false, Ordering::SeqCst);
    }

    pub fn graph_reads(&self) -> usize {
        self.graph_reads.load(Ordering::SeqCst)
    }

    /// Reads many objects of one type through Azure Resource Graph (`Resources` table): one query
    /// per 100 ids instead of one GET each. Answers id (lower-case) → `{id, properties}`; ids it
    /// does not know are absent (Resource Graph can lag behind ARM by seconds: callers confirm
    /// with a GET what it does not have, and `check` confirms drift it reports).
    pub async fn graph(
        &self,
        resource_type: &str,
        ids: &[String],
    ) -> Result<BTreeMap<String, Value>> {
        let mut out = BTreeMap::new();
        let url = format!("{}/providers/Microsoft.ResourceGraph/resources", self.arm);
        for chunk in ids.chunks(GRAPH_IDS_PER_QUERY) {
            let subscriptions: std::collections::BTreeSet<String> =
                chunk.iter().filter_map(|id| subscription_of(id)).collect();
            let quoted: Vec<String> = chunk
                .iter()
                .map(|id| format!("'{}'", id.replace('\'', "")))
                .collect();
            let query = format!(
                "Resources | where type =~ '{resource_type}' and id in~ ({}) | project id, properties",
                quoted.join(", ")
            );
            let mut skip: Option<String> = None;
            loop {
                let token = self.token().await?;
                self.calls.add("arm", "resources.query");
                let mut options = serde_json::json!({"resultFormat": "objectArray", "$top": 1000});
                if let Some(s) = &skip {
                    options["$skipToken"] = Value::String(s.clone());
                }
                let body = serde_json::json!({
                    "subscriptions": subscriptions,
                    "query": query,
                    "options": options,
                });
                let what = format!("Azure Resource Graph query for {resource_type}");
                let answer = self
                    .http
                    .json(
                        &what,
                        "the identity needs the Reader role on the subscriptions",
                        || {
                            self.http
                                .inner
                                .post(&url)
                                .query(&[("api-version", "2021-03-01")])
                                .bearer_auth(&token)
                                .json(&body)
                        },
                    )
                    .await?;
                let rows = answer
                    .body
                    .get("data")
                    .and_then(Value::as_array)
                    .ok_or_else(|| Error::new(what.clone(), "the answer has no `data` list"))?;
                for row in rows {
                    let id = row
                        .get("id")
                        .and_then(Value::as_str)
                        .ok_or_else(|| Error::new(what.clone(), "a row without `id`"))?;
                    out.insert(id.to_ascii_lowercase(), row.clone());
                }
                skip = answer
                    .body
                    .get("$skipToken")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if skip.is_none() {
                    break;
                }
            }
        }
        self.graph_reads.fetch_add(out.len(), Ordering::SeqCst);
        Ok(out)
    }
}

/// The subscription id of an ARM resource id.
fn subscription_of(id: &str) -> Option<String> {
    let mut parts = id.split('/').filter(|p| !p.is_empty());
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("subscriptions") {
            return parts.next().map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(vars: &[(&str, &str)]) -> Result<Login> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Login::from_env(&|k| vars.get(k).cloned())
    }

    #[test]
    fn login_follows_the_azurerm_provider() {
        let sp = [("ARM_CLIENT_ID", "c"), ("ARM_TENANT_ID", "t")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = sp.to_vec();
            v.extend_from_slice(extra);
            login(&v)
        };
        assert_eq!(
            with(&[("ARM_CLIENT_SECRET", "s")]).unwrap(),
            Login::ClientSecret {
                tenant: "t".into(),
                client: "c".into()
            }
        );
        assert!(matches!(
            with(&[
                ("ARM_USE_OIDC", "true"),
                ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh/x?a=1"),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "b")
            ])
            .unwrap(),
            Login::Oidc {
                assertion: AssertionSource::GitHub { .. },
                ..
            }
        ));
        assert!(matches!(
            with(&[("ARM_OIDC_TOKEN_FILE_PATH", "/f")]).unwrap(),
            Login::Oidc {
                assertion: AssertionSource::File(_),
                ..
            }
        ));
        assert!(matches!(
            with(&[("ARM_OIDC_TOKEN", "jwt")]).unwrap(),
            Login::Oidc {
                assertion: AssertionSource::Token(_),
                ..
            }
        ));
        let e = with(&[("ARM_USE_OIDC", "true")]).unwrap_err();
        assert!(e.message.contains("id-token: write"), "{e}");
        assert_eq!(
            with(&[("ARM_USE_MSI", "true")]).unwrap(),
            Login::ManagedIdentity {
                client: Some("c".into())
            }
        );
        assert_eq!(login(&[]).unwrap(), Login::Cli { tenant: None });
        let e = with(&[("ARM_CLIENT_CERTIFICATE_PATH", "/c.pfx")]).unwrap_err();
        assert!(e.message.contains("client certificates"), "{e}");
        let e = login(&[("ARM_CLIENT_SECRET", "s")]).unwrap_err();
        assert!(e.message.contains("ARM_TENANT_ID"), "{e}");
        // Tokens never show in debug output.
        let dbg = format!("{:?}", with(&[("ARM_OIDC_TOKEN", "secret-jwt")]).unwrap());
        assert!(!dbg.contains("secret-jwt"), "{dbg}");
    }

    #[test]
    fn environments() {
        assert_eq!(Environment::from_name("").unwrap(), Environment::Public);
        assert_eq!(
            Environment::from_name("usgovernment").unwrap().arm(),
            "https://management.usgovcloudapi.net"
        );
        assert_eq!(Environment::from_name("China").unwrap(), Environment::China);
        assert!(Environment::from_name("german").is_err());
    }
}

/// The blob names and the next marker of a List Blobs answer
/// (`<EnumerationResults><Blobs><Blob><Name>…</Name>…</Blob></Blobs><NextMarker>…</NextMarker>`).
fn parse_blob_list(xml: &[u8]) -> std::result::Result<(Vec<String>, Option<String>), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut names = Vec::new();
    let mut next = None;
    // An element's text arrives in pieces: text, then `&amp;` as a reference of its own, ….
    let mut text = String::new();
    let mut buf = Vec::new();
    // A listing always has its `<Blobs>`, empty or not: without it, it is not one.
    let mut listing = false;
    let bad = |e: &dyn std::fmt::Display| format!("the answer is not the XML expected: {e}");
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                path.push(e.name().as_ref().to_vec());
                listing |=
                    path.len() == 2 && path[0] == b"EnumerationResults" && path[1] == b"Blobs";
                text.clear();
            }
            Ok(Event::Empty(e)) => {
                listing |= path.len() == 1
                    && path[0] == b"EnumerationResults"
                    && e.name().as_ref() == b"Blobs";
            }
            Ok(Event::Text(t)) => text.push_str(&t.decode().map_err(|e| bad(&e))?),
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().map_err(|e| bad(&e))?;
                let resolved = match name.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    other => other
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| other.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32),
                };
                text.push(resolved.ok_or_else(|| bad(&format!("unknown entity &{name};")))?);
            }
            Ok(Event::End(_)) => {
                let at: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
                match at.as_slice() {
                    [b"EnumerationResults", b"Blobs", b"Blob", b"Name"] => {
                        names.push(std::mem::take(&mut text))
                    }
                    [b"EnumerationResults", b"NextMarker"] if !text.is_empty() => {
                        next = Some(std::mem::take(&mut text))
                    }
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(bad(&e)),
        }
        buf.clear();
    }
    if !listing {
        return Err("the answer is not a blob listing (no EnumerationResults/Blobs)".into());
    }
    Ok((names, next))
}

#[cfg(test)]
mod blob_list_tests {
    #[test]
    fn names_and_marker() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://a.blob.core.windows.net/" ContainerName="c"><Prefix>runs/</Prefix><Blobs><Blob><Name>runs/2026/12/02/a&amp;b.json</Name><Properties><Content-Length>3</Content-Length></Properties></Blob><Blob><Name>runs/2026/12/03/c.json</Name></Blob></Blobs><NextMarker>2!72!MDAw</NextMarker></EnumerationResults>"#;
        let (names, next) = super::parse_blob_list(xml).unwrap();
        assert_eq!(
            names,
            ["runs/2026/12/02/a&b.json", "runs/2026/12/03/c.json"]
        );
        assert_eq!(next.as_deref(), Some("2!72!MDAw"));
        let (_, none) = super::parse_blob_list(
            b"<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>",
        )
        .unwrap();
        assert_eq!(none, None);
        assert!(super::parse_blob_list(b"<EnumerationResults><Blobs></Wrong>").is_err());
        // Well formed, but not a listing: never an empty one.
        assert!(super::parse_blob_list(b"<EnumerationResults/>").is_err());
        assert!(super::parse_blob_list(b"<Error><Code>x</Code></Error>").is_err());
    }
}
