//! Where a resource is declared in the Terraform source: `resource "TYPE" "NAME"` blocks in the
//! `.tf` files of a directory (the root module) and, through `module` blocks with a local
//! `source`, of its child modules. Reports that point at code (SARIF, annotations, GitLab Code
//! Quality) use it; without the source they point at the state file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl_edit::expr::Expression;
use hcl_edit::Span;

/// A `.tf` file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
}

/// Declarations by address without instance keys: `module.edge.aws_security_group.this`.
#[derive(Debug, Default)]
pub struct Index {
    places: BTreeMap<String, Place>,
    /// The root module's `.tf` files, by name.
    root_files: Vec<PathBuf>,
    /// Files that could not be parsed: the index is partial, and says so.
    pub unreadable: Vec<String>,
    /// Module address prefixes (`module.edge.`) whose call has a `count` of more than one.
    repeated: Vec<String>,
    /// Module address prefixes whose call has `for_each`: each instance has its own entry, the
    /// module's code is every instance's.
    each_calls: Vec<String>,
    /// Each module instance by prefix (`""` for the root, `module.edge.`): its directory and
    /// the `module` block that calls it.
    modules: BTreeMap<String, Module>,
    /// Module calls whose code is not on disk here (registry, git, or a computed source), by
    /// prefix: where the call is, and its `source` as written.
    remote: BTreeMap<String, (Place, String)>,
    /// Module directories with a Terraform override file, and the (first) file.
    overrides: BTreeMap<PathBuf, PathBuf>,
}

/// A module of the index: the directory of its `.tf` files, and the block that calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub dir: PathBuf,
    /// `None` for the root module.
    pub call: Option<Call>,
}

/// The `module "NAME"` block that calls a module, in the file of its parent (prefix `parent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub file: PathBuf,
    pub name: String,
    pub parent: String,
}

impl Index {
    /// Indexes `dir` (and local child modules, to a bounded depth). Never fails: source is a
    /// convenience for locations, not an input the check depends on.
    pub fn build(dir: &Path) -> Index {
        let mut index = Index::default();
        index.add_module(dir, "", 0, None);
        index
    }

    fn add_module(&mut self, dir: &Path, prefix: &str, depth: usize, call: Option<Call>) {
        if depth > 8 {
            return;
        }
        self.modules.insert(
            prefix.to_string(),
            Module {
                dir: dir.to_path_buf(),
                call,
            },
        );
        if let Some(file) = override_in(dir) {
            self.overrides.insert(dir.to_path_buf(), file);
        }
        let Ok(files) = tf_files(dir) else {
            return;
        };
        if depth == 0 {
            self.root_files = files.clone();
        }
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let body = match hcl_edit::parser::parse_body(&text) {
                Ok(b) => b,
                Err(_) => {
                    self.unreadable.push(file.display().to_string());
                    continue;
                }
            };
            for block in body.blocks() {
                let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
                let line = block
                    .span()
                    .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                    .unwrap_or(1);
                match (block.ident.as_str(), labels.as_slice()) {
                    ("resource", [rtype, name]) => {
                        self.places
                            .entry(format!("{prefix}{rtype}.{name}"))
                            .or_insert(Place {
                                file: file.clone(),
                                line,
                            });
                    }
                    ("module", [name]) => {
                        let source =
                            block
                                .body
                                .get_attribute("source")
                                .and_then(|a| match &a.value {
                                    Expression::String(s) => Some(s.value().to_string()),
                                    _ => None,
                                });
                        // Only local modules are on disk; registry and git modules are not.
                        if block.body.get_attribute("for_each").is_some() {
                            self.each_calls.push(format!("{prefix}module.{name}."));
                        }
                        if count_of_many(&block.body).is_some() {
                            self.repeated.push(format!("{prefix}module.{name}."));
                        }
                        let local = source
                            .as_ref()
                            .filter(|s| s.starts_with("./") || s.starts_with("../"));
                        if local.is_none() {
                            self.remote.insert(
                                format!("{prefix}module.{name}."),
                                (
                                    Place {
                                        file: file.clone(),
                                        line,
                                    },
                                    source.clone().unwrap_or_else(|| "(computed)".into()),
                                ),
                            );
                        }
                        if let Some(src) = local {
                            self.add_module(
                                &lexical(&dir.join(src)),
                                &format!("{prefix}module.{name}."),
                                depth + 1,
                                Some(Call {
                                    file: file.clone(),
                                    name: name.to_string(),
                                    parent: prefix.to_string(),
                                }),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The file that stands for the root module: its `main.tf`, else its first `.tf` file.
    pub fn root_file(&self) -> Option<&Path> {
        let mut files = self.root_files.iter().filter(|f| f.is_file());
        let first = files.clone().next();
        files
            .find(|f| f.file_name().is_some_and(|n| n == "main.tf"))
            .or(first)
            .map(PathBuf::as_path)
    }

    /// The call of the module whose code is not here (a registry or git module) that declares
    /// `address`, if one does: its prefix (`module.sg.`), where the call is, and its `source`.
    pub fn remote_call(&self, address: &str) -> Option<(&str, &Place, &str)> {
        let key = strip_keys(address);
        self.remote
            .iter()
            .filter(|(prefix, _)| key.starts_with(prefix.as_str()))
            .min_by_key(|(prefix, _)| prefix.len())
            .map(|(prefix, (place, source))| (prefix.as_str(), place, source.as_str()))
    }

    /// The Terraform override file (`override.tf`, `NAME_override.tf`, or either as `.tf.json`)
    /// of the module whose directory holds `file`: Terraform merges its blocks over the module's.
    pub fn override_beside(&self, file: &Path) -> Option<&Path> {
        self.overrides.get(file.parent()?).map(PathBuf::as_path)
    }

    /// The module of a prefix (`""`, `module.edge.`, or an instance: `module.edge["a"].`).
    pub fn module(&self, prefix: &str) -> Option<&Module> {
        self.modules.get(&strip_keys(prefix))
    }

    /// The outermost module call with `for_each` that `address` is declared under (its prefix,
    /// `module.sg.`), and the directories of the modules under it: code there is every
    /// instance's, only the call's `for_each` entry is this instance's own.
    pub fn each_call(&self, address: &str) -> Option<(&str, Vec<&Path>)> {
        let key = strip_keys(address);
        let prefix = self
            .each_calls
            .iter()
            .filter(|p| key.starts_with(p.as_str()))
            .min_by_key(|p| p.len())?;
        let dirs = self
            .modules
            .iter()
            .filter(|(p, _)| p.starts_with(prefix.as_str()))
            .map(|(_, m)| m.dir.as_path())
            .collect();
        Some((prefix.as_str(), dirs))
    }

    /// The declaration of a Terraform address (instance keys are ignored: all instances of a
    /// `count`/`for_each` resource share one block).
    pub fn find(&self, address: &str) -> Option<&Place> {
        self.places.get(&strip_keys(address))
    }
}

impl Index {
    /// Why a literal in the declaration of `address` would not feed that resource alone: the
    /// block is reached by another module call too, or through a module call with a `count` of
    /// more than one. `None`: it feeds this declaration only (its own `count`/`for_each`, and
    /// a call's `for_each`, see [`Index::each_call`], aside).
    pub fn shared(&self, address: &str) -> Option<String> {
        let key = strip_keys(address);
        let place = self.places.get(&key)?;
        if let Some(other) = self
            .places
            .iter()
            .find(|(k, p)| **k != key && *p == place)
            .map(|(k, _)| k)
        {
            return Some(format!("the same module code also declares {other}"));
        }
        self.repeated
            .iter()
            .find(|prefix| key.starts_with(prefix.as_str()))
            .map(|prefix| {
                format!(
                    "{} is called with a `count` of more than one: the code feeds every instance",
                    prefix.trim_end_matches('.')
                )
            })
    }
}

/// The `count` of a block when it can make more than one instance (not [`at_most_one`]).
pub fn count_of_many(body: &hcl_edit::structure::Body) -> Option<&hcl_edit::structure::Attribute> {
    body.get_attribute("count")
        .filter(|c| !at_most_one(&c.value))
}

/// Whether a `count` yields at most one instance whatever its inputs: `1`, `0`, or
/// `var.create ? 1 : 0` (the switch public modules put on every resource and call). The literals
/// of such a block feed one instance alone, as if it had no `count`.
pub fn at_most_one(count: &Expression) -> bool {
    match count {
        Expression::Number(n) => n.value().as_u64().is_some_and(|n| n <= 1),
        Expression::Conditional(c) => at_most_one(&c.true_expr) && at_most_one(&c.false_expr),
        Expression::Parenthesis(p) => at_most_one(p.inner()),
        _ => false,
    }
}

/// The `.tf` files of a module directory, sorted (Terraform reads them all, in no order that
/// matters; sorted, every listing of a run agrees).
pub fn tf_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    Ok(files)
}

/// The first Terraform override file of a module directory, if it has one.
fn override_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let stem = name
                .strip_suffix(".tf.json")
                .or_else(|| name.strip_suffix(".tf"));
            stem.is_some_and(|s| s == "override" || s.ends_with("_override"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// `infra/./modules/../modules/sg` → `infra/modules/sg`: module sources are relative paths,
/// and the files they lead to are named in diffs and reports.
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The module prefix of a resource address, without instance keys:
/// `module.a["x"].module.b.aws_sg.this[0]` → `module.a.module.b.`.
pub fn module_prefix(address: &str) -> String {
    let plain = strip_keys(address);
    let parts: Vec<&str> = plain.split('.').collect();
    let mut out = String::new();
    let mut i = 0;
    while i + 1 < parts.len() && parts[i] == "module" {
        out.push_str(&format!("module.{}.", parts[i + 1]));
        i += 2;
    }
    out
}

/// The module instance of a resource address as the state writes it, keys kept:
/// `module.a["x.y"].module.b[0].aws_sg.this[0]` → `module.a["x.y"].module.b[0].`, the prefix of
/// the addresses of that instance's other resources.
pub fn module_instance(address: &str) -> String {
    // The address's steps end at the dots outside keys.
    let dots: Vec<usize> = outside_keys(address)
        .filter(|(_, c)| *c == '.')
        .map(|(i, _)| i)
        .collect();
    let mut end = 0;
    let mut steps = dots.iter();
    while address[end..].starts_with("module.") {
        let (Some(_), Some(&after_name)) = (steps.next(), steps.next()) else {
            break;
        };
        end = after_name + 1;
    }
    address[..end].to_string()
}

/// `module.a["x"].aws_sg.this[0]` → `module.a.aws_sg.this`. Keys may hold dots (`["10.0.0.0/8"]`,
/// `["api.example.com"]`): an address is split on dots only once they are gone.
pub fn strip_keys(address: &str) -> String {
    outside_keys(address).map(|(_, c)| c).collect()
}

/// The characters of an address outside its instance keys (`[0]`, `["a.b"]`, quotes and
/// escapes in them included), with their byte offsets.
fn outside_keys(address: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let (mut depth, mut in_string, mut prev) = (0, false, ' ');
    address.char_indices().filter(move |&(_, c)| {
        let outside = match c {
            '"' if depth > 0 && prev != '\\' => {
                in_string = !in_string;
                false
            }
            '[' if !in_string => {
                depth += 1;
                false
            }
            ']' if !in_string => {
                depth -= 1;
                false
            }
            _ => depth == 0,
        };
        prev = c;
        outside
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_at_most_one() {
        let count = |text: &str| {
            let body = hcl_edit::parser::parse_body(&format!("count = {text}\n")).unwrap();
            let attr = body.get_attribute("count").unwrap();
            at_most_one(&attr.value)
        };
        for one in [
            "1",
            "0",
            "var.create ? 1 : 0",
            "(local.on && var.x != null) ? 0 : (1)",
        ] {
            assert!(count(one), "{one}");
        }
        for many in [
            "2",
            "var.n",
            "length(var.rules)",
            "var.on ? 2 : 0",
            "1.5",
            "var.on ? var.n : 1",
        ] {
            assert!(!count(many), "{many}");
        }
    }

    #[test]
    fn module_instances_keep_their_keys() {
        assert_eq!(
            module_instance("module.a[\"x.y\"].module.b[0].aws_sg.this[0]"),
            "module.a[\"x.y\"].module.b[0]."
        );
        assert_eq!(module_instance("module.edge.aws_sg.this"), "module.edge.");
        assert_eq!(module_instance("aws_sg.this[\"module.x\"]"), "");
    }

    #[test]
    fn keys_are_stripped() {
        assert_eq!(
            strip_keys(r#"module.a["x.y]"].aws_sg.this[0]"#),
            "module.a.aws_sg.this"
        );
        assert_eq!(
            strip_keys("aws_network_acl.private"),
            "aws_network_acl.private"
        );
    }

    #[test]
    fn a_module_called_twice_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules/sg")).unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "module \"a\" {\n  source = \"./modules/sg\"\n}\n\nmodule \"b\" {\n  source = \"./modules/sg\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("modules/sg/main.tf"),
            "variable \"name\" {\n  default = \"x\"\n}\n\nresource \"aws_security_group\" \"this\" {\n  name = var.name\n}\n",
        )
        .unwrap();
        let index = Index::build(dir.path());
        let a = index.find("module.a.aws_security_group.this").unwrap();
        assert_eq!(a.line, 5);
        assert!(a.file.ends_with("modules/sg/main.tf"));
        assert!(
            !a.file.to_string_lossy().contains("/./"),
            "{}",
            a.file.display()
        );
        assert_eq!(
            index.shared("module.a.aws_security_group.this").as_deref(),
            Some("the same module code also declares module.b.aws_security_group.this")
        );
    }

    #[test]
    fn resources_in_root_and_local_modules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules/edge")).unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "# comment\nresource \"aws_security_group\" \"web\" {\n  name = \"web\"\n}\n\nmodule \"edge\" {\n  source = \"./modules/edge\"\n}\nmodule \"remote\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("modules/edge/sg.tf"),
            "\n\nresource \"aws_security_group\" \"this\" {\n  for_each = var.groups\n}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.tf"), "resource \"x\" {").unwrap();
        let index = Index::build(dir.path());
        let web = index.find("aws_security_group.web").unwrap();
        assert_eq!(
            (web.file.file_name().unwrap().to_str().unwrap(), web.line),
            ("main.tf", 2)
        );
        let edge = index
            .find(r#"module.edge.aws_security_group.this["web"]"#)
            .unwrap();
        assert_eq!(
            (edge.file.file_name().unwrap().to_str().unwrap(), edge.line),
            ("sg.tf", 3)
        );
        assert!(index.find("aws_security_group.other").is_none());
        // A registry module's resources are not here, but its call is.
        let (prefix, call, source) = index
            .remote_call(r#"module.remote.aws_vpc.this[0]"#)
            .unwrap();
        assert_eq!(
            (prefix, call.line, source),
            ("module.remote.", 9, "terraform-aws-modules/vpc/aws")
        );
        assert!(index
            .remote_call("module.edge.aws_security_group.this")
            .is_none());
        assert_eq!(index.unreadable.len(), 1);
        // main.tf stands for the module, though broken.tf sorts before it; else the first file.
        let name = |i: &Index| {
            i.root_file()
                .and_then(|f| f.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        };
        assert_eq!(name(&index).as_deref(), Some("main.tf"));
        assert_eq!(
            name(&Index::build(&dir.path().join("modules/edge"))).as_deref(),
            Some("sg.tf")
        );
        assert_eq!(name(&Index::build(&dir.path().join("none"))), None);
    }
}
