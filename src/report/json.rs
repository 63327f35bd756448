//! The JSON report: the contract for scripts (fields documented in the README).

use super::Report;

pub fn render(report: &Report) -> String {
    // Serializing plain data with string keys cannot fail; fall back to a valid document anyway.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        + "\n"
}
