//! Imports run one way: a module uses only modules on floors below its own (docs/architecture.md).
//! A lower module that reaches up ties the stages into a knot that cannot be read bottom-up, so
//! this test names every such import. Test code (`#[cfg(test)]` and below) is exempt: a unit test
//! may build its input with a higher stage.

use std::collections::BTreeSet;
use std::path::Path;

/// The floors, ground first. A new module must be placed here (the test refuses one that is not).
const FLOORS: &[&[&str]] = &[
    &["error", "model"],
    &["http", "repo_path", "source", "yaml"],
    &["config", "literals"],
    &["clients"],
    &["policy", "state"],
    &["families"],
    &["diff", "exposure", "place", "read", "risk"],
    &["verdict"],
    &["breakglass", "harden"],
    &["report"],
    &["ci", "comment", "fix", "history", "ticket_open"],
    &["check", "metrics", "propose"],
    &["serve"],
];

fn floor(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

/// The project modules a source text names through `crate::`, outside its test code.
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{breakglass, diff::X}`: the first name of each element.
                let inner = group.split('}').next().unwrap_or_default();
                for part in inner.split(',') {
                    let name = part.trim().split("::").next().unwrap_or_default();
                    if !name.is_empty() {
                        out.insert(name.to_string());
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// Imports of `module`'s text that reach its own floor or above (other than itself).
fn violations(module: &str, text: &str) -> Vec<String> {
    let own = floor(module).unwrap_or(0);
    imports(text)
        .into_iter()
        .filter(|m| m != module)
        .filter(|m| floor(m).is_none_or(|f| f >= own))
        .collect()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_run_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        assert!(
            floor(&module).is_some(),
            "src/{} belongs to module `{module}`, which has no floor in tests/architecture.rs",
            rel.display()
        );
        let text = std::fs::read_to_string(file).unwrap();
        for up in violations(&module, &text) {
            wrong.push(format!("src/{} imports `{up}`", rel.display()));
        }
    }
    assert!(files.len() > 40, "only {} source files found", files.len());
    assert!(
        wrong.is_empty(),
        "imports that reach up a floor:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_module_has_a_floor() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let floored: BTreeSet<&str> = FLOORS.iter().flat_map(|f| f.iter().copied()).collect();
    assert_eq!(declared, floored);
}

#[test]
fn an_upward_import_is_found() {
    // The checker itself: an import from a higher floor, in any spelling, is named; test code
    // and comments are not.
    let text = "use crate::error::Result;\nuse crate::{model, report::Report};\n\
                // crate::check in a comment\nfn f() { crate::check::run(); }\n\
                #[cfg(test)]\nmod tests { use crate::families::all; }\n";
    assert_eq!(violations("diff", text), ["check", "report"]);
    assert_eq!(violations("check", text), Vec::<String>::new());
    assert_eq!(violations("state", "use crate::nowhere::X;"), ["nowhere"]);
}
