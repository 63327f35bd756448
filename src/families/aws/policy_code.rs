//! A policy document as the code writes it, for `driftgate fix`: a statement revoked live (a
//! console fix) is removed where it is written, inside `jsonencode({ Statement = [...] })` or a
//! JSON heredoc, found by meaning (the canonical statement of `policy_document`), so that key
//! order, `Sid`s and `"Action": "x"` vs `["x"]` do not matter; in a
//! `data "aws_iam_policy_document"` read by this resource alone, its `statement` block goes.
//! Anything else (`file()`, a template with interpolations, merged documents) is manual, with
//! what to remove.

use std::ops::Range;

use hcl_edit::expr::Expression;
use hcl_edit::Span;
use serde_json::{Map, Value};

use super::policy_document::statement;
use crate::families::json_text::{heredoc_json, key_of, list_elements, literal_json};
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
    crate::families::data_source_read(expr, "aws_iam_policy_document", &["json", "minified_json"])
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
    let (base, body, doc) = heredoc_json(text, span)?;
    let version = doc
        .get("Version")
        .and_then(Value::as_str)
        .unwrap_or("2008-10-17")
        .to_string();
    let Some(elements) = list_elements(body, "Statement") else {
        return match doc.get("Statement") {
            None => Ok(None),
            Some(_) => Err("`Statement` is not a list".into()),
        };
    };
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
        // The one instance of a data source behind a module's `count` switch is the block.
        let counted = data.replace(".p.json", ".p[0].json");
        assert!(
            matches!(removed(&counted, &gone), Codify::Elsewhere { ident: "data", labels, .. } if labels == ["aws_iam_policy_document", "p"])
        );
        let other = data.replace(".p.json", ".p[1].json");
        assert!(!matches!(removed(&other, &gone), Codify::Elsewhere { .. }));
        let templated = heredoc.replace("arn:aws:s3:::b/*", "${aws_s3_bucket.b.arn}/*");
        assert!(
            matches!(removed(&templated, &gone), Codify::Manual { reason, .. } if reason.contains("interpolations"))
        );
    }
}
