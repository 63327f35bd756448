//! The Google Cloud side of live reads: an access token from `GOOGLE_OAUTH_ACCESS_TOKEN` (as the
//! google provider reads it) or Application Default Credentials through `google-cloud-auth`
//! (`GOOGLE_APPLICATION_CREDENTIALS`: service account keys, `authorized_user`, workload identity
//! federation `external_account` files written by google-github-actions/auth; gcloud's ADC file;
//! the metadata server), and JSON reads of the Compute, Storage, Resource Manager and Cloud SQL
//! REST APIs.

use std::collections::BTreeMap;

use google_cloud_auth::credentials::{AccessTokenCredentials, Builder};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http;
use crate::live::CallCounter;

const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A Google API: its production host, and the name used in the API-call summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Compute,
    Storage,
    ResourceManager,
    SqlAdmin,
}

impl Service {
    fn host(self) -> &'static str {
        match self {
            Service::Compute => "https://compute.googleapis.com",
            Service::Storage => "https://storage.googleapis.com",
            Service::ResourceManager => "https://cloudresourcemanager.googleapis.com",
            Service::SqlAdmin => "https://sqladmin.googleapis.com",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Service::Compute => "compute",
            Service::Storage => "storage",
            Service::ResourceManager => "cloudresourcemanager",
            Service::SqlAdmin => "sqladmin",
        }
    }
}

enum Tokens {
    Static(String),
    Adc(AccessTokenCredentials),
}

pub struct GcpContext {
    http: http::Client,
    tokens: Tokens,
    login: &'static str,
    /// DRIFTGATE_GCP_ENDPOINT: one base URL for every service (an emulator, a proxy, a private
    /// endpoint); the paths of the services do not overlap.
    endpoint: Option<String>,
    calls: CallCounter,
}

impl GcpContext {
    pub fn load() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let (tokens, login) = if let Some(token) = var("GOOGLE_OAUTH_ACCESS_TOKEN") {
            (
                Tokens::Static(token.trim().to_string()),
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
            let creds = Builder::default()
                .with_scopes([SCOPE])
                .build_access_token_credentials()
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
            (Tokens::Adc(creds), "Application Default Credentials")
        };
        Ok(GcpContext {
            http: http::Client::new("Google Cloud")?,
            tokens,
            login,
            endpoint: var("DRIFTGATE_GCP_ENDPOINT")
                .map(|u| u.trim().trim_end_matches('/').to_string()),
            calls: CallCounter::default(),
        })
    }

    async fn token(&self) -> Result<String> {
        match &self.tokens {
            Tokens::Static(t) => Ok(t.clone()),
            Tokens::Adc(creds) => creds.access_token().await.map(|t| t.token).map_err(|e| {
                Error::new(
                    "Google Cloud credentials",
                    format!("cannot get an access token with the {}: {e}", self.login),
                )
            }),
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
        self.send(service, path, operation, None).await
    }

    /// Downloads an object (a state kept by the gcs backend). `None`: no such object or bucket.
    pub async fn download(&self, bucket: &str, object: &str) -> Result<Option<Vec<u8>>> {
        let token = self.token().await?;
        let object_enc = percent_encoding::utf8_percent_encode(object, http::COMPONENT);
        let path = format!("/storage/v1/b/{bucket}/o/{object_enc}?alt=media");
        let url = self.url(Service::Storage, &path);
        self.calls.add(Service::Storage.name(), "objects.get");
        self.http
            .bytes_or_missing(
                &format!("Google Cloud Storage gs://{bucket}/{object}"),
                "the identity needs storage.objects.get on the bucket (roles/storage.objectViewer)",
                || self.http.inner.get(&url).bearer_auth(&token),
            )
            .await
    }

    /// POST `body` to `path` (the `getIamPolicy` reads).
    pub async fn post(
        &self,
        service: Service,
        path: &str,
        operation: &str,
        body: Value,
    ) -> Result<Option<Value>> {
        self.send(service, path, operation, Some(body)).await
    }

    async fn send(
        &self,
        service: Service,
        path: &str,
        operation: &str,
        body: Option<Value>,
    ) -> Result<Option<Value>> {
        let token = self.token().await?;
        let url = self.url(service, path);
        self.calls.add(service.name(), operation);
        let what = format!("Google Cloud {}.{operation} {path}", service.name());
        let hint = "the identity needs read access (roles/viewer, or roles/iam.securityReviewer \
                    for IAM policies)";
        let answer = self
            .http
            .json_or_missing(&what, hint, || {
                let req = match &body {
                    Some(b) => self.http.inner.post(&url).json(b),
                    None => self.http.inner.get(&url),
                };
                req.bearer_auth(&token)
            })
            .await?;
        Ok(answer.map(|a| a.body))
    }

    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.calls.snapshot()
    }
}
