//! driftgate: fails a CI pipeline when security-critical cloud resources drift from Terraform state.
//!
//! The modules below are listed floor by floor, ground first. A module imports only from floors
//! below its own (`tests/architecture.rs` enforces it; docs/architecture.md draws it). [`check`]
//! runs the stages in order: [`state`] → [`families`] (expected view) → [`read`] (live view) →
//! [`diff`] → [`verdict`] (with [`policy`] and [`risk`]) → [`breakglass`] → [`report`].

// Ground: the plain data every stage shares, and the error type.
pub mod error;
pub mod model;

// Plumbing that knows no resource: HTTP, YAML limits, the config file, the Terraform source index,
// file names from the repository root.
pub mod config;
// Where the literal behind `var.x` / `local.x` is written (for `driftgate fix`).
pub mod http;
pub mod literals;
pub mod repo_path;
pub mod source;
pub mod yaml;

// The cloud clients: credentials, SDK clients, call counting, error messages.
pub mod clients;

// Inputs: Terraform states, policies.
pub mod policy;
pub mod state;

// One file per resource family: state view, live read, effect of a change.
pub mod families;

// Generic stages over the families' data: where each object is read (region, account), the read
// plan and batches, the comparison, how drifted objects are reached, the score.
pub mod diff;
pub mod exposure;
pub mod place;
pub mod read;
pub mod risk;

// Judgement: findings, then the break-glass tickets that may cover them.
pub mod verdict;

pub mod breakglass;
// The well-known hardenings of what the code declares (`driftgate fix --harden`).
pub mod harden;

// Output: reports, CI integration, the reconciliation ticket, fixes in code.
pub mod report;

pub mod ci;
pub mod comment;
// The findings of a check written into the Terraform that declares them.
pub mod fix;
pub mod history;
pub mod ticket_open;

// The order of the stages.
pub mod check;
// A fix set as a ready pull or merge request.
pub mod propose;
// The metrics of the drift history.
pub mod metrics;

// The HCP Terraform run task endpoint: checks on request, results by callback.
pub mod serve;
