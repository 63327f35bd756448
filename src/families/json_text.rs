//! Policy documents as the code writes them, for `driftgate fix`: the literal object inside
//! `jsonencode(...)` read as the JSON it encodes, and the lists of a JSON heredoc found by byte
//! range, so that one element can leave the text and every other byte stays as written. AWS
//! policy statements and Google IAM bindings are both edited through this.

use std::ops::Range;

use hcl_edit::expr::{Expression, ObjectKey};
use serde_json::{Map, Value};

/// An HCL literal as JSON (what `jsonencode` makes of it); `None` when any part is not a
/// literal (a reference, a function call, a template).
pub fn literal_json(expr: &Expression) -> Option<Value> {
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
                m.insert(key_of(k)?.to_string(), literal_json(v.expr())?);
            }
            Value::Object(m)
        }
        Expression::Parenthesis(p) => literal_json(p.inner())?,
        _ => return None,
    })
}

/// An object key written as an identifier or a literal string.
pub fn key_of(k: &ObjectKey) -> Option<&str> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().as_str()),
        _ => None,
    }
}

/// The value of `key` in an HCL object literal.
pub fn field<'o>(object: &'o hcl_edit::expr::Object, key: &str) -> Option<&'o Expression> {
    object
        .iter()
        .find(|(k, _)| key_of(k) == Some(key))
        .map(|(_, v)| v.expr())
}

/// The JSON body of a heredoc spanning `span` of `text`, with the offset of its first byte in
/// `text`. `Err`: why it cannot be edited as JSON (interpolations, not JSON).
pub fn heredoc_json(text: &str, span: Range<usize>) -> Result<(usize, &str, Value), String> {
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
    Ok((span.start + body_start, body, doc))
}

/// The byte ranges (trimmed of whitespace) of the elements of the list under `key` of the
/// object `json` (a JSON text whose top level is that object); `None` when `key` does not hold
/// a list there.
pub fn list_elements(json: &str, key: &str) -> Option<Vec<Range<usize>>> {
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
            b'[' if depth == 1 && last_key.is_some_and(|(a, b)| &json[a..b] == key) => {
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
    use crate::families::remove_all_between;

    #[test]
    fn lists_are_found_in_json_text() {
        let json = r#"{"Statement": [ {"a": "]"}, {"b": [1, 2]} ], "Other": ["x"]}"#;
        let got: Vec<&str> = list_elements(json, "Statement")
            .unwrap()
            .into_iter()
            .map(|r| &json[r])
            .collect();
        assert_eq!(got, [r#"{"a": "]"}"#, r#"{"b": [1, 2]}"#]);
        assert_eq!(list_elements(json, "Other").map(|l| l.len()), Some(1));
        assert_eq!(
            list_elements(r#"{"Other": {"Statement": [1]}}"#, "Statement"),
            None
        );
    }

    #[test]
    fn removed_elements_leave_valid_json() {
        let cases = [
            (r#"["a", "b", "c", "d"]"#, vec![1], r#"["a", "c", "d"]"#),
            (r#"["a", "b", "c", "d"]"#, vec![1, 2], r#"["a", "d"]"#),
            (r#"["a", "b", "c", "d"]"#, vec![0, 3], r#"["b", "c"]"#),
            (r#"["a", "b", "c", "d"]"#, vec![2, 3], r#"["a", "b"]"#),
            (r#"["a", "b", "c", "d"]"#, vec![0, 1, 2, 3], r#"[]"#),
            ("[\n  \"a\",\n  \"b\"\n]", vec![1], "[\n  \"a\"\n]"),
        ];
        for (list, gone, want) in cases {
            let doc = format!("{{\"k\": {list}}}");
            let spans = list_elements(&doc, "k").unwrap();
            let mut out = doc.clone();
            for r in remove_all_between(&spans, &gone).into_iter().rev() {
                out.replace_range(r, "");
            }
            assert_eq!(out, format!("{{\"k\": {want}}}"), "{list} without {gone:?}");
            serde_json::from_str::<Value>(&out).unwrap();
        }
    }
}
