//! What driftgate does for the CI it runs in, besides the report on stdout.
//!
//! When `GITHUB_STEP_SUMMARY` is set, the Markdown summary is appended to it (cut to GitHub's
//! 1 MiB). Under GitHub Actions (`GITHUB_ACTIONS=true`), every drift also becomes an
//! `::error`/`::warning` annotation on the `.tf` line that declares it (on stderr, which the
//! runner reads like stdout, so that a JSON or SARIF report on stdout stays clean), and `verdict`,
//! `blocking` and `report` are written to `GITHUB_OUTPUT`.

use std::io::Write;

use crate::error::{Error, Result};
use crate::report::{markdown, sarif, Report};

const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Workflow command values escape `%`, CR and LF; properties also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn append(var: &str, text: &str) -> Result<()> {
    let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| Error::new(var, format!("cannot open {}: {e}", path.to_string_lossy())))?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::new(var, format!("cannot write {}: {e}", path.to_string_lossy())))
}

/// The annotations GitHub shows on the files of a pull request.
pub fn annotations(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.drifts {
        let level = if f.blocking { "error" } else { "warning" };
        let (file, line) = sarif::place(f);
        out.push_str(&format!(
            "::{level} file={},line={line},title={}::{}\n",
            escape_property(&file),
            escape_property(&format!("{} {}", f.policy, f.policy_title)),
            escape_data(&sarif::message(f))
        ));
    }
    out
}

/// `json_report`: where a JSON report was written, for the `report` output.
pub fn github(report: &Report, json_report: Option<&str>) -> Result<()> {
    append(
        "GITHUB_STEP_SUMMARY",
        &(markdown::truncated(report, SUMMARY_LIMIT - 1) + "\n"),
    )?;
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    eprint!("{}", annotations(report));
    let mut outputs = String::new();
    for (name, value) in [
        ("verdict", report.verdict.as_str().to_string()),
        ("blocking", report.summary.blocking.to_string()),
        ("report", json_report.unwrap_or("").to_string()),
    ] {
        outputs.push_str(&output_line(name, &value));
    }
    append("GITHUB_OUTPUT", &outputs)
}

/// One `GITHUB_OUTPUT` entry. A value with a line break would start another `name=value` line
/// (the runner takes the last one), so such a value gets the delimiter form, with a delimiter the
/// value does not contain.
fn output_line(name: &str, value: &str) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    let mut n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
        ^ u64::from(std::process::id());
    let mut delimiter = format!("ghadelimiter_{n:016x}");
    while value.contains(&delimiter) {
        n = n.wrapping_mul(6364136223846793005).wrapping_add(1);
        delimiter = format!("ghadelimiter_{n:016x}");
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_cannot_forge_another_line() {
        assert_eq!(output_line("verdict", "fail"), "verdict=fail\n");
        let forged = output_line("report", "drift.json\nverdict=pass");
        let lines: Vec<&str> = forged.lines().collect();
        assert_eq!(lines.len(), 4, "{forged}");
        let delimiter = lines[0].strip_prefix("report<<").unwrap();
        assert_eq!(lines[3], delimiter);
        assert_eq!(&lines[1..3], ["drift.json", "verdict=pass"]);
    }

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
