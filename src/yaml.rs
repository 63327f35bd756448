//! Limits for the YAML files driftgate reads (`.driftgate.yaml`, policy files). Both can live on
//! the branch under check, so they are bounded before they are parsed: a file of a few hundred
//! KiB with one large anchor and thousands of aliases would otherwise expand to gigabytes.

use crate::error::{Error, Result};

/// The largest YAML file read.
const MAX_BYTES: usize = 1024 * 1024;
/// The most text aliases may expand to, counted as aliases × file size (each alias repeats at most
/// the whole file; nested repetition is bounded by the parser's own repetition limit).
const MAX_EXPANSION: usize = 32 * 1024 * 1024;

/// The text to parse: without a UTF-8 byte order mark, and refused when it is too large or its
/// aliases could expand past [`MAX_EXPANSION`]. `label` names the file in errors.
pub fn guard<'t>(label: &str, text: &'t str) -> Result<&'t str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_BYTES {
        return Err(Error::new(
            label,
            format!(
                "{} bytes: larger than the {} KiB a driftgate YAML file may have",
                text.len(),
                MAX_BYTES / 1024
            ),
        ));
    }
    let aliases = aliases(text);
    if aliases.saturating_mul(text.len()) > MAX_EXPANSION {
        return Err(Error::new(
            label,
            format!(
                "{aliases} YAML aliases in a file of {} KiB could expand to more than {} MiB: \
                 refused (write the repeated parts out, or use fewer aliases)",
                text.len() / 1024,
                MAX_EXPANSION / (1024 * 1024)
            ),
        ));
    }
    Ok(text)
}

/// How many alias references (`*name` where a value starts) the text holds. Over-counting a `*`
/// inside a quoted string only makes the bound stricter.
fn aliases(text: &str) -> usize {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(|&i| {
            bytes[i] == b'*'
                && (i == 0
                    || matches!(
                        bytes[i - 1],
                        b' ' | b'\t' | b'\n' | b'[' | b',' | b':' | b'-'
                    ))
                && bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_size_and_alias_amplification() {
        assert_eq!(
            guard("f", "\u{feff}format: json\n").unwrap(),
            "format: json\n"
        );
        let big = format!("a: &a \"{}\"\n", "x".repeat(256 * 1024));
        let amplified = format!("{big}b: [{}]\n", vec!["*a"; 2000].join(", "));
        let e = guard("f", &amplified).unwrap_err().to_string();
        assert!(e.contains("2000 YAML aliases"), "{e}");
        assert!(guard("f", &"#".repeat(MAX_BYTES + 1)).is_err());
        // The built-in packs use anchors and stay well inside.
        for pack in [
            include_str!("../policies/aws.yaml"),
            include_str!("../policies/azure.yaml"),
            include_str!("../policies/gcp.yaml"),
        ] {
            assert!(guard("pack", pack).is_ok());
        }
        assert_eq!(aliases("types: *iam\nlist: [*a, *b]\nnote: \"5 * 3\"\n"), 3);
    }
}
