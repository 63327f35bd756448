//! The Google Cloud side of live reads: an access token from `GOOGLE_OAUTH_ACCESS_TOKEN` (as the
//! google provider reads it) or Application Default Credentials through `google-cloud-auth`
//! (`GOOGLE_APPLICATION_CREDENTIALS`: service account keys, `authorized_user`, workload identity
//! federation `external_account` files written by google-github-actions/auth; gcloud's ADC file;
//! the metadata server). Compute, Resource Manager and Cloud SQL are read with Google's official
//! clients (google-cloud-compute-v1, -resourcemanager-v3, -sql-v1); Storage bucket metadata,
//! whose official control client is gRPC-only, as JSON over our HTTP client.

use std::collections::BTreeMap;
use std::time::Duration;

use google_cloud_auth::credentials::{
    Builder, CacheableResource, Credentials, CredentialsProvider, EntityTag,
};
use google_cloud_compute_v1::client::{Disks, Firewalls, Instances};
use google_cloud_gax::options::RequestOptionsBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt, TooManyRequests};
use google_cloud_resourcemanager_v3::client::Projects;
use google_cloud_sql_v1::client::SqlInstancesService;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::clients::CallCounter;
use crate::error::{Error, Result};
use crate::http;

const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A Google API read as plain JSON: its production host, and the name used in the API-call
/// summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Storage,
}

impl Service {
    fn host(self) -> &'static str {
        match self {
            Service::Storage => "https://storage.googleapis.com",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Service::Storage => "storage",
        }
    }
}

/// The official client in `$ctx.$field`, built on first use with the run's credentials, retry
/// policy and endpoint override. (A macro: each client has its own builder type.)
macro_rules! lazy_client {
    ($ctx:expr, $field:ident, $client:ty, $api:expr) => {
        $ctx.$field
            .get_or_try_init(|| async {
                let b = <$client>::builder()
                    .with_credentials($ctx.credentials.clone())
                    .with_retry_policy(retry_policy());
                let b = match &$ctx.endpoint {
                    Some(e) => b.with_endpoint(e.clone()),
                    None => b,
                };
                b.build().await.map_err(|e| setup_error($api, e))
            })
            .await
    };
}

/// `GOOGLE_OAUTH_ACCESS_TOKEN` as credentials: the token as given, never refreshed.
#[derive(Clone)]
struct StaticToken(String);

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(…)")
    }
}

impl CredentialsProvider for StaticToken {
    async fn headers(
        &self,
        _extensions: ::http::Extensions,
    ) -> std::result::Result<
        CacheableResource<::http::HeaderMap>,
        google_cloud_auth::errors::CredentialsError,
    > {
        let mut headers = ::http::HeaderMap::new();
        let mut value =
            ::http::HeaderValue::from_str(&format!("Bearer {}", self.0)).map_err(|_| {
                google_cloud_auth::errors::CredentialsError::from_msg(
                    false,
                    "GOOGLE_OAUTH_ACCESS_TOKEN is not a valid header value",
                )
            })?;
        value.set_sensitive(true);
        headers.insert(::http::header::AUTHORIZATION, value);
        Ok(CacheableResource::New {
            entity_tag: EntityTag::new(),
            data: headers,
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// Attempts per call of the official clients (as our HTTP client: 4), retrying what AIP-194
/// calls transient and 429.
const ATTEMPTS: u32 = 4;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

pub struct GcpContext {
    http: http::Client,
    credentials: Credentials,
    login: &'static str,
    firewalls: OnceCell<Firewalls>,
    disks: OnceCell<Disks>,
    projects: OnceCell<Projects>,
    sql: OnceCell<SqlInstancesService>,
    instances: OnceCell<Instances>,
    /// DRIFTGATE_GCP_ENDPOINT: one base URL for every service (an emulator, a proxy, a private
    /// endpoint); the paths of the services do not overlap.
    endpoint: Option<String>,
    calls: CallCounter,
}

impl GcpContext {
    pub fn load() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let (credentials, login) = if let Some(token) = var("GOOGLE_OAUTH_ACCESS_TOKEN") {
            (
                Credentials::from(StaticToken(token.trim().to_string())),
                "GOOGLE_OAUTH_ACCESS_TOKEN",
            )
        } else {
            if var("GOOGLE_CREDENTIALS").is_some()
                && var("GOOGLE_APPLICATION_CREDENTIALS").is_none()
            {
                // The provider's own variable; ADC would silently use another identity.
                return Err(Error::new(
                    "Google Cloud credentials",
                    "GOOGLE_CREDENTIALS is set but driftgate reads Application Default \
                     Credentials: write the key to a file and set GOOGLE_APPLICATION_CREDENTIALS \
                     to its path (google-github-actions/auth does this)",
                ));
            }
            if adc_file().is_none() && !metadata_server_answers() {
                // ADC would fall back to the metadata server and retry it for seconds, to end in
                // "transient errors": say what is missing instead.
                return Err(Error::new(
                    "Google Cloud credentials",
                    "none found: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no \
                     `gcloud auth application-default login`, and no metadata server answers \
                     (not on Google Cloud). Set GOOGLE_APPLICATION_CREDENTIALS to a service \
                     account key or workload identity federation file \
                     (google-github-actions/auth writes one), or GOOGLE_OAUTH_ACCESS_TOKEN",
                ));
            }
            let creds = Builder::default()
                .with_scopes([SCOPE])
                .build()
                .map_err(|e| {
                    Error::new(
                        "Google Cloud credentials",
                        format!(
                            "cannot load Application Default Credentials: {e}. Set \
                             GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_OAUTH_ACCESS_TOKEN, or run \
                             `gcloud auth application-default login`"
                        ),
                    )
                })?;
            (creds, "Application Default Credentials")
        };
        Ok(GcpContext {
            http: http::Client::new("Google Cloud")?,
            credentials,
            login,
            firewalls: OnceCell::new(),
            disks: OnceCell::new(),
            projects: OnceCell::new(),
            sql: OnceCell::new(),
            instances: OnceCell::new(),
            endpoint: var("DRIFTGATE_GCP_ENDPOINT")
                .map(|u| u.trim().trim_end_matches('/').to_string()),
            calls: CallCounter::default(),
        })
    }

    /// The `Authorization` header for our own REST calls, from the same credentials (and token
    /// cache) as the official clients.
    async fn auth_headers(&self) -> Result<::http::HeaderMap> {
        let fail = |e: String| {
            Error::new(
                "Google Cloud credentials",
                format!("cannot get an access token with the {}: {e}", self.login),
            )
        };
        match self.credentials.headers(::http::Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => Err(fail("no headers".into())),
            Err(e) => Err(fail(e.to_string())),
        }
    }

    fn url(&self, service: Service, path: &str) -> String {
        let base = self.endpoint.as_deref().unwrap_or(service.host());
        format!("{base}{path}")
    }

    /// GET `path` of `service`. `None`: the object does not exist (404).
    pub async fn get(
        &self,
        service: Service,
        path: &str,
        operation: &str,
    ) -> Result<Option<Value>> {
        self.send(service, path, operation).await
    }

    /// Downloads an object (a state kept by the gcs backend). `None`: no such object or bucket.
    pub async fn download(&self, bucket: &str, object: &str) -> Result<Option<Vec<u8>>> {
        let auth = self.auth_headers().await?;
        let object_enc = percent_encoding::utf8_percent_encode(object, http::COMPONENT);
        let path = format!("/storage/v1/b/{bucket}/o/{object_enc}?alt=media");
        let url = self.url(Service::Storage, &path);
        self.calls.add(Service::Storage.name(), "objects.get");
        self.http
            .bytes_or_missing(
                &format!("Google Cloud Storage gs://{bucket}/{object}"),
                "the identity needs storage.objects.get on the bucket (roles/storage.objectViewer)",
                || self.http.inner.get(&url).headers(auth.clone()),
            )
            .await
    }

    /// Uploads a new object; `ifGenerationMatch=0` makes it fail rather than replace one that
    /// exists (history records are written once).
    pub async fn upload_new(&self, bucket: &str, object: &str, bytes: Vec<u8>) -> Result<()> {
        let auth = self.auth_headers().await?;
        let name = percent_encoding::utf8_percent_encode(object, http::COMPONENT);
        let path = format!(
            "/upload/storage/v1/b/{bucket}/o?uploadType=media&ifGenerationMatch=0&name={name}"
        );
        let url = self.url(Service::Storage, &path);
        self.calls.add(Service::Storage.name(), "objects.insert");
        self.http
            .create(
                &format!("Google Cloud Storage gs://{bucket}/{object}"),
                "the identity needs storage.objects.create on the bucket \
                 (roles/storage.objectCreator)",
                || {
                    self.http
                        .inner
                        .post(&url)
                        .headers(auth.clone())
                        .header("Content-Type", "application/json")
                        .body(bytes.clone())
                },
            )
            .await?;
        Ok(())
    }

    /// Names of the objects under `prefix`, every page.
    pub async fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<String>> {
        let auth = self.auth_headers().await?;
        let what = format!("Google Cloud Storage gs://{bucket}/{prefix} objects.list");
        let hint = "the identity needs storage.objects.list on the bucket \
                    (roles/storage.objectViewer)";
        let mut names = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut path = format!(
                "/storage/v1/b/{bucket}/o?fields=kind,items(name),nextPageToken&prefix={}",
                percent_encoding::utf8_percent_encode(prefix, http::COMPONENT)
            );
            if let Some(p) = &page {
                path.push_str("&pageToken=");
                path.push_str(
                    &percent_encoding::utf8_percent_encode(p, http::COMPONENT).to_string(),
                );
            }
            let url = self.url(Service::Storage, &path);
            self.calls.add(Service::Storage.name(), "objects.list");
            let answer = self
                .http
                .json(&what, hint, || {
                    self.http.inner.get(&url).headers(auth.clone())
                })
                .await?;
            // Every listing says what it is, items or none: `{}` is not an empty bucket.
            if answer.body["kind"] != "storage#objects" {
                return Err(Error::new(
                    &what,
                    "the answer is not an object listing (no `kind: storage#objects`)",
                ));
            }
            for item in answer.body["items"].as_array().into_iter().flatten() {
                if let Some(n) = item["name"].as_str() {
                    names.push(n.to_string());
                }
            }
            match answer.body["nextPageToken"].as_str() {
                Some(next) if Some(next) != page.as_deref() => page = Some(next.to_string()),
                Some(_) => return Err(Error::new(&what, "the same nextPageToken twice")),
                None => return Ok(names),
            }
        }
    }

    async fn send(&self, service: Service, path: &str, operation: &str) -> Result<Option<Value>> {
        let auth = self.auth_headers().await?;
        let url = self.url(service, path);
        self.calls.add(service.name(), operation);
        let what = format!("Google Cloud {}.{operation} {path}", service.name());
        let hint = "the identity needs read access (roles/viewer, or roles/iam.securityReviewer \
                    for IAM policies)";
        let answer = self
            .http
            .json_or_missing(&what, hint, || {
                self.http.inner.get(&url).headers(auth.clone())
            })
            .await?;
        Ok(answer.map(|a| a.body))
    }

    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.calls.snapshot()
    }

    /// GET one Compute object by its path (`projects/P/global/firewalls/N`,
    /// `projects/P/zones/Z/disks/N`, `projects/P/zones/Z/instances/N`) with the official client,
    /// as the API's JSON. `None`: 404.
    pub async fn compute_get(&self, id: &str, operation: &str) -> Result<Option<Value>> {
        self.calls.add("compute", operation);
        let what = format!("Google Cloud compute.{operation} {id}");
        let parts: Vec<&str> = id.split('/').collect();
        let answer = match parts.as_slice() {
            ["projects", p, "global", "firewalls", name] => {
                let client = self.firewalls().await?;
                let call = client.get().set_project(*p).set_firewall(*name);
                json_of(
                    &what,
                    self.login,
                    call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                )
            }
            ["projects", p, "zones", z, "disks", name] => {
                let client = self.disks().await?;
                let call = client.get().set_project(*p).set_zone(*z).set_disk(*name);
                json_of(
                    &what,
                    self.login,
                    call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                )
            }
            ["projects", p, "zones", z, "instances", name] => {
                let client = self.instances().await?;
                let call = client
                    .get()
                    .set_project(*p)
                    .set_zone(*z)
                    .set_instance(*name);
                json_of(
                    &what,
                    self.login,
                    call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                )
            }
            _ => return Err(Error::new(what, "not a firewall, disk or instance path")),
        };
        answer
    }

    /// Every object of a Compute collection (`projects/P/global/firewalls`,
    /// `projects/P/zones/Z/disks`, `projects/P/zones/Z/instances`, and every zone's instances:
    /// `projects/P/aggregated/instances`, named `zones/Z/NAME`) by name, all pages. A
    /// collection whose project or zone does not exist is empty.
    pub async fn compute_list(
        &self,
        parent: &str,
        operation: &str,
    ) -> Result<BTreeMap<String, Value>> {
        let what = format!("Google Cloud compute.{operation} {parent}");
        let parts: Vec<&str> = parent.split('/').collect();
        let mut out = BTreeMap::new();
        let mut token = String::new();
        loop {
            self.calls.add("compute", operation);
            let page = match parts.as_slice() {
                ["projects", p, "global", "firewalls"] => {
                    let client = self.firewalls().await?;
                    let call = client
                        .list()
                        .set_project(*p)
                        .set_max_results(500_u32)
                        .set_page_token(token.clone());
                    json_of(
                        &what,
                        self.login,
                        call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                    )
                }
                ["projects", p, "zones", z, "disks"] => {
                    let client = self.disks().await?;
                    let call = client
                        .list()
                        .set_project(*p)
                        .set_zone(*z)
                        .set_max_results(500_u32)
                        .set_page_token(token.clone());
                    json_of(
                        &what,
                        self.login,
                        call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                    )
                }
                ["projects", p, "zones", z, "instances"] => {
                    let client = self.instances().await?;
                    let call = client
                        .list()
                        .set_project(*p)
                        .set_zone(*z)
                        .set_max_results(500_u32)
                        .set_page_token(token.clone());
                    json_of(
                        &what,
                        self.login,
                        call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                    )
                }
                ["projects", p, "aggregated", "instances"] => {
                    let client = self.instances().await?;
                    let call = client
                        .aggregated_list()
                        .set_project(*p)
                        .set_max_results(500_u32)
                        .set_page_token(token.clone());
                    json_of(
                        &what,
                        self.login,
                        call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
                    )
                }
                _ => {
                    return Err(Error::new(
                        what,
                        "not a firewall, disk or instance collection",
                    ))
                }
            }?;
            let Some(page) = page else { return Ok(out) };
            match page.get("items") {
                Some(Value::Array(items)) => {
                    for item in items {
                        if let Some(name) = item.get("name").and_then(Value::as_str) {
                            out.insert(name.to_string(), item.clone());
                        }
                    }
                }
                // An aggregated list: scope (`zones/Z`) → its objects, named `zones/Z/NAME` here
                // since names repeat across zones.
                Some(Value::Object(scopes)) => {
                    for (scope, list) in scopes {
                        let objects = list
                            .as_object()
                            .and_then(|m| m.values().find_map(Value::as_array));
                        for item in objects.into_iter().flatten() {
                            if let Some(name) = item.get("name").and_then(Value::as_str) {
                                out.insert(format!("{scope}/{name}"), item.clone());
                            }
                        }
                    }
                }
                _ => {}
            }
            match page.get("nextPageToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => token = t.to_string(),
                _ => return Ok(out),
            }
        }
    }

    /// A project's IAM policy (version 3, so that conditions come back) with the official
    /// Resource Manager client, as JSON. `None`: no such project.
    pub async fn project_iam_policy(&self, project: &str) -> Result<Option<Value>> {
        self.calls
            .add("cloudresourcemanager", "projects.getIamPolicy");
        let what = format!("Google Cloud cloudresourcemanager.projects.getIamPolicy {project}");
        let client = self.projects().await?;
        let call = client
            .get_iam_policy()
            .set_resource(format!("projects/{project}"))
            .set_options(
                google_cloud_iam_v1::model::GetPolicyOptions::new().set_requested_policy_version(3),
            );
        json_of(
            &what,
            self.login,
            call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await,
        )
    }

    /// A Cloud SQL instance (`projects/P/instances/I`) with the official Cloud SQL Admin client,
    /// as JSON. `None`: no such instance.
    pub async fn sql_instance(&self, id: &str) -> Result<Option<Value>> {
        self.calls.add("sqladmin", "instances.get");
        let what = format!("Google Cloud sqladmin.instances.get {id}");
        let parts: Vec<&str> = id.split('/').collect();
        let ["projects", project, "instances", instance] = parts.as_slice() else {
            return Err(Error::new(what, "not projects/PROJECT/instances/NAME"));
        };
        let client = lazy_client!(self, sql, SqlInstancesService, "Cloud SQL Admin")?;
        let call = client.get().set_project(*project).set_instance(*instance);
        let instance = match call.with_attempt_timeout(ATTEMPT_TIMEOUT).send().await {
            Ok(i) => i,
            Err(e) if e.http_status_code() == Some(404) => return Ok(None),
            Err(e) => return Err(api_error(&what, self.login, e)),
        };
        // This client's models serialize enums as numbers, unlike the API's JSON: build the
        // answer's `ipConfiguration` from the typed fields instead.
        let ip = instance
            .settings
            .as_ref()
            .and_then(|s| s.ip_configuration.as_ref());
        let networks: Vec<Value> = ip
            .map(|i| {
                i.authorized_networks
                    .iter()
                    .map(|a| serde_json::json!({ "value": a.value }))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(serde_json::json!({"settings": {"ipConfiguration": {
            "ipv4Enabled": ip.and_then(|i| i.ipv4_enabled),
            "requireSsl": ip.and_then(|i| i.require_ssl),
            "sslMode": ip
                .and_then(|i| i.ssl_mode.name())
                .filter(|n| *n != "SSL_MODE_UNSPECIFIED"),
            "authorizedNetworks": networks,
        }}})))
    }

    async fn firewalls(&self) -> Result<&Firewalls> {
        lazy_client!(self, firewalls, Firewalls, "Compute")
    }

    async fn disks(&self) -> Result<&Disks> {
        lazy_client!(self, disks, Disks, "Compute")
    }

    async fn instances(&self) -> Result<&Instances> {
        lazy_client!(self, instances, Instances, "Compute")
    }

    async fn projects(&self) -> Result<&Projects> {
        lazy_client!(self, projects, Projects, "Resource Manager")
    }
}

fn retry_policy() -> impl google_cloud_gax::retry_policy::RetryPolicy {
    TooManyRequests::new(Aip194Strict).with_attempt_limit(ATTEMPTS)
}

/// An answer of the Compute or Resource Manager client as the API's JSON (their models serialize
/// to it: enums as names), `None` for 404.
fn json_of<T: serde::Serialize>(
    what: &str,
    login: &str,
    answer: std::result::Result<T, google_cloud_gax::error::Error>,
) -> Result<Option<Value>> {
    match answer {
        Ok(v) => serde_json::to_value(v)
            .map(Some)
            .map_err(|e| Error::new(what, format!("cannot read the answer: {e}"))),
        Err(e) if e.http_status_code() == Some(404) => Ok(None),
        Err(e) => Err(api_error(what, login, e)),
    }
}

fn api_error(what: &str, login: &str, e: google_cloud_gax::error::Error) -> Error {
    if e.is_authentication() {
        return Error::new(
            "Google Cloud credentials",
            format!("cannot get an access token with the {login} (for {what}): {e}"),
        );
    }
    let hint = if matches!(e.http_status_code(), Some(401 | 403)) {
        " (the identity needs read access: roles/viewer, or roles/iam.securityReviewer for IAM \
         policies)"
    } else {
        ""
    };
    match e.http_status_code() {
        Some(code) => Error::new(what, format!("HTTP {code}: {e}{hint}")),
        None => Error::new(what, format!("{e}{hint}")),
    }
}

fn setup_error(api: &str, e: impl std::fmt::Display) -> Error {
    Error::new(
        "Google Cloud",
        format!("cannot set up the {api} client: {e}"),
    )
}

/// The file Application Default Credentials would read: `GOOGLE_APPLICATION_CREDENTIALS`, or the
/// one `gcloud auth application-default login` writes. `None`: ADC would ask the metadata server.
fn adc_file() -> Option<std::path::PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(path) = var("GOOGLE_APPLICATION_CREDENTIALS") {
        return Some(path.into());
    }
    let config = var("CLOUDSDK_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            if cfg!(windows) {
                var("APPDATA").map(|a| std::path::PathBuf::from(a).join("gcloud"))
            } else {
                var("HOME").map(|h| std::path::PathBuf::from(h).join(".config/gcloud"))
            }
        })?;
    let file = config.join("application_default_credentials.json");
    file.is_file().then_some(file)
}

/// Does a metadata server accept connections (`GCE_METADATA_HOST`, else Google's name for it)?
/// Off Google Cloud the name does not resolve or nothing answers within a second.
fn metadata_server_answers() -> bool {
    use std::net::ToSocketAddrs;
    let host = std::env::var("GCE_METADATA_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "metadata.google.internal".to_string());
    let with_port = if host.contains(':') {
        host
    } else {
        format!("{host}:80")
    };
    let Ok(addrs) = with_port.to_socket_addrs() else {
        return false;
    };
    addrs.into_iter().any(|a| {
        std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(1)).is_ok()
    })
}
