//! Where the literal behind `var.NAME` or `local.NAME` is written: a `locals` value, the calling
//! `module` block's argument, or the child module's `variable` default, followed up to the module
//! that spells it out. Only a literal that feeds one place is given: a local or variable that the
//! module reads more than once, or a root module variable (set per environment, outside the code),
//! is `Manual` with the reason, so that an edit never changes more than the drifted resource.

use std::path::{Path, PathBuf};

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Body;
use hcl_edit::Span;

use crate::error::{Error, Result};
use crate::source::Index;

/// A `.tf` file as it is now (earlier fixes included), and its parse: shared, since one run
/// resolves many references in the same files.
pub struct Source {
    pub text: String,
    pub body: Body,
}

/// Gives a file's current [`Source`].
pub type Reader<'a> = dyn FnMut(&Path) -> Result<std::rc::Rc<Source>> + 'a;

/// A literal written somewhere: its file, its bytes there, and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub file: PathBuf,
    pub span: std::ops::Range<usize>,
    /// The literal's source text (comments and line breaks included).
    pub text: String,
    /// `var.ssh_cidrs ← module.edge's ssh_cidrs`.
    pub through: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Literal(Site),
    /// Not a literal of this resource alone: where the trail ends (`None`: at the reference
    /// itself), and why.
    Manual {
        at: Option<(PathBuf, usize)>,
        reason: String,
    },
}

/// `var.NAME` / `local.NAME` as `("var", NAME)`; anything else (an index, a function call,
/// `each.value`) is `None`.
pub fn reference(expr: &Expression) -> Option<(&'static str, String)> {
    let (root, names) = traversal_names(expr)?;
    let kind = match root {
        "var" => "var",
        "local" => "local",
        _ => return None,
    };
    match names.as_slice() {
        [name] => Some((kind, name.to_string())),
        _ => None,
    }
}

/// A plain traversal `root.a.b` as its root and attribute names, an index by a literal string
/// counting as the name it is (`ingress.value["from_port"]` is `ingress.value.from_port`);
/// `None` for anything else (a number or computed index, a splat, a call).
pub fn traversal_names(expr: &Expression) -> Option<(&str, Vec<&str>)> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let names = t
        .operators
        .iter()
        .map(|o| match o.value() {
            TraversalOperator::GetAttr(i) => Some(i.as_str()),
            TraversalOperator::Index(Expression::String(name)) => Some(name.value().as_str()),
            _ => None,
        })
        .collect::<Option<Vec<&str>>>()?;
    Some((root.as_str(), names))
}

/// A traversal of attribute names and whole-number indexes as its root and steps, an index
/// joined to the name before it: `aws_security_group.this[0].id` → `("aws_security_group",
/// ["this[0]", "id"])`, the way code reads a resource or data source of `count = … ? 1 : 0`.
/// `None` for splats and computed indexes.
pub fn traversal_path(expr: &Expression) -> Option<(&str, Vec<String>)> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let mut steps: Vec<String> = Vec::new();
    for o in t.operators.iter() {
        let index = match o.value() {
            TraversalOperator::GetAttr(i) => {
                steps.push(i.as_str().to_string());
                continue;
            }
            TraversalOperator::Index(Expression::Number(n)) => n.value().as_u64()?,
            TraversalOperator::LegacyIndex(n) => *n.value(),
            _ => return None,
        };
        steps.last_mut()?.push_str(&format!("[{index}]"));
    }
    Some((root.as_str(), steps))
}

/// A literal expression: a string without interpolation, a number, a bool, or a list or object
/// of literals.
fn is_literal(expr: &Expression) -> bool {
    match expr {
        Expression::String(_) | Expression::Number(_) | Expression::Bool(_) => true,
        Expression::Array(items) => items.iter().all(is_literal),
        Expression::Object(o) => o.iter().all(|(_, v)| is_literal(v.expr())),
        _ => false,
    }
}

/// How many times `kind.name` (or `kind["name"]`) is read in `text` (not as a longer name:
/// `var.a` in `var.ab`).
pub fn reads(text: &str, kind: &str, name: &str) -> usize {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    [format!("{kind}.{name}"), format!("{kind}[\"{name}\"]")]
        .iter()
        .map(|needle| {
            text.match_indices(needle.as_str())
                .filter(|(i, _)| {
                    let before = text[..*i].chars().next_back();
                    let after = text[i + needle.len()..].chars().next();
                    !before.is_some_and(|c| ident(c) || c == '.')
                        && (needle.ends_with(']') || !after.is_some_and(ident))
                })
                .count()
        })
        .sum()
}

/// The module's `.tf` files with their (current) text and parsed body.
fn module_files(dir: &Path, read: &mut Reader) -> Result<Vec<(PathBuf, std::rc::Rc<Source>)>> {
    let files = crate::source::tf_files(dir)
        .map_err(|e| Error::new(dir.display().to_string(), format!("cannot list: {e}")))?;
    let mut out = Vec::new();
    for file in files {
        let source = read(&file)?;
        out.push((file, source));
    }
    Ok(out)
}

/// The literal behind `kind.name` as read in the module of `prefix` (`""`, `module.edge.`).
/// `read` gives a file's current text (edits of earlier fixes included).
pub fn resolve(
    index: &Index,
    prefix: &str,
    kind: &str,
    name: &str,
    read: &mut Reader,
) -> Result<Found> {
    resolve_in(index, prefix, kind, name, read, 0, String::new())
}

fn resolve_in(
    index: &Index,
    prefix: &str,
    kind: &str,
    name: &str,
    read: &mut Reader,
    depth: usize,
    trail: String,
) -> Result<Found> {
    let here = format!("{kind}.{name}");
    let trail = if trail.is_empty() {
        here.clone()
    } else {
        format!("{trail} ← {here}")
    };
    let Some(module) = index.module(prefix) else {
        return Err(Error::new(
            format!("module {prefix}"),
            "is not in the source index (driftgate bug)",
        ));
    };
    let files = module_files(&module.dir, read)?;
    if depth > 8 {
        return Ok(Found::Manual {
            at: None,
            reason: format!("{trail}: too many steps to follow"),
        });
    }
    let used: usize = files.iter().map(|(_, s)| reads(&s.text, kind, name)).sum();
    let in_module = if prefix.is_empty() {
        "the root module".to_string()
    } else {
        prefix.trim_end_matches('.').to_string()
    };
    if used > 1 {
        return Ok(Found::Manual {
            at: None,
            reason: format!(
                "{trail} is read {used} times in {in_module}: changing it would change the \
                 others too"
            ),
        });
    }
    // Where `kind.name` is given its value in this module (or by the call into it).
    let (file, source, expr): (PathBuf, std::rc::Rc<Source>, Expression) = if kind == "local" {
        let found = files.iter().find_map(|(f, src)| {
            src.body
                .blocks()
                .filter(|b| b.ident.as_str() == "locals")
                .find_map(|b| b.body.get_attribute(name))
                .map(|a| (f.clone(), src.clone(), a.value.clone()))
        });
        match found {
            Some(f) => f,
            None => {
                return Ok(Found::Manual {
                    at: None,
                    reason: format!("{trail}: no `locals` value of that name in {in_module}"),
                })
            }
        }
    } else {
        let Some(call) = &module.call else {
            return Ok(Found::Manual {
                at: None,
                reason: format!(
                    "{trail} is a root module variable: its value is set where the code is \
                     applied (.tfvars, -var, TF_VAR_{name}), not in this code"
                ),
            });
        };
        let call_source = read(&call.file)?;
        let call_text = &call_source.text;
        let block = call_source.body.blocks().find(|b| {
            b.ident.as_str() == "module" && b.labels.len() == 1 && b.labels[0].as_str() == call.name
        });
        let argument = block.and_then(|b| b.body.get_attribute(name));
        // The instance's module prefix one call up: `module.a["x"].module.b.` → `module.a["x"].`.
        let parent = crate::source::module_instance(prefix.trim_end_matches('.'));
        if let Some(for_each) = block.and_then(|b| b.body.get_attribute("for_each")) {
            return each_argument(
                index,
                (prefix, &parent),
                (&call.file, call_text, &for_each.value),
                argument.map(|a| &a.value),
                read,
                format!("{trail} ← module.{}'s `{name}`", call.name),
            );
        }
        match argument {
            Some(a) => {
                let via = format!("module.{}'s `{name}`", call.name);
                let expr = a.value.clone();
                if let Some((k, n)) = reference(&expr) {
                    return resolve_in(
                        index,
                        &parent,
                        k,
                        &n,
                        read,
                        depth + 1,
                        format!("{trail} ← {via}"),
                    );
                }
                return Ok(site_or_manual(
                    &call.file,
                    call_text,
                    &expr,
                    format!("{trail} ← {via}"),
                ));
            }
            None => {
                let default = files.iter().find_map(|(f, src)| {
                    src.body
                        .blocks()
                        .filter(|b| {
                            b.ident.as_str() == "variable"
                                && b.labels.len() == 1
                                && b.labels[0].as_str() == name
                        })
                        .find_map(|b| b.body.get_attribute("default"))
                        .map(|a| (f.clone(), src.clone(), a.value.clone()))
                });
                match default {
                    Some((f, t, e)) => (f, t, e),
                    None => {
                        return Ok(Found::Manual {
                            at: Some((
                                call.file.clone(),
                                block.and_then(|b| b.span()).map_or(0, |s| s.start),
                            )),
                            reason: format!(
                                "{trail}: module.{} does not set it and it has no default",
                                call.name
                            ),
                        })
                    }
                }
            }
        }
    };
    if let Some((k, n)) = reference(&expr) {
        return resolve_in(index, prefix, k, &n, read, depth + 1, trail);
    }
    let through = if kind == "local" {
        format!("{trail} (locals)")
    } else {
        format!("{trail} (default)")
    };
    Ok(site_or_manual(&file, &source.text, &expr, through))
}

/// The argument of a module call with `for_each`, for the instance of `prefix` (whose call is
/// in the module `parent`): only `each.value.NAME` (or `each.value`) is this instance's own, in
/// its entry of the call's `for_each`; anything else the call passes feeds every instance.
fn each_argument(
    index: &Index,
    (prefix, parent): (&str, &str),
    (call_file, call_text, for_each): (&Path, &str, &Expression),
    argument: Option<&Expression>,
    read: &mut Reader,
    trail: String,
) -> Result<Found> {
    let at = argument
        .and_then(|a| a.span())
        .map(|s| (call_file.to_path_buf(), s.start));
    let shared = |reason: &str| Found::Manual {
        at: at.clone(),
        reason: format!("{trail}: {reason}"),
    };
    let Some(field) = argument.and_then(each_value) else {
        return Ok(shared(match argument {
            Some(_) => {
                "the call has `for_each`, and what it passes other than `each.value` feeds \
                 every instance"
            }
            None => "the call has `for_each` and does not set it: its default feeds every instance",
        }));
    };
    let Some(key) = string_key(prefix.trim_end_matches('.')) else {
        return Ok(shared("the instance's key is not a string"));
    };
    let entry = for_each_entry(index, parent, for_each, call_file, call_text, &key, read)?;
    let found = match entry {
        // A set's element is its instance's key too: changing it makes another instance.
        EachEntry::Written(_) if field.is_empty() => shared(
            "`each.value` of a set is the instance's key: changing it would replace the instance",
        ),
        EachEntry::Written(entry) => entry.attribute(&field),
        EachEntry::NotListed => shared(&format!("the call's `for_each` has no entry \"{key}\"")),
        EachEntry::Manual(reason) => shared(&reason),
    };
    Ok(match found {
        Found::Literal(site) => Found::Literal(Site {
            through: format!("{trail} ← {}", site.through),
            ..site
        }),
        manual => manual,
    })
}

/// The string key of an instance address (`module.sg["web"]`, `aws_sg.this["a.b"]`) as written
/// in the map: Terraform's escapes undone.
pub fn string_key(address: &str) -> Option<String> {
    let inner = address.strip_suffix("\"]")?;
    let open = inner.rfind("[\"")?;
    Some(
        inner[open + 2..]
            .replace("\\\"", "\"")
            .replace("\\\\", "\\"),
    )
}

fn site_or_manual(file: &Path, text: &str, expr: &Expression, through: String) -> Found {
    let span = expr.span().unwrap_or(0..0);
    if is_literal(expr) && span.end <= text.len() {
        Found::Literal(Site {
            file: file.to_path_buf(),
            text: text[span.clone()].to_string(),
            span,
            through,
        })
    } else {
        Found::Manual {
            at: Some((file.to_path_buf(), span.start)),
            reason: format!("{through} is an expression, not a literal"),
        }
    }
}

/// The `for_each` entry of one instance (`["web"]`): the object literal the map gives it (or the
/// string of a `toset([...])`), as written (in the block, or where the map's `var`/`local` is).
pub struct Entry {
    /// Every entry of the map or set, and which one is this instance's.
    entries: Entries,
    at: usize,
    key: String,
}

/// `each.value.NAME` as `NAME`; `each.value` itself as `""`.
pub fn each_value(expr: &Expression) -> Option<String> {
    match traversal_names(expr)? {
        ("each", names) => match names.as_slice() {
            ["value", name] => Some(name.to_string()),
            ["value"] => Some(String::new()),
            _ => None,
        },
        _ => None,
    }
}

/// The attribute value at `span` of a body (a `locals` value, a module argument, a default).
pub fn expr_at<'b>(body: &'b Body, span: &std::ops::Range<usize>) -> Option<&'b Expression> {
    body.attributes()
        .find_map(|a| expr_in(&a.value, span))
        .or_else(|| body.blocks().find_map(|b| expr_at(&b.body, span)))
}

/// The expression spanning `span` in `expr`, itself or nested in its lists, objects and calls
/// (a map in an entry of a map: `groups.web.rules`).
fn expr_in<'b>(expr: &'b Expression, span: &std::ops::Range<usize>) -> Option<&'b Expression> {
    let here = expr.span()?;
    if here == *span {
        return Some(expr);
    }
    if span.start < here.start || span.end > here.end {
        return None;
    }
    match expr {
        Expression::Array(items) => items.iter().find_map(|e| expr_in(e, span)),
        Expression::Object(o) => o.iter().find_map(|(_, v)| expr_in(v.expr(), span)),
        Expression::Parenthesis(p) => expr_in(p.inner(), span),
        Expression::FuncCall(call) => call.args.iter().find_map(|e| expr_in(e, span)),
        _ => None,
    }
}

fn key_is(key: &hcl_edit::expr::ObjectKey, want: &str) -> bool {
    match key {
        hcl_edit::expr::ObjectKey::Ident(i) => i.as_str() == want,
        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => s.value() == want,
        _ => false,
    }
}

/// What the code writes for one instance of a `for_each`.
pub enum EachEntry {
    /// Its entry in a literal map (or `toset` of strings) that this block alone reads.
    Written(Box<Entry>),
    /// The literal map or set (every key a literal) has no entry for it: the code no longer
    /// declares the instance.
    NotListed,
    /// The map is not a literal of this block's own: why.
    Manual(String),
}

/// The entries of a `for_each` written as a literal in the code and read by this block alone:
/// a map's entries (from key to value), a `toset([...])`'s strings, or (for a `dynamic` block,
/// which iterates lists too) a list's elements.
pub struct Entries {
    pub file: PathBuf,
    /// The text of `file` the spans index into.
    pub text: String,
    pub set: bool,
    /// A list (a `dynamic` block's), whose elements' keys are their indices.
    pub list: bool,
    /// (key: a map key or a set's string, `None` for a list element or a computed key; value;
    /// span of the whole entry in `text`).
    pub items: Vec<(Option<String>, Expression, std::ops::Range<usize>)>,
}

/// The entries of `for_each` (an attribute of a block of `file`, whose text is `text`); `lists`:
/// whether a list of elements is iterable (a `dynamic` block's); `each`: the `for_each` entry
/// of the resource the block is in, which `each.value.NAME` reads. `Ok(Err(reason))`: it is not
/// a literal of this block's own.
pub fn entries_of(
    index: &Index,
    prefix: &str,
    for_each: &Expression,
    (file, text): (&Path, &str),
    lists: bool,
    each: Option<&Entry>,
    read: &mut Reader,
) -> Result<std::result::Result<Entries, String>> {
    // `{ for r in LIST : r.NAME => r }`: the list's objects, each keyed by a field of its own.
    let (for_each, keyed_by) = match for_each {
        Expression::ForExpr(f) => {
            let var = f.intro.value_var.as_str();
            let whole = matches!(&f.value_expr, Expression::Variable(v) if v.as_str() == var);
            let field = f
                .key_expr
                .as_ref()
                .and_then(traversal_names)
                .and_then(|(root, names)| match names.as_slice() {
                    [name] if root == var => Some(name.to_string()),
                    _ => None,
                });
            let plain = f.cond.is_none() && !f.grouping;
            // `{ for k, v in MAP : k => v }`: the map itself, as written.
            let same_key = f.intro.key_var.as_ref().is_some_and(|k| {
                matches!(&f.key_expr, Some(Expression::Variable(e)) if e.as_str() == k.as_str())
            });
            match field {
                _ if whole && plain && same_key => (&f.intro.collection_expr, None),
                Some(field) if whole && plain && f.intro.key_var.is_none() => {
                    (&f.intro.collection_expr, Some(field))
                }
                _ => return Ok(Err(
                    "`for_each` is a `for` expression other than `{ for x in LIST : x.NAME => x }` \
                     or `{ for k, v in MAP : k => v }`"
                        .into(),
                )),
            }
        }
        other => (other, None),
    };
    // `toset(...)`: a set of strings, each its own instance's key.
    let (for_each, set) = match for_each {
        Expression::FuncCall(call)
            if call.name.name.as_str() == "toset" && call.args.len() == 1 =>
        {
            match call.args.iter().next() {
                Some(arg) => (arg, true),
                None => (for_each, false),
            }
        }
        other => (other, false),
    };
    let found = match (reference(for_each), each_value(for_each), each) {
        (Some((kind, name)), _, _) => Some(resolve(index, prefix, kind, &name, read)?),
        (None, Some(name), Some(entry)) if name.is_empty() => Some(entry.value()),
        (None, Some(name), Some(entry)) => Some(entry.attribute(&name)),
        _ => None,
    };
    let (file, text, map) = match found {
        Some(found) => match found {
            Found::Literal(site) => {
                let source = read(&site.file)?;
                match expr_at(&source.body, &site.span) {
                    Some(map) => (site.file, source.text.clone(), map.clone()),
                    None => return Ok(Err(format!("{} is not found again", site.through))),
                }
            }
            Found::Manual { reason, .. } => return Ok(Err(reason)),
        },
        None => (file.to_path_buf(), text.to_string(), for_each.clone()),
    };
    let items = match &map {
        // Keyed by a field: an element whose key is not a literal string has none.
        Expression::Array(list) if keyed_by.is_some() => list
            .iter()
            .map(|e| {
                let key = match (e, keyed_by.as_deref()) {
                    (Expression::Object(o), Some(field)) => o
                        .iter()
                        .find(|(k, _)| key_is(k, field))
                        .and_then(|(_, v)| match v.expr() {
                            Expression::String(s) => Some(s.value().to_string()),
                            _ => None,
                        }),
                    _ => None,
                };
                (key, e.clone(), e.span().unwrap_or(0..0))
            })
            .collect(),
        Expression::Object(map) if !set && keyed_by.is_none() => map
            .iter()
            .map(|(k, v)| {
                let (start, key) = match k {
                    hcl_edit::expr::ObjectKey::Ident(i) => (i.span(), Some(i.as_str().to_string())),
                    hcl_edit::expr::ObjectKey::Expression(e) => (
                        e.span(),
                        match e {
                            Expression::String(s) => Some(s.value().to_string()),
                            _ => None,
                        },
                    ),
                };
                let span = match (start, v.expr().span()) {
                    (Some(a), Some(b)) => a.start..b.end,
                    _ => 0..0,
                };
                (key, v.expr().clone(), span)
            })
            .collect(),
        Expression::Array(list) if set || lists => list
            .iter()
            .map(|e| {
                let key = match e {
                    Expression::String(s) if set => Some(s.value().to_string()),
                    _ => None,
                };
                (key, e.clone(), e.span().unwrap_or(0..0))
            })
            .collect(),
        _ => {
            return Ok(Err(
                "`for_each` is over something other than a literal map or set: its literals \
                 feed every instance"
                    .into(),
            ))
        }
    };
    Ok(Ok(Entries {
        file,
        text,
        set,
        list: !set && keyed_by.is_none() && matches!(map, Expression::Array(_)),
        items,
    }))
}

impl Entries {
    /// A literal of `text` as the place it is written.
    fn site(&self, expr: &Expression, through: String) -> Option<Site> {
        let span = expr.span()?;
        (is_literal(expr) && span.end <= self.text.len()).then(|| Site {
            file: self.file.clone(),
            text: self.text[span.clone()].to_string(),
            span,
            through,
        })
    }

    /// The value of field `name` of entry `i`'s object.
    fn object_field(&self, i: usize, name: &str) -> Option<&Expression> {
        let (_, Expression::Object(o), _) = self.items.get(i)? else {
            return None;
        };
        o.iter()
            .find(|(k, _)| key_is(k, name))
            .map(|(_, v)| v.expr())
    }

    /// Where entry `i` is written, when it is one literal value (a string of a set or list).
    pub fn element(&self, i: usize, through: String) -> Option<Site> {
        let (_, value, _) = self.items.get(i)?;
        match value {
            Expression::Object(_) => None,
            value => self.site(value, through),
        }
    }

    /// Where field `name` of entry `i`'s object is written, when it is a literal.
    pub fn field(&self, i: usize, name: &str, through: String) -> Option<Site> {
        self.site(self.object_field(i, name)?, through)
    }
}

/// The entry of instance `key` in a block's `for_each` (in `file`, whose text is `text`).
#[allow(clippy::too_many_arguments)]
pub fn for_each_entry(
    index: &Index,
    prefix: &str,
    for_each: &Expression,
    file: &Path,
    text: &str,
    key: &str,
    read: &mut Reader,
) -> Result<EachEntry> {
    let entries = match entries_of(index, prefix, for_each, (file, text), false, None, read)? {
        Ok(entries) => entries,
        Err(reason) => return Ok(EachEntry::Manual(format!("the block's {reason}"))),
    };
    let Some(at) = entries
        .items
        .iter()
        .position(|(k, _, _)| k.as_deref() == Some(key))
    else {
        return Ok(match entries.items.iter().any(|(k, _, _)| k.is_none()) {
            true => EachEntry::Manual(format!(
                "the `for_each` {} has keys that are not literals: which is \"{key}\" cannot be \
                 told",
                if entries.set { "set" } else { "map" }
            )),
            false => EachEntry::NotListed,
        });
    };
    Ok(EachEntry::Written(Box::new(Entry {
        entries,
        at,
        key: key.to_string(),
    })))
}

impl Entry {
    /// Where the instance's entry is written: the file, its text, every entry's span in it and
    /// which one is this instance's (to remove it when the instance is gone).
    pub fn written(&self) -> (&Path, &str, Vec<std::ops::Range<usize>>, usize) {
        let spans = self
            .entries
            .items
            .iter()
            .map(|(_, _, s)| s.clone())
            .collect();
        (&self.entries.file, &self.entries.text, spans, self.at)
    }

    fn value_expr(&self) -> Option<&Expression> {
        self.entries.items.get(self.at).map(|(_, value, _)| value)
    }

    fn manual_at(&self, expr: Option<&Expression>, reason: String) -> Found {
        let offset = expr.and_then(|e| e.span()).map_or(0, |s| s.start);
        Found::Manual {
            at: Some((self.entries.file.clone(), offset)),
            reason,
        }
    }

    /// Where `each.value` of this instance is written: the string of a `toset([...])` (a map
    /// entry's object is not one value).
    pub fn value(&self) -> Found {
        let through = format!("each.value ← for_each[\"{}\"]", self.key);
        match self.value_expr() {
            Some(value @ Expression::String(_)) => {
                match self.entries.site(value, through.clone()) {
                    Some(site) => Found::Literal(site),
                    None => self.manual_at(Some(value), format!("{through} is not found again")),
                }
            }
            value => self.manual_at(value, format!("{through} is an object, not one value")),
        }
    }

    /// Where `each.value.NAME` of this instance is written.
    pub fn attribute(&self, name: &str) -> Found {
        let through = format!("each.value.{name} ← for_each[\"{}\"]", self.key);
        if !matches!(self.value_expr(), Some(Expression::Object(_))) {
            return self.manual_at(
                None,
                format!("{through}: the entry is not an object of literals"),
            );
        }
        match self.entries.object_field(self.at, name) {
            Some(v) => match self.entries.site(v, through.clone()) {
                Some(site) => Found::Literal(site),
                None => self.manual_at(
                    Some(v),
                    format!("{through} is an expression, not a literal"),
                ),
            },
            None => self.manual_at(None, format!("{through}: the entry does not set it")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        dir
    }

    fn found(dir: &Path, prefix: &str, kind: &str, name: &str) -> Found {
        let index = Index::build(dir);
        let mut read = |p: &Path| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::new(p.display().to_string(), e.to_string()))?;
            let body = hcl_edit::parser::parse_body(&text).unwrap();
            Ok(std::rc::Rc::new(Source { text, body }))
        };
        resolve(&index, prefix, kind, name, &mut read).unwrap()
    }

    #[test]
    fn traversal_paths_keep_number_indexes() {
        let path = |text: &str| {
            let body = hcl_edit::parser::parse_body(&format!("x = {text}\n")).unwrap();
            let attr = body.get_attribute("x").unwrap();
            traversal_path(&attr.value).map(|(root, steps)| format!("{root}:{}", steps.join("|")))
        };
        assert_eq!(
            path("aws_sg.this[0].id").as_deref(),
            Some("aws_sg:this[0]|id")
        );
        assert_eq!(
            path("aws_sg.this.0.id").as_deref(),
            Some("aws_sg:this[0]|id")
        );
        assert_eq!(path("data.d.p.json").as_deref(), Some("data:d|p|json"));
        for not in [
            "aws_sg.this[var.i].id",
            "aws_sg.this[*].id",
            "var.x[0]",
            "f(x)",
        ] {
            assert_eq!(path(not).is_some(), not == "var.x[0]", "{not}");
        }
    }

    #[test]
    fn references_are_plain_var_and_local() {
        let body = hcl_edit::parser::parse_body(
            "a = var.x\nb = local.y\nc = var.x[0]\nd = each.value.z\ne = module.m.out\n",
        )
        .unwrap();
        let got: Vec<_> = body.attributes().map(|a| reference(&a.value)).collect();
        assert_eq!(
            got,
            [
                Some(("var", "x".into())),
                Some(("local", "y".into())),
                None,
                None,
                None
            ]
        );
        assert_eq!(reads("var.a var.ab x.var.a var.a-b var.a]", "var", "a"), 2);
        // An index by a literal string is the name it is.
        let body =
            hcl_edit::parser::parse_body("a = each.value[\"port\"]\nb = each.value[var.k]\n")
                .unwrap();
        let got: Vec<_> = body.attributes().map(|a| each_value(&a.value)).collect();
        assert_eq!(got, [Some("port".to_string()), None]);
        assert_eq!(
            reads(
                "r.value[\"port\"] r.value.port r.value[\"ports\"]",
                "r.value",
                "port"
            ),
            2
        );
    }

    #[test]
    fn a_module_argument_a_local_and_a_default() {
        let dir = tree(&[
            (
                "main.tf",
                "locals {\n  office = [\"10.0.0.0/8\"] # HQ\n}\n\nmodule \"edge\" {\n  source = \"./modules/edge\"\n  ssh     = [\"0.0.0.0/0\", \"10.0.0.0/8\"]\n  office  = local.office\n}\n",
            ),
            (
                "modules/edge/main.tf",
                "variable \"ssh\" {}\nvariable \"office\" {}\nvariable \"https\" {\n  default = [\"0.0.0.0/0\"]\n}\nvariable \"shared\" {\n  default = []\n}\n\nresource \"aws_security_group\" \"this\" {\n  a = var.ssh\n  b = var.office\n  c = var.https\n  d = var.shared\n  e = var.shared\n}\n",
            ),
        ]);
        let Found::Literal(s) = found(dir.path(), "module.edge.", "var", "ssh") else {
            panic!()
        };
        assert!(s.file.ends_with("main.tf") && !s.file.to_string_lossy().contains("modules"));
        assert_eq!(s.text, "[\"0.0.0.0/0\", \"10.0.0.0/8\"]");
        assert_eq!(s.through, "var.ssh ← module.edge's `ssh`");
        let Found::Literal(s) = found(dir.path(), "module.edge.", "var", "office") else {
            panic!()
        };
        assert_eq!(s.text, "[\"10.0.0.0/8\"]");
        assert_eq!(
            s.through,
            "var.office ← module.edge's `office` ← local.office (locals)"
        );
        let Found::Literal(s) = found(dir.path(), "module.edge.", "var", "https") else {
            panic!()
        };
        assert!(s.file.ends_with("modules/edge/main.tf"));
        assert_eq!(s.through, "var.https (default)");
        let Found::Manual { reason, .. } = found(dir.path(), "module.edge.", "var", "shared")
        else {
            panic!()
        };
        assert!(
            reason.contains("is read 2 times in module.edge"),
            "{reason}"
        );
        let Found::Manual { reason, .. } = found(dir.path(), "", "var", "region") else {
            panic!()
        };
        assert!(reason.contains("root module variable"), "{reason}");
    }
}
