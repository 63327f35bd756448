//! `driftgate fix`: the findings of a check written into the Terraform that declares them. A
//! console fix (a drift that strengthens) is codified, so that the next apply keeps it instead
//! of reverting it; with `accept_weakening`, other drift is accepted the same way. Each family
//! knows how its drift reads in HCL (`Family::codify`); this module finds the declaring block,
//! refuses edits a literal would not make honestly (a block that several instances or module
//! calls share), applies the edits to the text itself (bytes outside them stay identical), and
//! checks that every changed file still parses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl_edit::structure::Block;
use hcl_edit::Span;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::families::{self, Codify, CodifyRequest, TextEdit};
use crate::literals::{self, Source};
use crate::model::Effect;
use crate::report::Report;
use crate::source::Index;
use crate::verdict::Finding;
use std::rc::Rc;

/// What `driftgate fix` does with the findings.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// Also write `weakens`/`unknown` drift into the code (an incident change meant to stay).
    pub accept_weakening: bool,
    /// Only these addresses (none: every finding).
    pub addresses: Vec<String>,
    /// Hardenings to write too (`--harden`), after the drift's fixes.
    pub harden: Vec<crate::harden::Harden>,
    /// The checked state's resources: what references in the code stand for
    /// (`aws_security_group.web.id`), for lists that name objects by reference.
    pub resources: Vec<crate::state::Resource>,
}

/// What `terraform plan` shows for a fixed resource once the fix is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPlan {
    /// No change: the code says what is live.
    NoChange,
    /// The resource leaves the code with a `removed` block: the plan forgets it.
    Forgets,
    /// One instance of a `for_each` leaves its map: the refresh reports it deleted outside
    /// Terraform, and nothing changes.
    DeletedOutside,
}

/// One change written into the code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixEntry {
    /// The finding's position in the report's drifts.
    #[serde(skip)]
    pub finding: usize,
    pub address: String,
    /// `codify` (the live, stricter setting), `accept` (other drift, on request) or `harden`
    /// (a well-known pattern, also without drift).
    pub action: &'static str,
    pub file: String,
    pub line: usize,
    pub policy: String,
    pub severity: String,
    pub references: Vec<String>,
    pub summary: String,
    pub replaces_resource: bool,
    /// What `terraform plan` shows for the resource once the fix is merged.
    #[serde(skip)]
    pub after: AfterPlan,
    /// The finding's words, for the pull request body.
    #[serde(skip)]
    pub expected_text: String,
    #[serde(skip)]
    pub actual_text: String,
    #[serde(skip)]
    pub policy_title: String,
    /// `4.5, exposure internet`; empty when not weighed (a hardening).
    #[serde(skip)]
    pub risk: String,
}

/// A finding whose fix the code does not spell out where driftgate could change it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualEntry {
    #[serde(skip)]
    pub finding: usize,
    pub address: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub reason: String,
    pub want: String,
}

/// The changes, the manual items, and each changed file before and after.
#[derive(Debug, Default)]
pub struct FixSet {
    pub fixes: Vec<FixEntry>,
    pub manual: Vec<ManualEntry>,
    /// path → (original text, new text)
    pub files: BTreeMap<PathBuf, (String, String)>,
    /// Findings of a kind no family writes yet (address: what drifted).
    pub unsupported: Vec<String>,
    /// Findings that weaken, left out without `accept_weakening` (address: what drifted).
    pub weakening: Vec<String>,
    /// Findings (by index) whose change an earlier fix of the same attribute already wrote
    /// (the grants one canned ACL stands for), with that fix's action.
    pub covered: Vec<(usize, &'static str)>,
}

impl FixSet {
    /// `{"version":1,"fixes":[…],"manual":[…]}`.
    pub fn json(&self) -> String {
        let doc = serde_json::json!({"version": 1, "fixes": self.fixes, "manual": self.manual});
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// A unified diff of every changed file, with paths as `display` names them (relative to
    /// the working directory, so that `driftgate fix … | git apply` works from there).
    pub fn diff(&self, display: &dyn Fn(&Path) -> String) -> String {
        let mut out = String::new();
        for (path, (before, after)) in &self.files {
            let name = display(path);
            let diff = similar::TextDiff::from_lines(before, after);
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
        out
    }
}

/// The action for a finding, `None` when it is not written.
fn action(f: &Finding, opts: &FixOptions) -> Option<&'static str> {
    if !opts.addresses.is_empty() && !opts.addresses.contains(&f.address) {
        return None;
    }
    match f.effect {
        Effect::Strengthens => Some("codify"),
        _ if opts.accept_weakening => Some("accept"),
        _ => None,
    }
}

/// The files the fixes touch: each one's original text, its text now, and the edits made so far
/// (range in the text of the time, length written), to give lines of the file as it was.
#[derive(Default)]
struct Files {
    texts: BTreeMap<PathBuf, (String, String)>,
    applied: BTreeMap<PathBuf, Vec<(std::ops::Range<usize>, usize)>>,
    /// Each file's text now, parsed: many fixes read the same files.
    parsed: std::cell::RefCell<BTreeMap<PathBuf, Rc<Source>>>,
}

impl Files {
    /// The file as it is now, parsed (once per version of its text).
    fn source(&self, file: &Path) -> Result<Rc<Source>> {
        if let Some(s) = self.parsed.borrow().get(file) {
            return Ok(s.clone());
        }
        let text = self.now(file)?;
        let body = parse(file, &text)?;
        let source = Rc::new(Source { text, body });
        self.parsed
            .borrow_mut()
            .insert(file.to_path_buf(), source.clone());
        Ok(source)
    }

    fn now(&self, file: &Path) -> Result<String> {
        match self.texts.get(file) {
            Some((_, now)) => Ok(now.clone()),
            None => std::fs::read_to_string(file)
                .map_err(|e| Error::new(file.display().to_string(), format!("cannot read: {e}"))),
        }
    }

    /// The first offset from `at` with code on it: a removal is named at its first line with
    /// something on it, not the blank line above.
    fn code_at(&self, file: &Path, at: usize) -> usize {
        self.now(file)
            .ok()
            .and_then(|t| {
                let rest = t.get(at..)?;
                Some(at + (rest.len() - rest.trim_start().len()))
            })
            .unwrap_or(at)
    }

    /// The 1-based line, in the file as it was, of an offset of its text now.
    fn line(&self, file: &Path, offset: usize) -> usize {
        let done = self
            .applied
            .get(file)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let at = original_offset(done, offset);
        let original = match self.texts.get(file) {
            Some((o, _)) => o.clone(),
            None => std::fs::read_to_string(file).unwrap_or_default(),
        };
        original
            .get(..at.min(original.len()))
            .unwrap_or(&original)
            .matches('\n')
            .count()
            + 1
    }

    /// Applies edits of one file (ranges in its text now); the new text must parse.
    fn apply(&mut self, file: &Path, edits: Vec<TextEdit>) -> Result<bool> {
        let text = self.now(file)?;
        let edits = disjoint(edits).ok_or_else(|| {
            Error::new(
                file.display().to_string(),
                "two edits of one fix overlap (driftgate bug): nothing is written",
            )
        })?;
        let mut after = text.clone();
        let mut made = Vec::new();
        for e in edits {
            if e.range.end > after.len() || e.range.start > e.range.end {
                return Err(Error::new(
                    file.display().to_string(),
                    "an edit falls outside the file (driftgate bug)",
                ));
            }
            made.push((e.range.clone(), e.with.len()));
            after.replace_range(e.range, &e.with);
        }
        if after == text {
            return Ok(false);
        }
        self.parsed.get_mut().remove(file);
        // Parsed once all fixes are in (`plan`): a file edited 500 times is parsed once.
        self.applied
            .entry(file.to_path_buf())
            .or_default()
            .extend(made);
        self.texts
            .entry(file.to_path_buf())
            .and_modify(|(_, now)| *now = after.clone())
            .or_insert((text, after));
        Ok(true)
    }
}

/// The edits from the last to the first, removals that overlap (two blocks sharing the blank
/// line between them) merged into one; `None` when edits that write something overlap.
fn disjoint(mut edits: Vec<TextEdit>) -> Option<Vec<TextEdit>> {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out: Vec<TextEdit> = Vec::new();
    for e in edits {
        match out.last_mut() {
            Some(prev) if e.range.start < prev.range.end => {
                if !(prev.with.is_empty() && e.with.is_empty()) {
                    return None;
                }
                prev.range.end = prev.range.end.max(e.range.end);
            }
            _ => out.push(e),
        }
    }
    out.reverse();
    Some(out)
}

/// Bytes of the block replaced, in the text codify sees, by what they stand for: a `var.x` /
/// `local.x` / `each.value.x` by its literal, or a `dynamic` block by one plain block per
/// element of its literal `for_each`.
struct Substituted {
    /// The replaced bytes of the file.
    reference: std::ops::Range<usize>,
    /// What codify reads in their place.
    text: String,
    /// Where edits of `text` go, by range of `text`.
    parts: Vec<(std::ops::Range<usize>, Target)>,
}

enum Target {
    /// An edit inside the range is the same edit of this literal where it is written.
    Literal(literals::Site),
    /// An edit that takes the range whole (a block of an expanded `dynamic`), and nothing else
    /// but whitespace, is this removal (of the element from its list) instead.
    Element {
        file: PathBuf,
        removal: std::ops::Range<usize>,
        through: String,
        /// The argument whose last block this element makes (`ingress` of a `dynamic` over one
        /// element): without it the provider stops managing the argument, so it is not removed.
        last_of: Option<String>,
    },
}

impl Substituted {
    fn literal(reference: std::ops::Range<usize>, site: literals::Site) -> Substituted {
        Substituted {
            reference,
            text: site.text.clone(),
            parts: vec![(0..site.text.len(), Target::Literal(site))],
        }
    }
}

/// The file's text as codify reads it.
struct Substitution {
    /// The text with each resolvable reference of the block replaced by its literal.
    text: String,
    /// The substitutions, in order.
    subs: Vec<Substituted>,
    /// The references that lead to no honest literal: offset → where the trail ends and why.
    unresolved: Vec<(usize, literals::Found)>,
    /// Attributes written as a list of the blocks the family reads (`ingress = [{ … }]`),
    /// read as those blocks; `Err`: one that is not a literal list of objects, at its offset.
    as_blocks: std::result::Result<Vec<String>, (usize, String)>,
}

/// The block's text with each resolvable reference replaced by its literal, so that a family's
/// codify reads (and edits) the value as if it were written in the block.
fn substitute(
    index: &Index,
    address: &str,
    block: &Block,
    text: &str,
    file: &Path,
    files: &Files,
    entry: Option<&literals::Entry>,
) -> Result<Substitution> {
    let mut refs = Vec::new();
    collect_references(&block.body, &mut refs);
    // An argument the provider also takes as a list of blocks is read as those blocks, whole
    // (`expand_attribute_blocks`), not as one literal.
    let resource_type = block.labels.first().map_or("", |l| l.as_str());
    let as_lists: Vec<std::ops::Range<usize>> = families::attributes_as_blocks(resource_type)
        .iter()
        .filter_map(|n| block.body.get_attribute(n)?.value.span())
        .collect();
    refs.retain(|(span, _, _)| !as_lists.contains(span));
    let prefix = crate::source::module_instance(address);
    let mut read = |p: &Path| files.source(p);
    let mut subs = Vec::new();
    let mut manual = Vec::new();
    let block_text = block.span().and_then(|s| text.get(s)).unwrap_or_default();
    for (span, kind, name) in refs {
        let found = match (kind, entry) {
            ("each", None) => continue,
            ("each", Some(entry)) if name.is_empty() => entry.value(),
            ("each", Some(entry)) => entry.attribute(&name),
            _ => literals::resolve(index, &prefix, kind, &name, &mut read)?,
        };
        // Read more than once (`from_port` and `to_port` of one `each.value.port`; a set's
        // element is both `each.value` and `each.key`): read as its literal, but an edit of it
        // would change the others too.
        let twice = kind == "each"
            && match name.is_empty() {
                true => {
                    literals::reads(block_text, "each", "value")
                        + literals::reads(block_text, "each", "key")
                        > 1
                }
                false => literals::reads(block_text, "each.value", &name) > 1,
            };
        match found {
            literals::Found::Literal(site) if twice => {
                let shown = if name.is_empty() {
                    "each.value".to_string()
                } else {
                    format!("each.value.{name}")
                };
                manual.push((
                    span.start,
                    literals::Found::Manual {
                        at: None,
                        reason: format!(
                            "{shown} is read more than once in the block: changing it would \
                             change the others too"
                        ),
                    },
                ));
                subs.push(Substituted {
                    reference: span,
                    text: site.text,
                    parts: Vec::new(),
                });
            }
            literals::Found::Literal(site) => subs.push(Substituted::literal(span, site)),
            other => manual.push((span.start, other)),
        }
    }
    let scope = Dynamics {
        resource_type,
        index,
        prefix: &prefix,
        file,
        text,
        each: entry.map(|e| (e, block_text)),
    };
    expand_dynamics(&scope, &block.body, &mut read, &mut subs)?;
    let as_blocks = expand_attribute_blocks(&scope, &block.body, &mut read, &mut subs)?;
    subs.sort_by_key(|s| s.reference.start);
    let mut virtual_text = String::with_capacity(text.len());
    let mut at = 0;
    for s in &subs {
        virtual_text.push_str(&text[at..s.reference.start]);
        virtual_text.push_str(&s.text);
        at = s.reference.end;
    }
    virtual_text.push_str(&text[at..]);
    Ok(Substitution {
        text: virtual_text,
        subs,
        unresolved: manual,
        as_blocks,
    })
}

/// The last `ingress` block (or other argument the provider takes as blocks or as a list,
/// [`families::attributes_as_blocks`]) removed from a resource leaves the argument out of the
/// code, which the provider reads as "not managed" (optional and computed): rules added in the
/// console later would join the state on the next refresh, unseen by the plan and by the
/// check. `ingress = []` in its place keeps the argument managed, and empty. The argument it
/// wrote, if any.
fn keep_emptied_arguments(
    resource_type: &str,
    block: &Block,
    text: &str,
    file: &Path,
    edits: &mut [(PathBuf, TextEdit, Option<String>)],
) -> Option<String> {
    // Removals inside the resource's block; one of the block itself (the resource removed) is not.
    let own = block.span()?;
    let removes = |e: &(PathBuf, TextEdit, Option<String>), span: &std::ops::Range<usize>| {
        e.0 == file
            && e.2.is_none()
            && e.1.with.trim().is_empty()
            && own.start < e.1.range.start
            && e.1.range.end < own.end
            && e.1.range.start <= span.start
            && span.end <= e.1.range.end
    };
    for name in families::attributes_as_blocks(resource_type) {
        if block.body.get_attribute(name).is_some() {
            continue;
        }
        let dynamic = block.body.blocks().any(|b| {
            b.ident.as_str() == "dynamic" && b.labels.first().is_some_and(|l| l.as_str() == *name)
        });
        let spans: Vec<std::ops::Range<usize>> = block
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == *name)
            .filter_map(|b| b.span())
            .collect();
        let gone = |span: &std::ops::Range<usize>| edits.iter().any(|e| removes(e, span));
        if dynamic || spans.is_empty() || !spans.iter().all(gone) {
            continue;
        }
        let Some(edit) = edits.iter_mut().find(|e| removes(e, &spans[0])) else {
            continue;
        };
        let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let indent = indent_at(text, spans[0].start).unwrap_or("  ");
        // The blank line the removal took above or below the block stays.
        let removed = text.get(edit.1.range.clone()).unwrap_or_default();
        let lines: Vec<&str> = removed.split_inclusive('\n').collect();
        let blank = |l: Option<&&str>| l.is_some_and(|l| l.trim().is_empty());
        let blank_first = blank(lines.first());
        let blank_last = lines.len() > 1 && blank(lines.last());
        edit.1.with = format!(
            "{}{indent}{name} = []{nl}{}",
            if blank_first { nl } else { "" },
            if blank_last { nl } else { "" }
        );
        return Some(name.to_string());
    }
    None
}

/// The whitespace before `at` on its line; `None` when code comes before it there.
fn indent_at(text: &str, at: usize) -> Option<&str> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    Some(&text[line_start..at]).filter(|i| i.trim().is_empty())
}

/// Each attribute of `body` written as a list of the blocks the provider also takes that way
/// ([`families::attributes_as_blocks`]: `ingress = [{ from_port = 22, … }]`, or a `var`/`local`
/// holding such a list for this resource alone), as those blocks: a field is edited where it is
/// written, a block taken whole is its element leaving the list. The names expanded;
/// `Err((offset, why))`: one that is not a literal list of objects (a `concat`, a `for`, a
/// value read elsewhere too), which no family can read.
fn expand_attribute_blocks(
    scope: &Dynamics,
    body: &hcl_edit::structure::Body,
    read: &mut literals::Reader,
    out: &mut Vec<Substituted>,
) -> Result<std::result::Result<Vec<String>, (usize, String)>> {
    use hcl_edit::expr::{Expression, ObjectKey};
    let mut expanded = Vec::new();
    for attr in body.attributes() {
        let name = attr.key.as_str();
        if !families::attributes_as_blocks(scope.resource_type).contains(&name) {
            continue;
        }
        let (Some(key), Some(value)) = (attr.key.span(), attr.value.span()) else {
            continue;
        };
        let not_literal = |why: &str| {
            Err((
                key.start,
                format!(
                    "`{name}` is written as an attribute (`{name} = …`) that is not a literal \
                     list of objects{why}: its rules cannot be read as the `{name}` blocks they are"
                ),
            ))
        };
        // Where the list is written: here, or where its variable or local is.
        let resolved;
        let (list_file, list_text, list, through) = match literals::reference(&attr.value) {
            Some((kind, var)) => {
                match literals::resolve(scope.index, scope.prefix, kind, &var, read)? {
                    literals::Found::Literal(site) => {
                        resolved = read(&site.file)?;
                        let Some(list) = literals::expr_at(&resolved.body, &site.span) else {
                            return Ok(not_literal(""));
                        };
                        let through = format!("{} ← ", site.through);
                        (site.file, resolved.text.as_str(), list, through)
                    }
                    literals::Found::Manual { reason, .. } => {
                        return Ok(not_literal(&format!(" ({reason})")))
                    }
                }
            }
            None => (
                scope.file.to_path_buf(),
                scope.text,
                &attr.value,
                String::new(),
            ),
        };
        let Expression::Array(items) = list else {
            return Ok(not_literal(""));
        };
        let Some(objects) = items
            .iter()
            .map(|e| match e {
                Expression::Object(o) => Some(o),
                _ => None,
            })
            .collect::<Option<Vec<&hcl_edit::expr::Object>>>()
        else {
            return Ok(not_literal(""));
        };
        let Some(spans) = items
            .iter()
            .map(|e| e.span())
            .collect::<Option<Vec<std::ops::Range<usize>>>>()
        else {
            return Ok(not_literal(""));
        };
        let indent = indent_at(scope.text, key.start).unwrap_or("");
        let mut virtual_text = String::new();
        let mut parts = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            if i > 0 {
                virtual_text.push_str("\n\n");
                virtual_text.push_str(indent);
            }
            let start = virtual_text.len();
            virtual_text.push_str(&format!("{name} {{\n"));
            for (k, v) in object.iter() {
                let field = match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    ObjectKey::Expression(_) => return Ok(not_literal("")),
                };
                let Some(at) = v.expr().span() else {
                    return Ok(not_literal(""));
                };
                let written = list_text.get(at.clone()).unwrap_or_default().to_string();
                virtual_text.push_str(&format!("{indent}  {field} = "));
                let from = virtual_text.len();
                virtual_text.push_str(&written);
                parts.push((
                    from..virtual_text.len(),
                    Target::Literal(literals::Site {
                        file: list_file.clone(),
                        span: at,
                        text: written,
                        through: format!("{through}{name}[{i}].{field}"),
                    }),
                ));
                virtual_text.push('\n');
            }
            virtual_text.push_str(indent);
            virtual_text.push('}');
            parts.push((
                start..virtual_text.len(),
                Target::Element {
                    file: list_file.clone(),
                    removal: families::remove_entry(list_text, &spans, i),
                    through: format!("{through}{name}[{i}]"),
                    last_of: None,
                },
            ));
        }
        out.push(Substituted {
            reference: key.start..value.end,
            text: virtual_text,
            parts,
        });
        expanded.push(name.to_string());
    }
    Ok(Ok(expanded))
}

/// Every expression of a body (and its nested blocks) that may stand for a literal written
/// elsewhere: an attribute value, an element of a list value, or the argument of
/// `jsonencode(...)` (the document is then the local's object); not Terraform's meta-arguments,
/// nor `dynamic` blocks (whose content is per element) and other blocks that are not settings.
fn substitutable<'b>(
    body: &'b hcl_edit::structure::Body,
    out: &mut Vec<&'b hcl_edit::expr::Expression>,
) {
    for attr in body.attributes() {
        if ["count", "for_each", "depends_on", "provider"].contains(&attr.key.as_str()) {
            continue;
        }
        match &attr.value {
            hcl_edit::expr::Expression::Array(items) => out.extend(items.iter()),
            hcl_edit::expr::Expression::FuncCall(call)
                if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 =>
            {
                out.extend(call.args.iter())
            }
            value => out.push(value),
        }
    }
    for b in body.blocks() {
        if !["dynamic", "lifecycle", "provisioner", "connection"].contains(&b.ident.as_str()) {
            substitutable(&b.body, out);
        }
    }
}

/// The plain `var.x`/`local.x`/`each.value[.x]` among a body's [`substitutable`] expressions.
fn collect_references(
    body: &hcl_edit::structure::Body,
    out: &mut Vec<(std::ops::Range<usize>, &'static str, String)>,
) {
    let mut values = Vec::new();
    substitutable(body, &mut values);
    for value in values {
        let found =
            literals::reference(value).or_else(|| literals::each_value(value).map(|n| ("each", n)));
        if let (Some((kind, name)), Some(span)) = (found, value.span()) {
            out.push((span, kind, name));
        }
    }
}

/// Each substituted literal's bytes in the substituted text.
fn regions(subs: &[Substituted]) -> Vec<std::ops::Range<usize>> {
    let mut shift: isize = 0;
    subs.iter()
        .map(|s| {
            let start = (s.reference.start as isize + shift) as usize;
            shift += s.text.len() as isize - s.reference.len() as isize;
            start..start + s.text.len()
        })
        .collect()
}

/// An offset of the substituted text outside every literal, as an offset of the file.
fn in_file(subs: &[Substituted], offset: usize) -> usize {
    let mut shift: isize = 0;
    for (s, r) in subs.iter().zip(regions(subs)) {
        if offset < r.end {
            break;
        }
        shift += s.text.len() as isize - s.reference.len() as isize;
    }
    (offset as isize - shift).max(0) as usize
}

/// An offset of the substituted text as an offset of the file: inside a literal, the
/// reference's own start.
fn file_offset(subs: &[Substituted], offset: usize) -> usize {
    match regions(subs)
        .iter()
        .position(|r| r.start < offset && offset < r.end)
    {
        Some(i) => subs[i].reference.start,
        None => in_file(subs, offset),
    }
}

/// The edits of the substituted text as edits of the files: inside a literal, at the literal's
/// own place (with what it was reached through); a block of an expanded `dynamic` taken whole,
/// as the removal of its element; elsewhere, in the resource's file. `Err(offset)`: an edit
/// runs across a literal's boundary, or into what every element of a `dynamic` shares.
#[allow(clippy::type_complexity)]
fn map_edits(
    file: &Path,
    virtual_text: &str,
    subs: &[Substituted],
    edits: Vec<TextEdit>,
) -> std::result::Result<Vec<(PathBuf, TextEdit, Option<String>)>, usize> {
    let regions = regions(subs);
    let mut out = Vec::new();
    for e in edits {
        let (a, b) = (e.range.start, e.range.end);
        if let Some(removal) = element_removal(virtual_text, subs, &regions, &e)? {
            out.push(removal);
            continue;
        }
        let inside = regions
            .iter()
            .position(|r| r.start <= a && b <= r.end && (a < b || (r.start < a && a < r.end)));
        if let Some(i) = inside {
            let r = &regions[i];
            let (la, lb) = (a - r.start, b - r.start);
            let site = subs[i].parts.iter().find_map(|(p, target)| match target {
                Target::Literal(site)
                    if p.start <= la
                        && lb <= p.end
                        && (la < lb || (p.start < la && la < p.end)) =>
                {
                    Some((p.start, site))
                }
                _ => None,
            });
            let Some((part, site)) = site else {
                return Err(file_offset(subs, a));
            };
            let base = site.span.start;
            out.push((
                site.file.clone(),
                TextEdit {
                    range: base + (la - part)..base + (lb - part),
                    with: e.with,
                },
                Some(site.through.clone()),
            ));
            continue;
        }
        // An edit around a whole literal (its block removed) is an edit of the file, where the
        // reference is; one that cuts into a literal is not.
        let crosses = regions.iter().any(|r| {
            let overlaps = a < r.end && r.start < b || (a == b && r.start < a && a < r.end);
            overlaps && !(a <= r.start && r.end <= b)
        });
        if crosses {
            return Err(file_offset(subs, a));
        }
        out.push((
            file.to_path_buf(),
            TextEdit {
                range: in_file(subs, a)..in_file(subs, b),
                with: e.with,
            },
            None,
        ));
    }
    Ok(out)
}

/// Why a removal may not have mapped: it takes the one element of a `dynamic` of an argument
/// the provider stops managing once no block of it is left.
fn emptied_dynamic(subs: &[Substituted]) -> Option<String> {
    subs.iter()
        .flat_map(|s| &s.parts)
        .find_map(|(_, t)| match t {
            Target::Element {
                last_of: Some(name),
                through,
                ..
            } => Some(format!(
                "{through} is the last element of `dynamic \"{name}\"`: without it no `{name}` is \
             left, which the provider reads as not managed (rules added later would join the \
             state unseen); write `{name} = []` in place of the dynamic block"
            )),
            _ => None,
        })
}

/// A removal that takes one block of an expanded `dynamic` whole, and otherwise only
/// whitespace: the removal of its element where the list is written. `Err(offset)`: the
/// element is one that stays (see `last_of`).
#[allow(clippy::type_complexity)]
fn element_removal(
    virtual_text: &str,
    subs: &[Substituted],
    regions: &[std::ops::Range<usize>],
    e: &TextEdit,
) -> std::result::Result<Option<(PathBuf, TextEdit, Option<String>)>, usize> {
    if !e.with.trim().is_empty() {
        return Ok(None);
    }
    let (a, b) = (e.range.start, e.range.end);
    for (s, r) in subs.iter().zip(regions) {
        for (p, target) in &s.parts {
            let Target::Element {
                file,
                removal,
                through,
                last_of,
            } = target
            else {
                continue;
            };
            let (start, end) = (r.start + p.start, r.start + p.end);
            let rest_blank = virtual_text
                .get(a..start.max(a))
                .is_some_and(|t| t.trim().is_empty())
                && virtual_text
                    .get(end.min(b)..b)
                    .is_some_and(|t| t.trim().is_empty());
            if a <= start && end <= b && rest_blank {
                if last_of.is_some() {
                    return Err(s.reference.start);
                }
                return Ok(Some((
                    file.clone(),
                    TextEdit {
                        range: removal.clone(),
                        with: String::new(),
                    },
                    Some(through.clone()),
                )));
            }
        }
    }
    Ok(None)
}

/// Where the `dynamic` blocks of a resource block are read: its module instance, its file and
/// text, and its own `for_each` entry (with the block's text) when it has one.
struct Dynamics<'a> {
    resource_type: &'a str,
    index: &'a Index,
    prefix: &'a str,
    file: &'a Path,
    text: &'a str,
    each: Option<(&'a literals::Entry, &'a str)>,
}

/// Every `dynamic` block of `body` and of its nested blocks (`settings { ip_configuration {
/// dynamic "authorized_networks" … } }`), expanded where it can be.
fn expand_dynamics(
    scope: &Dynamics,
    body: &hcl_edit::structure::Body,
    read: &mut literals::Reader,
    out: &mut Vec<Substituted>,
) -> Result<()> {
    for b in body.blocks() {
        if b.ident.as_str() == "dynamic" {
            if let Some(expanded) = expand_dynamic(scope, b, read)? {
                out.push(expanded);
            }
        } else if !["lifecycle", "provisioner", "connection"].contains(&b.ident.as_str()) {
            expand_dynamics(scope, &b.body, read, out)?;
        }
    }
    Ok(())
}

/// A `dynamic "LABEL"` block whose `for_each` is a literal list or map of this block's own,
/// as the plain `LABEL` blocks it makes: each element's fields read by `ITERATOR.value.NAME`
/// in place of the references, a whole block standing for its element. An edit of a field
/// goes to the element; what the content writes itself is every element's, and not edited.
/// `None`: not one that can be expanded (the family then sees it as written).
fn expand_dynamic(
    scope: &Dynamics,
    b: &Block,
    read: &mut literals::Reader,
) -> Result<Option<Substituted>> {
    let (index, prefix, file, text) = (scope.index, scope.prefix, scope.file, scope.text);
    let (Some(label), Some(span)) = (b.labels.first(), b.span()) else {
        return Ok(None);
    };
    let label = label.as_str();
    let Some(for_each) = b.body.get_attribute("for_each") else {
        return Ok(None);
    };
    let iterator = match b.body.get_attribute("iterator") {
        Some(a) => match &a.value {
            hcl_edit::expr::Expression::Variable(v) => v.as_str().to_string(),
            _ => return Ok(None),
        },
        None => label.to_string(),
    };
    let Some(content) = b.body.blocks().find(|c| c.ident.as_str() == "content") else {
        return Ok(None);
    };
    // `for_each = each.value.NAME`: the list in the resource's own entry, when the resource
    // reads it there alone.
    let each = match (literals::each_value(&for_each.value), scope.each) {
        (None, _) => None,
        (Some(name), Some((entry, block_text)))
            if name.is_empty() || literals::reads(block_text, "each.value", &name) == 1 =>
        {
            Some(entry)
        }
        (Some(_), _) => return Ok(None),
    };
    let entries = match literals::entries_of(
        index,
        prefix,
        &for_each.value,
        (file, text),
        true,
        each,
        read,
    )? {
        Ok(entries) => entries,
        Err(_) => return Ok(None),
    };
    let Some(inner) = content.span().and_then(|s| {
        let c = text.get(s.clone())?;
        Some(s.start + c.find('{')? + 1..s.start + c.rfind('}')?)
    }) else {
        return Ok(None);
    };
    // `ITERATOR.value.NAME` read once in the content: one field of the element.
    let mut refs = Vec::new();
    collect_iterator_fields(&content.body, &iterator, &mut refs);
    refs.sort_by_key(|(s, _)| s.start);
    let content_text = text.get(inner.clone()).unwrap_or_default();
    let indent = indent_at(text, span.start).unwrap_or("");
    let source = for_each_text(text, &for_each.value);
    let mut out = String::new();
    let mut parts = Vec::new();
    let spans: Vec<std::ops::Range<usize>> =
        entries.items.iter().map(|(_, _, s)| s.clone()).collect();
    for (i, (key, _, _)) in entries.items.iter().enumerate() {
        let element = match key {
            Some(k) => format!("[{}]", serde_json::Value::from(k.as_str())),
            None => format!("[{i}]"),
        };
        if i > 0 {
            out.push_str("\n\n");
            out.push_str(indent);
        }
        let start = out.len();
        out.push_str(label);
        out.push_str(" {");
        let mut at = inner.start;
        for (r, name) in &refs {
            out.push_str(&text[at..r.start]);
            at = r.end;
            // The key is read, never edited: changing it would make another element.
            if name.is_empty() {
                match key {
                    Some(k) => out.push_str(&serde_json::Value::from(k.as_str()).to_string()),
                    None if entries.list => out.push_str(&i.to_string()),
                    None => out.push_str(&text[r.clone()]),
                }
                continue;
            }
            let (site, once) = if name == "." {
                let through = format!("{iterator}.value ← {source}{element}");
                let reads = literals::reads(content_text, &iterator, "value")
                    + literals::reads(content_text, &iterator, "key");
                (entries.element(i, through), reads == 1)
            } else {
                let through = format!("{iterator}.value.{name} ← {source}{element}");
                let reads = literals::reads(content_text, &format!("{iterator}.value"), name);
                (entries.field(i, name, through), reads == 1)
            };
            match site {
                Some(site) => {
                    let from = out.len();
                    out.push_str(&site.text);
                    // Read more than once (`from_port` and `to_port` of one `port`): read, but
                    // an edit of it would change the others too.
                    if once {
                        parts.push((from..out.len(), Target::Literal(site)));
                    }
                }
                None => out.push_str(&text[r.clone()]),
            }
        }
        out.push_str(&text[at..inner.end]);
        out.push('}');
        parts.push((
            start..out.len(),
            Target::Element {
                file: entries.file.clone(),
                removal: families::remove_entry(&entries.text, &spans, i),
                through: format!("{source}{element}"),
                last_of: Some(label.to_string()).filter(|_| {
                    entries.items.len() == 1
                        && families::attributes_as_blocks(scope.resource_type).contains(&label)
                }),
            },
        ));
    }
    Ok(Some(Substituted {
        reference: span,
        text: out,
        parts,
    }))
}

/// The `for_each` of a `dynamic` block as written (`var.ingress_rules`), for summaries.
fn for_each_text(text: &str, expr: &hcl_edit::expr::Expression) -> String {
    expr.span()
        .and_then(|s| text.get(s))
        .unwrap_or("for_each")
        .to_string()
}

/// Every `ITERATOR.value.NAME` (`ITERATOR.key` as `""`, `ITERATOR.value` itself as `"."`) among
/// a `content` body's [`substitutable`] expressions: (span, NAME).
fn collect_iterator_fields(
    body: &hcl_edit::structure::Body,
    iterator: &str,
    out: &mut Vec<(std::ops::Range<usize>, String)>,
) {
    let mut values = Vec::new();
    substitutable(body, &mut values);
    for value in values {
        let field = literals::traversal_names(value).and_then(|(root, names)| {
            match (root == iterator, names.as_slice()) {
                (true, ["value", name]) => Some(name.to_string()),
                // The element's key: `""`, which no field is named.
                (true, ["key"]) => Some(String::new()),
                // The element itself (a string of a set or list): `"."`.
                (true, ["value"]) => Some(".".into()),
                _ => None,
            }
        });
        if let (Some(name), Some(span)) = (field, value.span()) {
            out.push((span, name));
        }
    }
}

/// Asks `request` again of the block `IDENT "LABEL"…` of the module `prefix` (the block a
/// resource's attribute reads, such as a `data "aws_iam_policy_document"`): the file it is in
/// and what the family answers there. `Ok(Err(reason))`: no honest edit there (the block is
/// not found, has `count`/`for_each`, or is read by more than this resource).
fn elsewhere(
    index: &Index,
    prefix: &str,
    ident: &str,
    labels: &[String],
    files: &Files,
    family: &dyn families::Family,
    request: &CodifyRequest,
) -> Result<std::result::Result<(PathBuf, Codify), String>> {
    let name = format!("{ident}.{}", labels.join("."));
    let Some(module) = index.module(prefix) else {
        return Ok(Err(format!("{name}: its module is not in the source")));
    };
    let paths = crate::source::tf_files(&module.dir).map_err(|e| {
        Error::new(
            module.dir.display().to_string(),
            format!("cannot list: {e}"),
        )
    })?;
    let is_it = |b: &Block| {
        b.ident.as_str() == ident
            && b.labels.len() == labels.len()
            && b.labels
                .iter()
                .zip(labels)
                .all(|(l, want)| l.as_str() == want)
    };
    // `data.TYPE.NAME` read as itself or through any attribute (`.json`, `.policy_data`).
    let (kind, last) = name.rsplit_once('.').unwrap_or(("", name.as_str()));
    let mut reads = 0;
    let mut found = None;
    for path in paths {
        let source = files.source(&path)?;
        reads += literals::reads(&source.text, kind, last);
        if found.is_none() && source.body.blocks().any(is_it) {
            found = Some((path, source.clone()));
        }
    }
    let Some((path, source)) = found else {
        return Ok(Err(format!("{name} is not declared in this module")));
    };
    if reads > 1 {
        return Ok(Err(format!(
            "{name} is read {reads} times in its module: changing it would change the others too"
        )));
    }
    let text = &source.text;
    let Some(block) = source.body.blocks().find(|b| is_it(b)) else {
        return Ok(Err(format!("{name} is not declared in this module")));
    };
    if block.body.get_attribute("for_each").is_some()
        || crate::source::count_of_many(&block.body).is_some()
    {
        return Ok(Err(format!(
            "{name} has `for_each` or a `count` of more than one"
        )));
    }
    let resource_type = format!("{ident}.{}", labels.first().map_or("", String::as_str));
    let again = CodifyRequest {
        resource_type: &resource_type,
        block,
        text,
        ..*request
    };
    Ok(match family.codify(&again) {
        Codify::Elsewhere { .. } => Err(format!("{name} reads further blocks")),
        answer => Ok((path, answer)),
    })
}

/// The fixes for this report's findings in the Terraform under `source_dir`.
pub fn plan(report: &Report, source_dir: &Path, opts: &FixOptions) -> Result<FixSet> {
    let index = Index::build(source_dir);
    if let Some(file) = index.unreadable.first() {
        return Err(Error::new(
            file.clone(),
            "is not valid HCL: driftgate fix does not edit a module it cannot read whole",
        ));
    }
    let mut set = FixSet::default();
    let mut files = Files::default();
    let all = families::all();
    // A hardening that a drift's fix already writes (the same item) is not written twice.
    let hardenings = opts.harden.iter().filter(|h| {
        !report.drifts.iter().any(|d| {
            d.address == h.finding.address
                && d.attribute == h.finding.attribute
                && d.expected == h.finding.expected
        })
    });
    let work = report
        .drifts
        .iter()
        .map(|f| (f, None))
        .chain(hardenings.map(|h| (&h.finding, Some(h.replaces))));
    // Blocks an earlier fix of this run removed: their other drifts have nothing left to write.
    let mut removed_here: std::collections::BTreeSet<String> = Default::default();
    for (at_drift, (finding, hardening)) in work.enumerate() {
        if removed_here.contains(&finding.address) {
            continue;
        }
        let action = match hardening {
            Some(_) if opts.addresses.is_empty() || opts.addresses.contains(&finding.address) => {
                Some("harden")
            }
            Some(_) => None,
            None => action(finding, opts),
        };
        let Some(action) = action else {
            if finding.effect != Effect::Strengthens
                && (opts.addresses.is_empty() || opts.addresses.contains(&finding.address))
            {
                set.weakening
                    .push(format!("{}: {}", finding.address, want_of(finding)));
            }
            continue;
        };
        // The family whose view drifted: a resource type can be several families' (a bucket).
        let Some(family) = all.iter().find(|f| f.about().name == finding.family) else {
            continue;
        };
        let manual_at =
            |set: &mut FixSet, file: Option<(&Path, usize)>, reason: String, want: String| {
                set.manual.push(ManualEntry {
                    finding: at_drift,
                    address: finding.address.clone(),
                    file: file.map(|(f, _)| f.display().to_string()),
                    line: file.map(|(f, o)| files.line(f, o)),
                    reason,
                    want,
                })
            };
        let Some(place) = index.find(&finding.address) else {
            // Declared by module code that is not here: its inputs are what the code says.
            if let Some((prefix, call, source)) = index.remote_call(&finding.address) {
                set.manual.push(ManualEntry {
                    finding: at_drift,
                    address: finding.address.clone(),
                    file: Some(call.file.display().to_string()),
                    line: Some(call.line),
                    reason: format!(
                        "{} comes from \"{source}\", whose code is not here: change the inputs \
                         of its call so that the module declares what is live",
                        prefix.trim_end_matches('.')
                    ),
                    want: want_of(finding),
                });
                continue;
            }
            // A resource whose object is gone (or that is hardened away) and that the code no
            // longer declares: the code already says it.
            if finding.kind == crate::model::DriftKind::Missing && index.root_file().is_some() {
                continue;
            }
            // Removed by an earlier fix (a `removed` block names it), before the apply.
            if let Some(root) = index.root_file() {
                if forgotten(&files, root, &finding.address)? {
                    continue;
                }
            }
            manual_at(
                &mut set,
                None,
                format!(
                    "no `resource` block of it under {} (a remote module, or another directory)",
                    source_dir.display()
                ),
                want_of(finding),
            );
            continue;
        };
        let file = place.file.clone();
        if let Some(why) = index.shared(&finding.address) {
            set.manual.push(ManualEntry {
                finding: at_drift,
                address: finding.address.clone(),
                file: Some(file.display().to_string()),
                line: Some(place.line),
                reason: why,
                want: want_of(finding),
            });
            continue;
        }
        let source = files.source(&file)?;
        let text: &str = &source.text;
        let body = &source.body;
        let Some(block) = resource_block(body, &finding.resource_type, &finding.address) else {
            manual_at(
                &mut set,
                Some((&file, 0)),
                format!(
                    "the file has no `resource \"{}\"` block for this address",
                    finding.resource_type
                ),
                want_of(finding),
            );
            continue;
        };
        let start = block.span().map_or(0, |s| s.start);
        if let Some(count) = crate::source::count_of_many(&block.body) {
            let at = count.span().map_or(start, |s| s.start);
            manual_at(
                &mut set,
                Some((&file, at)),
                "the block has `count` over more than one instance: its literals feed every \
                 instance (and removing one shifts the indexes of the rest)"
                    .into(),
                want_of(finding),
            );
            continue;
        }
        // `for_each` over a literal map: this instance's entry is its own.
        let mut entry = None;
        if let Some(for_each) = block.body.get_attribute("for_each") {
            let found = match literals::string_key(&finding.address) {
                None => literals::EachEntry::Manual(
                    "the block has `for_each`: its literals feed every instance".into(),
                ),
                Some(key) => literals::for_each_entry(
                    &index,
                    &crate::source::module_instance(&finding.address),
                    &for_each.value,
                    &file,
                    text,
                    &key,
                    &mut |p: &Path| files.source(p),
                )?,
            };
            match found {
                literals::EachEntry::Written(e) => entry = Some(e),
                // Taken out of the map by an earlier fix, before the apply: the code no longer
                // declares the instance, so nothing of it is left to write.
                literals::EachEntry::NotListed => continue,
                literals::EachEntry::Manual(reason) => {
                    manual_at(&mut set, Some((&file, start)), reason, want_of(finding));
                    continue;
                }
            }
        }
        // The other drifts of this attribute that the run writes too.
        let alike: Vec<families::Alike> = match hardening {
            Some(_) => vec![(finding.kind, &finding.expected, &finding.actual)],
            None => report
                .drifts
                .iter()
                .filter(|d| {
                    d.address == finding.address
                        && d.attribute == finding.attribute
                        && d.family == finding.family
                        && self::action(d, opts).is_some()
                })
                .map(|d| (d.kind, &d.expected, &d.actual))
                .collect(),
        };
        // The block as codify reads it: references replaced by the literals they stand for.
        let Substitution {
            text: virtual_text,
            subs,
            unresolved,
            as_blocks,
        } = substitute(
            &index,
            &finding.address,
            block,
            text,
            &file,
            &files,
            entry.as_deref(),
        )?;
        let as_blocks = match as_blocks {
            Ok(names) => names,
            Err((offset, reason)) => {
                manual_at(&mut set, Some((&file, offset)), reason, want_of(finding));
                continue;
            }
        };
        let virtual_body;
        let virtual_block = if subs.is_empty() {
            block
        } else {
            virtual_body = parse(&file, &virtual_text)?;
            match resource_block(&virtual_body, &finding.resource_type, &finding.address) {
                Some(b) => b,
                None => block,
            }
        };
        let refs = families::Refs {
            module: crate::source::module_instance(&finding.address),
            resources: &opts.resources,
        };
        let request = CodifyRequest {
            resource_type: &finding.resource_type,
            block: virtual_block,
            text: if subs.is_empty() { text } else { &virtual_text },
            kind: finding.kind,
            object: &finding.cloud_id,
            attribute: finding.attribute.as_deref(),
            refs: &refs,
            expected: &finding.expected,
            actual: &finding.actual,
            alike: &alike,
        };
        let answer = match (finding.kind, &finding.attribute) {
            // The whole object is gone live: whatever the family, the code stops declaring it
            // (and Terraform forgets it), unless other code refers to it.
            (crate::model::DriftKind::Missing, None) => Codify::RemoveResource {
                summary: format!("{} is gone", finding.cloud_id),
            },
            _ => family.codify(&request),
        };
        // A block other code refers to cannot simply go: the plan would fail.
        let mut referenced_by = match answer {
            Codify::RemoveResource { .. } => referenced(
                &files,
                &file,
                block,
                entry
                    .as_ref()
                    .and_then(|_| literals::string_key(&finding.address))
                    .as_deref(),
            )?,
            _ => None,
        };
        let (edits, summary, replaces, after) = match answer {
            Codify::Unsupported => {
                set.unsupported
                    .push(format!("{}: {}", finding.address, want_of(finding)));
                continue;
            }
            Codify::Manual {
                offset,
                reason,
                want,
            } => {
                let offset = file_offset(&subs, offset);
                // A reference that leads to no honest literal: where its trail ends, and why.
                match unresolved.iter().find(|(at, _)| *at == offset) {
                    Some((_, literals::Found::Manual { at, reason: why })) => {
                        let (there, o) = at.clone().unwrap_or((file.clone(), offset));
                        manual_at(&mut set, Some((&there, o)), why.clone(), want)
                    }
                    _ => manual_at(&mut set, Some((&file, offset)), reason, want),
                }
                continue;
            }
            Codify::Elsewhere {
                ident,
                labels,
                offset,
            } => {
                let offset = file_offset(&subs, offset);
                // One block read by every instance of a `for_each`: not this instance's own.
                if entry.is_some() {
                    manual_at(
                        &mut set,
                        Some((&file, offset)),
                        format!(
                            "{ident}.{} is read by every instance of the block's `for_each`",
                            labels.join(".")
                        ),
                        want_of(finding),
                    );
                    continue;
                }
                let prefix = crate::source::module_prefix(&finding.address);
                match elsewhere(&index, &prefix, ident, &labels, &files, *family, &request)? {
                    Ok((there, Codify::Edits { edits, summary })) => (
                        edits
                            .into_iter()
                            .map(|e| (there.clone(), e, None))
                            .collect(),
                        format!("{summary} (in {ident}.{})", labels.join(".")),
                        false,
                        AfterPlan::NoChange,
                    ),
                    Ok((
                        there,
                        Codify::Manual {
                            offset,
                            reason,
                            want,
                        },
                    )) => {
                        manual_at(&mut set, Some((&there, offset)), reason, want);
                        continue;
                    }
                    Ok(_) => {
                        set.unsupported
                            .push(format!("{}: {}", finding.address, want_of(finding)));
                        continue;
                    }
                    Err(reason) => {
                        manual_at(&mut set, Some((&file, offset)), reason, want_of(finding));
                        continue;
                    }
                }
            }
            Codify::Edits { edits, summary } => match map_edits(&file, &virtual_text, &subs, edits)
            {
                // Under `for_each`, only this instance's entry is its own: the block itself
                // (a rule block removed with its last peer) is every instance's.
                Ok(mapped) if entry.is_some() && mapped.iter().any(|(_, _, via)| via.is_none()) => {
                    manual_at(
                        &mut set,
                        Some((&file, start)),
                        "the change is to the block, which every instance of its `for_each` \
                         shares (not to this instance's entry)"
                            .into(),
                        want_of(finding),
                    );
                    continue;
                }
                Ok(mapped) => (mapped, summary, false, AfterPlan::NoChange),
                Err(offset) => {
                    // A value read, but not editable here, says why.
                    let why = unresolved
                        .iter()
                        .find_map(|(at, found)| match found {
                            literals::Found::Manual { reason, .. } if *at == offset => {
                                Some(reason.clone())
                            }
                            _ => None,
                        })
                        .or_else(|| emptied_dynamic(&subs));
                    manual_at(
                        &mut set,
                        Some((&file, offset)),
                        why.unwrap_or_else(|| {
                            "the change runs across a value written elsewhere".into()
                        }),
                        want_of(finding),
                    );
                    continue;
                }
            },
            Codify::RemoveResource { .. } if referenced_by.is_some() => {
                let (at_file, at, name) = referenced_by.take().unwrap_or_default();
                manual_at(
                    &mut set,
                    Some((&at_file, at)),
                    format!(
                        "other code of the module refers to `{name}` (a `depends_on` or an \
                         attribute): without its block the plan fails on an undeclared \
                         resource; remove those references with it"
                    ),
                    want_of(finding),
                );
                continue;
            }
            // One instance of a `for_each`: its entry goes from the map or set. A `removed`
            // block cannot name one instance; none is needed, since the plan's refresh finds the
            // object gone and forgets it (a hardened one is destroyed by the apply).
            Codify::RemoveResource { summary } if entry.is_some() => {
                let Some((there, written, spans, at)) = entry.as_ref().map(|e| e.written()) else {
                    continue;
                };
                let key = literals::string_key(&finding.address).unwrap_or_default();
                let edit = TextEdit {
                    range: families::remove_entry(written, &spans, at),
                    with: String::new(),
                };
                let summary = match hardening {
                    Some(_) => format!(
                        "{}: its `for_each` entry \"{key}\" goes",
                        summary.replace(" is gone", " is removed (revoked on apply)")
                    ),
                    None => format!(
                        "{summary}: its `for_each` entry \"{key}\" goes (the plan forgets it)"
                    ),
                };
                let after = match hardening {
                    Some(_) => AfterPlan::NoChange,
                    None => AfterPlan::DeletedOutside,
                };
                (
                    vec![(there.to_path_buf(), edit, None)],
                    summary,
                    false,
                    after,
                )
            }
            // Hardened: the rule is revoked by the next apply, so the block just goes.
            Codify::RemoveResource { summary } if hardening.is_some() => {
                removed_here.insert(finding.address.clone());
                let Some(span) = block.span() else { continue };
                let lines = families::block_lines(text, span);
                let edit = TextEdit {
                    range: lines,
                    with: String::new(),
                };
                let summary = summary.replace(" is gone", " is removed (revoked on apply)");
                (
                    vec![(file.clone(), edit, None)],
                    summary,
                    false,
                    AfterPlan::NoChange,
                )
            }
            Codify::RemoveResource { summary } => {
                removed_here.insert(finding.address.clone());
                let Some(span) = block.span() else { continue };
                let lines = families::block_lines(text, span);
                let removed = removed_block(&finding.address, text);
                let edits = vec![
                    (
                        file.clone(),
                        TextEdit {
                            range: lines,
                            with: String::new(),
                        },
                        None,
                    ),
                    (
                        file.clone(),
                        TextEdit {
                            range: text.len()..text.len(),
                            with: removed,
                        },
                        None,
                    ),
                ];
                (edits, summary, false, AfterPlan::Forgets)
            }
        };
        // Where the fix is named: the literal's place when it was written elsewhere.
        let shown = edits
            .iter()
            .find(|(_, _, via)| via.is_some())
            .or_else(|| edits.iter().min_by_key(|(_, e, _)| e.range.start))
            .map(|(f, e, via)| (f.clone(), e.range.start, via.clone()));
        let summary = match shown.as_ref().and_then(|(_, _, via)| via.as_ref()) {
            Some(through) => format!("{summary} (in {through})"),
            None => summary,
        };
        let shown = shown.map(|(f, at, _)| {
            let at = files.code_at(&f, at);
            (f.clone(), files.line(&f, at))
        });
        let mut edits = edits;
        let summary =
            match keep_emptied_arguments(&finding.resource_type, block, text, &file, &mut edits) {
                Some(name) => format!("{summary}; `{name} = []` keeps the emptied rules managed"),
                None => summary,
            };
        // A block the family adds beside `ingress = [...]` would be the other form of the same
        // argument, which Terraform refuses: the rule joins the list by hand.
        let beside = edits.iter().find(|(_, e, via)| {
            via.is_none()
                && e.with.lines().any(|l| {
                    let l = l.trim_start();
                    as_blocks.iter().any(|n| {
                        l.strip_prefix(n.as_str())
                            .is_some_and(|rest| rest.trim_start().starts_with('{'))
                    })
                })
        });
        if let Some((f, e, _)) = beside {
            let at = files.code_at(f, e.range.start);
            manual_at(
                &mut set,
                Some((f, at)),
                format!(
                    "the block's `{}` is written as a list of objects: the new rule joins that \
                     list as an object",
                    as_blocks.join("`/`")
                ),
                want_of(finding),
            );
            continue;
        }
        // Under a module call with `for_each`, the module's code is every instance's: only the
        // call's entry for this instance is its own.
        let in_each_module = index.each_call(&finding.address).and_then(|(call, dirs)| {
            edits
                .iter()
                .find(|(f, _, _)| f.parent().is_some_and(|d| dirs.contains(&d)))
                .map(|(f, e, _)| {
                    (
                        call.trim_end_matches('.').to_string(),
                        f.clone(),
                        files.code_at(f, e.range.start),
                    )
                })
        });
        if let Some((call, f, at)) = in_each_module {
            removed_here.remove(&finding.address);
            manual_at(
                &mut set,
                Some((&f, at)),
                format!(
                    "{call} is called with `for_each`: its code is every instance's (only what \
                     the call passes as `each.value` is this instance's own)"
                ),
                want_of(finding),
            );
            continue;
        }
        // Terraform merges override files over the blocks of their module: what applies may be
        // written there rather than where the edit would go.
        if let Some(over) = edits
            .iter()
            .map(|(f, _, _)| f.as_path())
            .chain([file.as_path()])
            .find_map(|f| index.override_beside(f))
        {
            removed_here.remove(&finding.address);
            manual_at(
                &mut set,
                Some((&file, start)),
                format!(
                    "{} overrides blocks of this module (Terraform merges it over them): the \
                     value that applies may be written there; fix it by hand",
                    over.display()
                ),
                want_of(finding),
            );
            continue;
        }
        let mut by_file: BTreeMap<PathBuf, Vec<TextEdit>> = BTreeMap::new();
        for (f, e, _) in edits {
            by_file.entry(f).or_default().push(e);
        }
        let mut changed = false;
        for (f, edits) in by_file {
            changed |= files.apply(&f, edits)?;
        }
        // The code already says it: written by an earlier fix of the same attribute in this
        // run, or before the state caught up.
        if !changed {
            if let Some(earlier) = set.fixes.iter().find(|e| {
                let d = report.drifts.get(e.finding);
                d.is_some_and(|d| d.address == finding.address && d.attribute == finding.attribute)
            }) {
                set.covered.push((at_drift, earlier.action));
            }
            continue;
        }
        let (shown_file, shown_line) = shown.unwrap_or((file.clone(), place.line));
        set.fixes.push(FixEntry {
            finding: at_drift,
            address: finding.address.clone(),
            action,
            file: shown_file.display().to_string(),
            line: shown_line,
            policy: finding.policy.clone(),
            severity: finding.severity.as_str().to_string(),
            references: finding.references.clone(),
            summary,
            replaces_resource: replaces || hardening == Some(true),
            after,
            expected_text: finding.expected_text.clone().unwrap_or_default(),
            actual_text: finding.actual_text.clone().unwrap_or_default(),
            policy_title: finding.policy_title.clone(),
            risk: if hardening.is_some() {
                String::new()
            } else {
                format!(
                    "{:.1}, exposure {}",
                    finding.risk.score,
                    finding.risk.exposure.as_str()
                )
            },
        });
    }
    for (file, (_, after)) in &files.texts {
        parse(file, after).map_err(|e| {
            Error::new(
                file.display().to_string(),
                format!("the fixes would not parse ({e}): driftgate bug, nothing written"),
            )
        })?;
    }
    set.files = files.texts;
    Ok(set)
}

/// Sets each finding's `fix`: what `driftgate fix` would do with it (with `--accept-weakening`
/// for the findings that do not strengthen, which the reports name as such). The source is
/// only read: nothing is written.
pub fn annotate(
    report: &mut Report,
    source_dir: &Path,
    resources: Vec<crate::state::Resource>,
) -> Result<()> {
    let opts = FixOptions {
        accept_weakening: true,
        resources,
        ..FixOptions::default()
    };
    let set = plan(report, source_dir, &opts)?;
    for f in &mut report.drifts {
        f.fix = None;
    }
    // A finding whose block was not found has nothing to point at: no fix to speak of.
    for m in set.manual.iter().filter(|m| m.file.is_some()) {
        if let Some(f) = report.drifts.get_mut(m.finding) {
            f.fix = Some("manual");
        }
    }
    let fixed = set.fixes.iter().map(|e| (e.finding, e.action));
    for (finding, action) in fixed.chain(set.covered.iter().copied()) {
        if let Some(f) = report.drifts.get_mut(finding) {
            f.fix = Some(action);
        }
    }
    Ok(())
}

/// Where an offset of the edited text was in the original: the edits made, undone last first.
fn original_offset(applied: &[(std::ops::Range<usize>, usize)], mut offset: usize) -> usize {
    for (range, written) in applied.iter().rev() {
        if offset >= range.start + written {
            offset = offset - written + range.len();
        } else if offset > range.start {
            offset = range.start;
        }
    }
    offset
}

/// Writes every changed file in place.
pub fn write(set: &FixSet) -> Result<()> {
    for (path, (_, after)) in &set.files {
        std::fs::write(path, after)
            .map_err(|e| Error::new(path.display().to_string(), format!("cannot write: {e}")))?;
    }
    Ok(())
}

fn parse(file: &Path, text: &str) -> Result<hcl_edit::structure::Body> {
    hcl_edit::parser::parse_body(text)
        .map_err(|e| Error::new(file.display().to_string(), format!("is not valid HCL: {e}")))
}

/// The `resource "TYPE" "NAME"` block of an address's last segment.
fn resource_block<'b>(
    body: &'b hcl_edit::structure::Body,
    resource_type: &str,
    address: &str,
) -> Option<&'b Block> {
    let name = resource_name(address)?;
    body.blocks().find(|b| {
        b.ident.as_str() == "resource"
            && b.labels.len() == 2
            && b.labels[0].as_str() == resource_type
            && b.labels[1].as_str() == name.as_str()
    })
}

/// `module.a.aws_sg.this[0]` → `this`.
fn resource_name(address: &str) -> Option<String> {
    let plain = crate::source::strip_keys(address);
    let last = plain.rsplit_once('.').map_or(plain.as_str(), |(_, n)| n);
    Some(last.to_string()).filter(|n| !n.is_empty())
}

/// Whether a `removed` block of the root module (the `.tf` files beside `root`) names
/// `address`: the code already stopped declaring it.
fn forgotten(files: &Files, root: &Path, address: &str) -> Result<bool> {
    let dir = root.parent().unwrap_or_else(|| Path::new("."));
    let listed = crate::source::tf_files(dir)
        .map_err(|e| Error::new(dir.display().to_string(), format!("cannot list: {e}")))?;
    for path in listed {
        let source = files.source(&path)?;
        let named = source
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == "removed")
            .filter_map(|b| b.body.get_attribute("from"))
            .filter_map(|from| crate::literals::traversal_names(&from.value))
            .any(|(root, names)| format!("{root}.{}", names.join(".")) == address);
        if named {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first place other code of the module (the `.tf` files beside `file`) refers to the
/// resource of `block` (`TYPE.NAME`), outside its own block, comments and `removed`/`moved`
/// blocks: (file, offset, `TYPE.NAME`). With `instance`, only references that may be that
/// instance (`TYPE.NAME["KEY"]`, `TYPE.NAME[each.key]`) count: the rest of a `for_each` stays.
fn referenced(
    files: &Files,
    file: &Path,
    block: &hcl_edit::structure::Block,
    instance: Option<&str>,
) -> Result<Option<(PathBuf, usize, String)>> {
    use hcl_edit::Span;
    let [kind, name] = block.labels.as_slice() else {
        return Ok(None);
    };
    let reference = format!("{}.{}", kind.as_str(), name.as_str());
    let own = block.span().unwrap_or_default();
    let dir = file.parent().unwrap_or_else(|| Path::new("."));
    let listed = crate::source::tf_files(dir)
        .map_err(|e| Error::new(dir.display().to_string(), format!("cannot list: {e}")))?;
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    for path in listed {
        let source = files.source(&path)?;
        let text = source.text.as_str();
        let skipped: Vec<std::ops::Range<usize>> = source
            .body
            .blocks()
            .filter(|b| matches!(b.ident.as_str(), "removed" | "moved"))
            .filter_map(|b| b.span())
            .chain((path == file).then(|| own.clone()))
            .collect();
        for (at, _) in text.match_indices(&reference) {
            let before = text[..at].chars().next_back();
            let after = text[at + reference.len()..].chars().next();
            if before.is_some_and(|c| ident(c) || c == '.') || after.is_some_and(ident) {
                continue;
            }
            // One instance goes: what names it (or an instance chosen by an expression, such as
            // `[each.key]`, which may be it) is left without it; the whole resource is not.
            if let Some(key) = instance {
                let rest = text[at + reference.len()..].trim_start();
                let named = format!("[{}]", serde_json::Value::from(key));
                let indexed = rest.starts_with('[');
                let other_literal = rest.starts_with("[\"") && !rest.starts_with(&named);
                if !indexed || other_literal {
                    continue;
                }
            }
            if skipped.iter().any(|r| r.contains(&at)) {
                continue;
            }
            let line = &text[text[..at].rfind('\n').map_or(0, |i| i + 1)..at];
            if line.contains('#') || line.contains("//") {
                continue;
            }
            return Ok(Some((path.clone(), at, reference)));
        }
    }
    Ok(None)
}

/// A `removed` block that makes Terraform forget the resource without destroying anything
/// (Terraform 1.7+), addressed from the module the block is in, in the file's line endings.
fn removed_block(address: &str, text: &str) -> String {
    let plain = crate::source::strip_keys(address);
    let in_module = plain
        .rsplit_once('.')
        .map(|(head, name)| {
            let rtype = head.rsplit('.').next().unwrap_or(head);
            format!("{rtype}.{name}")
        })
        .unwrap_or(plain.clone());
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lead = if text.ends_with('\n') || text.is_empty() {
        nl.to_string()
    } else {
        format!("{nl}{nl}")
    };
    format!(
        "{lead}removed {{{nl}  from = {in_module}{nl}{nl}  lifecycle {{{nl}    destroy = false{nl}  }}{nl}}}{nl}"
    )
}

fn want_of(f: &Finding) -> String {
    match (&f.attribute, &f.actual_text) {
        (Some(a), Some(t)) => format!("{a}: {t}"),
        (None, Some(t)) => t.clone(),
        _ => "what is live".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_removals_merge_and_overlapping_writes_refuse() {
        let edit = |range: std::ops::Range<usize>, with: &str| TextEdit {
            range,
            with: with.into(),
        };
        let got = disjoint(vec![edit(0..5, ""), edit(10..20, ""), edit(15..25, "")]).unwrap();
        assert_eq!(got, vec![edit(10..25, ""), edit(0..5, "")]);
        assert_eq!(disjoint(vec![edit(10..20, ""), edit(15..25, "x")]), None);
        // An insertion where a removal starts is kept, after it.
        let mut text = "0123456789abcdefghij".to_string();
        for e in disjoint(vec![edit(10..10, "NEW"), edit(10..20, "")]).unwrap() {
            text.replace_range(e.range, &e.with);
        }
        assert_eq!(text, "0123456789NEW");
    }

    /// `codify_list` on `list` with `live`: the edited text.
    fn listed(list: &str, live: &[&str]) -> String {
        let text = format!("resource \"x\" \"y\" {{\n  r = {list}\n}}\n");
        let body = hcl_edit::parser::parse_body(&text).unwrap();
        let block = body.blocks().next().unwrap();
        let request = CodifyRequest {
            resource_type: "x",
            block,
            text: &text,
            kind: crate::model::DriftKind::Changed,
            object: "",
            attribute: Some("r"),
            refs: &families::NO_REFS,
            expected: &serde_json::Value::Null,
            actual: &serde_json::Value::Null,
            alike: &[],
        };
        let live: Vec<String> = live.iter().map(|s| s.to_string()).collect();
        let got = families::codify_list(&request, "r", &live);
        let Codify::Edits { mut edits, .. } = got else {
            panic!("no edits for {list}: {got:?}");
        };
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        let mut out = text.clone();
        for e in edits {
            out.replace_range(e.range, &e.with);
        }
        let inner = out.trim_start_matches("resource \"x\" \"y\" {\n  r = ");
        inner.trim_end_matches("\n}\n").to_string()
    }

    #[test]
    fn an_attribute_is_never_added_outside_a_one_line_block() {
        for (text, want) in [
            ("resource \"aws_kms_key\" \"k\" {}\n", None),
            (
                "resource \"aws_kms_key\" \"k\" {\n    description = \"d\"\n}\n",
                Some("resource \"aws_kms_key\" \"k\" {\n    enable_key_rotation = true\n    description = \"d\"\n}\n"),
            ),
        ] {
            let body = hcl_edit::parser::parse_body(text).unwrap();
            let block = body.blocks().next().unwrap();
            let request = CodifyRequest {
                resource_type: "aws_kms_key",
                block,
                text,
                kind: crate::model::DriftKind::Changed,
                object: "",
                attribute: Some("enable_key_rotation"),
                refs: &families::NO_REFS,
                expected: &serde_json::json!({"enable_key_rotation": false}),
                actual: &serde_json::json!({"enable_key_rotation": true}),
                alike: &[],
            };
            match (families::set_attribute(&request, "enable_key_rotation", "true"), want) {
                (Codify::Edits { edits, .. }, Some(want)) => {
                    let mut out = text.to_string();
                    out.replace_range(edits[0].range.clone(), &edits[0].with);
                    assert_eq!(out, want);
                }
                (Codify::Manual { .. }, None) => {}
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
    }

    /// A family's codify of a `changed` drift to `actual` on the first block of `text`.
    fn codified(rtype: &str, text: &str, attribute: &str, actual: serde_json::Value) -> Codify {
        let body = hcl_edit::parser::parse_body(text).unwrap();
        let block = body.blocks().next().unwrap();
        let family = families::all()
            .into_iter()
            .find(|f| f.about().resource_types.contains(&rtype))
            .unwrap();
        family.codify(&CodifyRequest {
            resource_type: rtype,
            block,
            text,
            kind: crate::model::DriftKind::Changed,
            object: "",
            attribute: Some(attribute),
            refs: &families::NO_REFS,
            expected: &serde_json::Value::Null,
            actual: &actual,
            alike: &[],
        })
    }

    fn edited(text: &str, got: Codify) -> String {
        let Codify::Edits { mut edits, .. } = got else {
            panic!("no edits: {got:?}");
        };
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        let mut out = text.to_string();
        for e in edits {
            out.replace_range(e.range, &e.with);
        }
        out
    }

    #[test]
    fn a_rule_accepted_joins_a_block_or_becomes_one() {
        let accept = |text: &str, rule: serde_json::Value| {
            let body = hcl_edit::parser::parse_body(text).unwrap();
            let block = body.blocks().next().unwrap();
            let family = families::all()
                .into_iter()
                .find(|f| f.about().resource_types.contains(&"aws_security_group"))
                .unwrap();
            family.codify(&CodifyRequest {
                resource_type: "aws_security_group",
                block,
                text,
                kind: crate::model::DriftKind::Unmanaged,
                object: "",
                attribute: Some("ingress"),
                refs: &families::NO_REFS,
                expected: &serde_json::Value::Null,
                actual: &rule,
                alike: &[],
            })
        };
        let rule = |port: i64, cidr: &str| {
            serde_json::json!({"direction": "ingress", "ip_protocol": "tcp", "from_port": port,
                "to_port": port, "cidr_ipv4": cidr})
        };
        let tf = "resource \"aws_security_group\" \"web\" {\n  name = \"web\"\n\n  ingress {\n    from_port   = 443\n    to_port     = 443\n    protocol    = \"tcp\"\n    cidr_blocks = [\"10.0.0.0/8\"]\n  }\n}\n";
        // The same protocol and ports: the CIDR joins the list.
        assert_eq!(
            edited(tf, accept(tf, rule(443, "192.0.2.0/24"))),
            tf.replace("[\"10.0.0.0/8\"]", "[\"10.0.0.0/8\", \"192.0.2.0/24\"]")
        );
        // Another port: a new block before the closing brace, a blank line apart.
        assert_eq!(
            edited(tf, accept(tf, rule(8443, "192.0.2.0/24"))),
            tf.replace(
                "  }\n}\n",
                "  }\n\n  ingress {\n    from_port   = 8443\n    to_port     = 8443\n    protocol    = \"tcp\"\n    cidr_blocks = [\"192.0.2.0/24\"]\n  }\n}\n"
            )
        );
        // Another group as the peer: by reference, so by hand.
        let by_group = serde_json::json!({"direction": "ingress", "ip_protocol": "tcp", "from_port": 5432,
            "to_port": 5432, "referenced_security_group_id": "sg-1"});
        assert!(matches!(accept(tf, by_group), Codify::Manual { .. }));
    }

    #[test]
    fn settings_are_written_under_the_name_and_block_the_code_uses() {
        // azurerm v3 spelling kept; a string setting added in the block's indentation.
        let v3 = "resource \"azurerm_storage_account\" \"a\" {\n    name = \"a\"\n    enable_https_traffic_only = false\n}\n";
        let got = codified(
            "azurerm_storage_account",
            v3,
            "https_traffic_only_enabled",
            serde_json::json!({"https_traffic_only_enabled": true}),
        );
        assert_eq!(edited(v3, got), v3.replace("= false", "= true"));
        let got = codified(
            "azurerm_storage_account",
            v3,
            "min_tls_version",
            serde_json::json!({"min_tls_version": "TLS1_2"}),
        );
        assert_eq!(
            edited(v3, got),
            v3.replace("{\n", "{\n    min_tls_version = \"TLS1_2\"\n")
        );
        // Neither name written: which one the provider knows is not guessed.
        let bare = "resource \"azurerm_storage_account\" \"a\" {\n  name = \"a\"\n}\n";
        let got = codified(
            "azurerm_storage_account",
            bare,
            "https_traffic_only_enabled",
            serde_json::json!({"https_traffic_only_enabled": true}),
        );
        assert!(
            matches!(&got, Codify::Manual { reason, .. } if reason.contains("`enable_https_traffic_only` on older providers")),
            "{got:?}"
        );
        // Cloud SQL: inside settings { ip_configuration { … } }.
        let sql = "resource \"google_sql_database_instance\" \"db\" {\n  settings {\n    tier = \"db-f1-micro\"\n    ip_configuration {\n      ipv4_enabled = true\n    }\n  }\n}\n";
        let got = codified(
            "google_sql_database_instance",
            sql,
            "ip_configuration",
            serde_json::json!({"ip_configuration.ipv4_enabled": false}),
        );
        assert_eq!(edited(sql, got), sql.replace("= true", "= false"));
        let got = codified(
            "google_sql_database_instance",
            sql,
            "ip_configuration",
            serde_json::json!({"ip_configuration.ssl_mode": "ENCRYPTED_ONLY"}),
        );
        assert_eq!(
            edited(sql, got),
            sql.replace(
                "{\n      ipv4",
                "{\n      ssl_mode = \"ENCRYPTED_ONLY\"\n      ipv4"
            )
        );
        let flat = "resource \"google_sql_database_instance\" \"db\" {\n  name = \"db\"\n}\n";
        let got = codified(
            "google_sql_database_instance",
            flat,
            "ip_configuration",
            serde_json::json!({"ip_configuration.ipv4_enabled": false}),
        );
        assert!(
            matches!(&got, Codify::Manual { reason, .. } if reason.contains("no `settings` block")),
            "{got:?}"
        );
        // S3 default encryption, two blocks deep.
        let sse = "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = \"b\"\n\n  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm = \"AES256\"\n    }\n  }\n}\n";
        let got = codified(
            "aws_s3_bucket_server_side_encryption_configuration",
            sse,
            "sse_algorithm",
            serde_json::json!({"sse_algorithm": "aws:kms", "strength": 2}),
        );
        assert_eq!(edited(sse, got), sse.replace("\"AES256\"", "\"aws:kms\""));
        // Strings are literals, never templates.
        assert_eq!(
            families::hcl_literal(&serde_json::json!("a${b}%{c}\"")).unwrap(),
            "\"a$${b}%%{c}\\\"\""
        );
    }

    #[test]
    fn lists_lose_runs_of_elements_or_are_written_whole() {
        assert_eq!(
            listed(r#"["a", "b", "c", "d"]"#, &["a", "d"]),
            r#"["a", "d"]"#
        );
        assert_eq!(listed(r#"["a", "b", "c", "d"]"#, &["b"]), r#"["b"]"#);
        assert_eq!(listed(r#"["a", "b", "c"]"#, &["c"]), r#"["c"]"#);
        assert_eq!(listed(r#"["a", "b",]"#, &["a"]), r#"["a",]"#);
        // Something only live, or nothing left of the code's list: the list is written whole.
        assert_eq!(listed(r#"["a", "b"]"#, &["b", "z"]), r#"["b", "z"]"#);
        assert_eq!(listed(r#"["a"]"#, &["z"]), r#"["z"]"#);
    }

    #[test]
    fn names_and_removed_blocks() {
        assert_eq!(
            resource_name("module.a.aws_sg.this[0]").as_deref(),
            Some("this")
        );
        assert_eq!(resource_name(r#"aws_sg.web["x"]"#).as_deref(), Some("web"));
        // Keys with dots: CIDRs, host names.
        assert_eq!(
            resource_name(r#"module.e["a.b"].aws_sg.web["10.0.0.0/8"]"#).as_deref(),
            Some("web")
        );
        assert!(
            removed_block(r#"module.e.aws_sg.web["api.example.com"]"#, "")
                .contains("from = aws_sg.web\n")
        );
        let block = removed_block(
            "module.edge.aws_security_group_rule.ssh",
            "resource \"x\" \"y\" {}\r\n",
        );
        assert_eq!(
            block,
            "\r\nremoved {\r\n  from = aws_security_group_rule.ssh\r\n\r\n  lifecycle {\r\n    destroy = false\r\n  }\r\n}\r\n"
        );
        assert!(hcl_edit::parser::parse_body(&block).is_ok());
    }
}
