//! The cloud clients: credentials, SDK clients, call counting and error messages per cloud
//! (`aws.rs`, `azure.rs`, `gcp.rs`), and [`Clouds`], the clients of the clouds one run reads.
//! Below the families: a client knows how to call a cloud, not what a resource means.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod whole_answers;

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::model::Cloud;
use aws::AwsContext;
use azure::AzureContext;
use gcp::GcpContext;

/// The clients of the clouds this run reads. A cloud's credentials are loaded only when the
/// states hold resources of that cloud, so an AWS-only pipeline needs no Azure login.
#[derive(Default)]
pub struct Clouds {
    pub aws: Option<AwsContext>,
    pub azure: Option<AzureContext>,
    pub gcp: Option<GcpContext>,
    /// Other AWS accounts (`--aws-role`): account id → the clients with the role assumed there
    /// (only `aws` set). Their calls are counted with `aws`'s.
    pub aws_accounts: BTreeMap<String, Clouds>,
}

impl Clouds {
    /// The clients that read objects of `account` directly, if the run has credentials for it
    /// (`None`: the run's own).
    pub fn try_for_account(&self, account: Option<&str>) -> Option<&Clouds> {
        match account {
            None => Some(self),
            Some(a) => self.aws_accounts.get(a),
        }
    }

    /// The clients that read objects of `account` (`None`: the run's own credentials).
    pub fn for_account(&self, account: Option<&str>) -> Result<&Clouds> {
        match account {
            None => Ok(self),
            Some(a) => self.aws_accounts.get(a).ok_or_else(|| {
                Error::new(
                    "driftgate",
                    format!("internal error: no role assumed in AWS account {a}"),
                )
            }),
        }
    }

    pub fn aws(&self) -> Result<&AwsContext> {
        self.aws.as_ref().ok_or_else(|| not_loaded(Cloud::Aws))
    }

    pub fn azure(&self) -> Result<&AzureContext> {
        self.azure.as_ref().ok_or_else(|| not_loaded(Cloud::Azure))
    }

    pub fn gcp(&self) -> Result<&GcpContext> {
        self.gcp.as_ref().ok_or_else(|| not_loaded(Cloud::Gcp))
    }

    /// API calls per service and operation, all clouds together (service names do not clash:
    /// `ec2`, `arm`, `compute`, ...).
    pub fn calls(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut all = BTreeMap::new();
        if let Some(a) = &self.aws {
            all.extend(a.calls());
        }
        if let Some(a) = &self.azure {
            all.extend(a.calls());
        }
        if let Some(g) = &self.gcp {
            all.extend(g.calls());
        }
        all
    }
}

/// API calls per (service, operation), for the report's `summary.api_calls`.
#[derive(Default, Debug)]
pub struct CallCounter(std::sync::Mutex<BTreeMap<(String, String), u64>>);

impl CallCounter {
    pub fn add(&self, service: &str, operation: &str) {
        let mut calls = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *calls
            .entry((service.to_string(), operation.to_string()))
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        let calls = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((service, op), n) in calls.iter() {
            out.entry(service.clone())
                .or_default()
                .insert(op.clone(), *n);
        }
        out
    }
}

fn not_loaded(cloud: Cloud) -> Error {
    // A bug, not a user error: the check loads every cloud its families need.
    Error::new(
        "driftgate",
        format!("internal error: {} client not loaded", cloud.title()),
    )
}
