//! Writers for `migrate validate`: compiler-style text, a JSON document, GitHub annotations.

use std::io::{self, Write};

use crate::migrate::lint::{Diagnostic, Severity};

/// `file:line:col: warning[rule]: message`, then the help indented, then a summary line.
pub fn text(diags: &[Diagnostic], files: usize, out: &mut dyn Write) -> io::Result<()> {
    for d in diags {
        writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            d.file,
            d.line,
            d.column,
            d.severity.as_str(),
            d.rule,
            d.message
        )?;
        if let Some(h) = &d.help {
            writeln!(out, "  = help: {h}")?;
        }
    }
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    writeln!(
        out,
        "{}{} files checked: {} errors, {} warnings",
        if diags.is_empty() { "" } else { "\n" },
        files,
        count(Severity::Error),
        count(Severity::Warning)
    )
}

/// Version of `migrate validate --format json`; bumped only for incompatible changes.
pub const VALIDATE_SCHEMA_VERSION: u32 = 1;

/// The JSON document: `schema_version` first (a struct keeps its field order), the counts,
/// then every diagnostic.
#[derive(serde::Serialize)]
struct ValidateJson<'a> {
    schema_version: u32,
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
}

/// `{schema_version, errors, warnings, diagnostics: [{file, line, column, rule, severity,
/// message, help}]}`.
pub fn json(diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let doc = ValidateJson {
        schema_version: VALIDATE_SCHEMA_VERSION,
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        diagnostics: diags,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Escape for a workflow command's data (message) part.
fn esc_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape for a workflow command's property values (file, title).
fn esc_prop(s: &str) -> String {
    esc_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::warning file=...,line=...,col=...,title=rule::message` lines for GitHub Actions.
pub fn github(diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut msg = d.message.clone();
        if let Some(h) = &d.help {
            msg.push('\n');
            msg.push_str(h);
        }
        writeln!(
            out,
            "::{level} file={},line={},col={},title={}::{}",
            esc_prop(&d.file),
            d.line,
            d.column,
            esc_prop(&d.rule),
            esc_data(&msg)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Diagnostic {
        Diagnostic {
            file: "m/1_a.up.sql".into(),
            line: 2,
            column: 1,
            rule: "ban-drop-column".into(),
            severity: Severity::Warning,
            message: "dropping column t.a".into(),
            help: Some("why, 100%".into()),
        }
    }

    #[test]
    fn formats() {
        let mut b = Vec::new();
        text(&[d()], 1, &mut b).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert!(s.starts_with("m/1_a.up.sql:2:1: warning[ban-drop-column]: dropping column t.a\n  = help: why, 100%\n"), "{s}");
        assert!(s.contains("1 files checked: 0 errors, 1 warnings"));
        let mut b = Vec::new();
        github(&[d()], &mut b).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert_eq!(s, "::warning file=m/1_a.up.sql,line=2,col=1,title=ban-drop-column::dropping column t.a%0Awhy, 100%25\n");
        let mut b = Vec::new();
        json(&[d()], &mut b).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        // An object led by schema_version (see VALIDATE_SCHEMA_VERSION), the list inside.
        assert!(String::from_utf8_lossy(&b).starts_with("{\n  \"schema_version\": 1,"));
        assert_eq!(v["warnings"], 1);
        assert_eq!(v["diagnostics"][0]["severity"], "warning");
        assert_eq!(v["diagnostics"][0]["line"], 2);
    }
}
