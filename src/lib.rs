//! driftgate: fails a CI pipeline when security-critical cloud resources drift from Terraform state.
//!
//! Stages, each a module with plain data in and out (see docs/architecture.md):
//! [`state`] → [`policy`] → [`kinds`] (expected view) → [`live`] (live view) → [`diff`] →
//! [`verdict`] (with [`risk`]) → [`report`]. [`check`] runs them in order.

pub mod breakglass;
pub mod check;
pub mod ci;
pub mod config;
pub mod diff;
pub mod error;
pub mod http;
pub mod kinds;
pub mod live;
pub mod policy;
pub mod report;
pub mod risk;
pub mod source;
pub mod state;
pub mod verdict;
