//! A policy document as the code writes it, for `driftgate fix`: a statement revoked live (a
//! console fix) is removed where it is written, inside `jsonencode({ Statement = [...] })` or a
//! JSON heredoc, found by meaning (the canonical statement of `policy_document`), so that key
//! order, `Sid`s and `"Action": "x"` vs `["x"]` do not matter. Anything else (a
//! `data.aws_iam_policy_document`, `file()`, a template with interpolations) is manual, with
//! what to remove.

use std::ops::Range;

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::Span;
use serde_json::{Map, Value};

use super::policy_document::statement;
use crate::families::{remove_between, remove_element, Codify, CodifyRequest, TextEdit};

/// The data source that renders policy documents in Terraform.
pub const DATA: &str = "data.aws_iam_policy_document";

/// The edit that removes the statement `r.expected` (gone live) from the document in attribute
/// `attr` of the block (or, asked of a `data "aws_iam_policy_document"` block, its `statement`).
pub fn codify_statement(r: &CodifyRequest, attr: &str) -> Codify {
    let start = r.block.span().map_or(0, |s| s.start);
    let gone = r.actual.is_null() && r.kind != crate::model::DriftKind::Unmanaged;
    if !gone {
        return Codify::Unsupported;
    }
    let want = format!("no statement {}", short(r.expected));
    let manual = |offset: usize, reason: String| Codify::Manual {
        offset,
        reason,
        want: want.clone(),
    };
    if r.resource_type == DATA {
        return match in_data_source(r) {
            Ok(Some(range)) => Codify::Edits {
                edits: vec![TextEdit {
                    range,
                    with: String::new(),
                }],
                summary: format!("remove the statement {}", short(r.expected)),
            },
            Ok(None) => Codify::Edits {
                edits: Vec::new(),
                summary: want.clone(),
            },
            Err(reason) => manual(start, reason),
        };
    }
    let Some(attribute) = r.block.body.get_attribute(attr) else {
        return manual(start, format!("the block has no `{attr}`"));
    };
    let at = attribute.value.span().map_or(start, |s| s.start);
    let found = match &attribute.value {
        Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
            match call.args.iter().next() {
                Some(Expression::Object(doc)) => in_jsonencode(r.text, doc, r.expected),
                _ => Err("`jsonencode` of something other than an object literal".into()),
            }
        }
        Expression::HeredocTemplate(_) => match attribute.value.span() {
            Some(span) => in_heredoc(r.text, span, r.expected),
            None => Err("the heredoc has no position".into()),
        },
        Expression::Traversal(_) => match data_source_name(&attribute.value) {
            Some(name) => {
                return Codify::Elsewhere {
                    ident: "data",
                    labels: vec!["aws_iam_policy_document".into(), name],
                    offset: at,
                }
            }
            None => Err(format!(
            "`{attr}` comes from elsewhere (a `data \"aws_iam_policy_document\"`, a variable): \
             remove the statement there"
            )),
        },
        _ => Err(format!(
            "`{attr}` is not a `jsonencode` object or a JSON heredoc"
        )),
    };
    match found {
        Ok(Some(range)) => Codify::Edits {
            edits: vec![TextEdit {
                range,
                with: String::new(),
            }],
            summary: format!("remove the statement {}", short(r.expected)),
        },
        // Not in the code: an earlier fix removed it already.
        Ok(None) => Codify::Edits {
            edits: Vec::new(),
            summary: want.clone(),
        },
        Err(reason) => manual(at, reason),
    }
}

/// `data.aws_iam_policy_document.NAME.json` → `NAME`.
fn data_source_name(expr: &Expression) -> Option<String> {
    let (root, names) = crate::literals::traversal_names(expr)?;
    match (root, names.as_slice()) {
        ("data", ["aws_iam_policy_document", name, "json" | "minified_json"]) => {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// A `statement` block of `data "aws_iam_policy_document"` as the JSON statement the data
/// source renders; `None` when a part of it is not a literal.
fn statement_block_json(body: &hcl_edit::structure::Body) -> Option<Value> {
    let mut out = Map::new();
    for attr in body.attributes() {
        let v = literal_json(&attr.value)?;
        let key = match attr.key.as_str() {
            "sid" => "Sid",
            "effect" => "Effect",
            "actions" => "Action",
            "not_actions" => "NotAction",
            "resources" => "Resource",
            "not_resources" => "NotResource",
            _ => return None,
        };
        out.insert(key.into(), v);
    }
    out.entry("Effect")
        .or_insert_with(|| Value::String("Allow".into()));
    let mut conditions: Map<String, Value> = Map::new();
    for b in body.blocks() {
        let field = |k: &str| b.body.get_attribute(k).and_then(|a| literal_json(&a.value));
        match b.ident.as_str() {
            kind @ ("principals" | "not_principals") => {
                let key = if kind == "principals" {
                    "Principal"
                } else {
                    "NotPrincipal"
                };
                let (t, ids) = (field("type")?, field("identifiers")?);
                let t = t.as_str()?.to_string();
                let entry = out.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if t == "*" {
                    *entry = Value::String("*".into());
                    continue;
                }
                let m = entry.as_object_mut()?;
                let list = m.entry(t).or_insert_with(|| Value::Array(Vec::new()));
                list.as_array_mut()?.extend(ids.as_array()?.iter().cloned());
            }
            "condition" => {
                let (test, variable, values) =
                    (field("test")?, field("variable")?, field("values")?);
                let per_test = conditions
                    .entry(test.as_str()?.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                per_test
                    .as_object_mut()?
                    .insert(variable.as_str()?.to_string(), values);
            }
            _ => return None,
        }
    }
    if !conditions.is_empty() {
        out.insert("Condition".into(), Value::Object(conditions));
    }
    Some(Value::Object(out))
}

/// The lines of the `statement` block that means the statement gone live.
fn in_data_source(r: &CodifyRequest) -> Result<Option<Range<usize>>, String> {
    let version = r
        .block
        .body
        .get_attribute("version")
        .and_then(|a| literal_json(&a.value))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "2012-10-17".into());
    let mut opaque = false;
    for b in r.block.body.blocks() {
        match b.ident.as_str() {
            "statement" => {}
            "dynamic" => {
                opaque = true;
                continue;
            }
            _ => continue,
        }
        match statement_block_json(&b.body).map(|v| statement(&v, &version)) {
            Some(Ok(st)) if st.value == *r.expected => {
                let span = b.span().ok_or("the statement block has no position")?;
                return Ok(Some(crate::families::block_lines(r.text, span)));
            }
            Some(_) => {}
            None => opaque = true,
        }
    }
    let merged = [
        "source_policy_documents",
        "override_policy_documents",
        "source_json",
        "override_json",
    ]
    .iter()
    .any(|k| r.block.body.get_attribute(k).is_some());
    if opaque || merged {
        return Err(
            "the data source has statements that are not literals, dynamic blocks, or merged \
             documents: which one is meant cannot be told"
                .into(),
        );
    }
    Ok(None)
}

/// `Allow s3:getobject on arn:…`, from a canonical statement.
fn short(st: &Value) -> String {
    let list = |k: &str| {
        st.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    format!(
        "{} {} on {}",
        st.get("Effect").and_then(Value::as_str).unwrap_or("?"),
        list("Action"),
        list("Resource")
    )
}

/// An HCL literal as JSON (what `jsonencode` makes of it); `None` when any part is not a
/// literal (a reference, a function call, a template).
fn literal_json(expr: &Expression) -> Option<Value> {
    Some(match expr {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::Number(n) => {
            let n = n.value();
            n.as_i64()
                .map(Value::from)
                .or_else(|| n.as_f64().map(Value::from))?
        }
        Expression::String(s) => Value::String(s.value().to_string()),
        Expression::Array(items) => {
            Value::Array(items.iter().map(literal_json).collect::<Option<_>>()?)
        }
        Expression::Object(o) => {
            let mut m = Map::new();
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    _ => return None,
                };
                m.insert(key, literal_json(v.expr())?);
            }
            Value::Object(m)
        }
        Expression::Parenthesis(p) => literal_json(p.inner())?,
        _ => return None,
    })
}

fn key_of(k: &ObjectKey) -> Option<&str> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().as_str()),
        _ => None,
    }
}

/// The bytes that remove the statement from a `jsonencode` object: `Ok(None)` when no
/// statement of the code means it.
fn in_jsonencode(
    text: &str,
    doc: &hcl_edit::expr::Object,
    gone: &Value,
) -> Result<Option<Range<usize>>, String> {
    let version = doc
        .iter()
        .find(|(k, _)| key_of(k) == Some("Version"))
        .and_then(|(_, v)| literal_json(v.expr()))
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "2008-10-17".into());
    let Some((_, list)) = doc.iter().find(|(k, _)| key_of(k) == Some("Statement")) else {
        return Ok(None);
    };
    let elements: Vec<&Expression> = match list.expr() {
        Expression::Array(a) => a.iter().collect(),
        single @ Expression::Object(_) => vec![single],
        _ => return Err("`Statement` is not a literal list".into()),
    };
    let mut spans = Vec::new();
    let mut found = None;
    let mut opaque = false;
    for (i, e) in elements.iter().enumerate() {
        spans.push(e.span().unwrap_or(0..0));
        match literal_json(e).map(|v| statement(&v, &version)) {
            Some(Ok(st)) if st.value == *gone => found = Some(i),
            Some(_) => {}
            None => opaque = true,
        }
    }
    match (found, list.expr()) {
        (Some(i), Expression::Array(_)) => Ok(Some(remove_element(text, &spans, i))),
        (Some(_), _) => Err("the document's only statement is the one to remove".into()),
        (None, _) if opaque => Err(
            "a statement of the document is not a literal (a reference or a function): \
             which one is meant cannot be told"
                .into(),
        ),
        (None, _) => Ok(None),
    }
}

/// The bytes that remove the statement from a JSON heredoc.
fn in_heredoc(
    text: &str,
    span: Range<usize>,
    gone: &Value,
) -> Result<Option<Range<usize>>, String> {
    let raw = text
        .get(span.clone())
        .ok_or("the heredoc is outside the file")?;
    let body_start = raw.find('\n').ok_or("the heredoc has no body")? + 1;
    let body_end = raw.trim_end().rfind('\n').unwrap_or(raw.len());
    let body = raw.get(body_start..body_end).unwrap_or_default();
    if body.contains("${") || body.contains("%{") {
        return Err("the heredoc has interpolations: its JSON is only known when applied".into());
    }
    let doc: Value =
        serde_json::from_str(body).map_err(|e| format!("the heredoc is not JSON: {e}"))?;
    let version = doc
        .get("Version")
        .and_then(Value::as_str)
        .unwrap_or("2008-10-17")
        .to_string();
    let Some(elements) = statement_elements(body) else {
        return match doc.get("Statement") {
            None => Ok(None),
            Some(_) => Err("`Statement` is not a list".into()),
        };
    };
    let base = span.start + body_start;
    for (i, e) in elements.iter().enumerate() {
        let Ok(v) = serde_json::from_str::<Value>(&body[e.clone()]) else {
            continue;
        };
        if statement(&v, &version).is_ok_and(|st| st.value == *gone) {
            let r = remove_between(&elements, i);
            return Ok(Some(base + r.start..base + r.end));
        }
    }
    Ok(None)
}

/// The byte ranges of the elements of the top-level `"Statement"` list of a JSON text.
fn statement_elements(json: &str) -> Option<Vec<Range<usize>>> {
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut last_key: Option<(usize, usize)> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                if depth == 1 {
                    last_key = Some((i + 1, end));
                }
                i = end + 1;
                continue;
            }
            b'{' => depth += 1,
            b'}' => depth = depth.checked_sub(1)?,
            b'[' if depth == 1 && last_key.is_some_and(|(a, b)| &json[a..b] == "Statement") => {
                return elements_of(json, i);
            }
            b'[' => depth += 1,
            b']' => depth = depth.checked_sub(1)?,
            b',' if depth == 1 => last_key = None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the closing quote of the string opening at `open`.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut j = open + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// The elements of the JSON list opening at `open`, trimmed of whitespace.
fn elements_of(json: &str, open: usize) -> Option<Vec<Range<usize>>> {
    let bytes = json.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut i = open + 1;
    let push = |out: &mut Vec<Range<usize>>, a: usize, b: usize| {
        let s = &json[a..b];
        let lead = s.len() - s.trim_start().len();
        let trail = s.len() - s.trim_end().len();
        if a + lead < b - trail {
            out.push(a + lead..b - trail);
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)? + 1;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => depth -= 1,
            b']' => {
                push(&mut out, start, i);
                return Some(out);
            }
            b',' if depth == 0 => {
                push(&mut out, start, i);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(text: &str, gone: &Value) -> Codify {
        let body = hcl_edit::parser::parse_body(text).unwrap();
        let block = body.blocks().next().unwrap();
        codify_statement(
            &CodifyRequest {
                resource_type: "aws_iam_policy",
                block,
                text,
                kind: crate::model::DriftKind::Changed,
                object: "",
                attribute: Some("policy"),
                refs: &crate::families::NO_REFS,
                expected: gone,
                actual: &Value::Null,
                alike: &[],
            },
            "policy",
        )
    }

    fn apply(text: &str, got: Codify) -> String {
        let Codify::Edits { edits, .. } = got else {
            panic!("{got:?}");
        };
        let mut out = text.to_string();
        for e in edits {
            out.replace_range(e.range, &e.with);
        }
        out
    }

    fn canonical(st: Value) -> Value {
        statement(&st, "2012-10-17").unwrap().value
    }

    #[test]
    fn a_statement_leaves_jsonencode_and_heredoc_documents_by_meaning() {
        let gone =
            canonical(serde_json::json!({"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}));
        let hcl = "resource \"aws_iam_policy\" \"p\" {\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [\n      {\n        Sid      = \"Read\"\n        Effect   = \"Allow\"\n        Action   = [\"s3:GetObject\"]\n        Resource = \"arn:aws:s3:::b/*\"\n      },\n      {\n        # added during the incident\n        Effect   = \"Allow\"\n        Action   = \"s3:*\"\n        Resource = [\"*\"]\n      },\n    ]\n  })\n}\n";
        let out = apply(hcl, removed(hcl, &gone));
        // The statement's lines, its comment too.
        let from = hcl.find("      {\n        # added").unwrap();
        let to = hcl.find("[\"*\"]\n      },\n").unwrap() + "[\"*\"]\n      },\n".len();
        assert_eq!(out, format!("{}{}", &hcl[..from], &hcl[to..]));
        assert!(hcl_edit::parser::parse_body(&out).is_ok(), "{out}");
        assert!(!out.contains("s3:*"), "{out}");
        assert!(out.contains("s3:GetObject"), "{out}");

        let heredoc = "resource \"aws_iam_policy\" \"p\" {\n  policy = <<-EOF\n    {\n      \"Version\": \"2012-10-17\",\n      \"Statement\": [\n        {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\"},\n        {\"Effect\": \"Allow\", \"Action\": [\"s3:*\"], \"Resource\": \"*\"}\n      ]\n    }\n  EOF\n}\n";
        let out = apply(heredoc, removed(heredoc, &gone));
        assert_eq!(
            out,
            heredoc.replace(
                ",\n        {\"Effect\": \"Allow\", \"Action\": [\"s3:*\"], \"Resource\": \"*\"}",
                ""
            )
        );
        // Already gone from the code: nothing to write.
        assert!(matches!(removed(&out, &gone), Codify::Edits { edits, .. } if edits.is_empty()));
        // From a data source, or with interpolations: manual.
        let data = "resource \"aws_iam_policy\" \"p\" {\n  policy = data.aws_iam_policy_document.p.json\n}\n";
        assert!(
            matches!(removed(data, &gone), Codify::Elsewhere { ident: "data", labels, .. } if labels == ["aws_iam_policy_document", "p"])
        );
        let templated = heredoc.replace("arn:aws:s3:::b/*", "${aws_s3_bucket.b.arn}/*");
        assert!(
            matches!(removed(&templated, &gone), Codify::Manual { reason, .. } if reason.contains("interpolations"))
        );
    }

    #[test]
    fn statement_lists_are_found_in_json_text() {
        let json = r#"{"Statement": [ {"a": "]"}, {"b": [1, 2]} ], "Other": ["x"]}"#;
        let got: Vec<&str> = statement_elements(json)
            .unwrap()
            .into_iter()
            .map(|r| &json[r])
            .collect();
        assert_eq!(got, [r#"{"a": "]"}"#, r#"{"b": [1, 2]}"#]);
        assert_eq!(statement_elements(r#"{"Other": {"Statement": [1]}}"#), None);
    }
}
