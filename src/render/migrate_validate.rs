//! Writers for `migrate validate`: compiler-style text, a JSON document, GitHub annotations.

use std::io::{self, Write};

use crate::migrate::lint::{Diagnostic, Severity};
use crate::render::github;

/// One line for the style findings that are not listed:
/// `23 style notes (prefer-bigint-over-int ×23); --strict or -v lists them`.
pub fn style_summary(diags: &[Diagnostic]) -> Option<String> {
    let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in diags.iter().filter(|d| d.severity == Severity::Style) {
        *by_rule.entry(d.rule.as_str()).or_default() += 1;
    }
    let total: usize = by_rule.values().sum();
    (total > 0).then(|| {
        let parts: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
        format!(
            "{total} style note{} ({}); --strict or -v lists them",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    })
}

/// `file:line:col: warning[rule]: message`, then the help indented, then a summary line.
/// Style findings are listed only with `show_style`, else summarised in one line.
pub fn text(
    diags: &[Diagnostic],
    files: usize,
    show_style: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let listed: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| show_style || d.severity != Severity::Style)
        .collect();
    for d in &listed {
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
    if !listed.is_empty() {
        writeln!(out)?;
    }
    if !show_style {
        if let Some(s) = style_summary(diags) {
            writeln!(out, "{s}")?;
        }
    }
    writeln!(
        out,
        "{} files checked: {} errors, {} warnings{}",
        files,
        count(Severity::Error),
        count(Severity::Warning),
        match count(Severity::Style) {
            0 => String::new(),
            n => format!(", {n} style notes"),
        }
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

/// `::warning file=...,line=...,col=...,title=rule::message` lines for GitHub Actions (style
/// findings as notices, only with `show_style`).
pub fn github(diags: &[Diagnostic], show_style: bool, out: &mut dyn Write) -> io::Result<()> {
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
            Severity::Style if show_style => "notice",
            Severity::Style => continue,
        };
        let mut msg = d.message.clone();
        if let Some(h) = &d.help {
            msg.push('\n');
            msg.push_str(h);
        }
        let (line, col) = (d.line.to_string(), d.column.to_string());
        let props = [
            ("file", d.file.as_str()),
            ("line", &line),
            ("col", &col),
            ("title", &d.rule),
        ];
        writeln!(out, "{}", github::command(level, &props, &msg))?;
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
            lock_queue: None,
            severity: Severity::Warning,
            message: "dropping column t.a".into(),
            help: Some("why, 100%".into()),
        }
    }

    #[test]
    fn formats() {
        let mut b = Vec::new();
        text(&[d()], 1, false, &mut b).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert!(s.starts_with("m/1_a.up.sql:2:1: warning[ban-drop-column]: dropping column t.a\n  = help: why, 100%\n"), "{s}");
        assert!(s.contains("1 files checked: 0 errors, 1 warnings"));
        let mut b = Vec::new();
        github(&[d()], false, &mut b).unwrap();
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

    #[test]
    fn style_is_summarised_unless_asked_for() {
        let mut s1 = d();
        s1.severity = Severity::Style;
        s1.rule = "prefer-bigint-over-int".into();
        let mut s2 = s1.clone();
        s2.rule = "prefer-identity".into();
        let all = [d(), s1.clone(), s1, s2];
        let mut b = Vec::new();
        text(&all, 1, false, &mut b).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert!(!s.contains("style["), "{s}");
        assert!(
            s.contains("3 style notes (prefer-bigint-over-int ×2, prefer-identity ×1); --strict or -v lists them"),
            "{s}"
        );
        assert!(s.contains("0 errors, 1 warnings, 3 style notes"), "{s}");
        let mut b = Vec::new();
        text(&all, 1, true, &mut b).unwrap();
        let s = String::from_utf8(b).unwrap();
        assert!(s.contains("style[prefer-identity]"), "{s}");
        assert!(!s.contains("--strict or -v"), "{s}");
        let mut b = Vec::new();
        github(&all, false, &mut b).unwrap();
        assert_eq!(String::from_utf8(b).unwrap().lines().count(), 1);
        let mut b = Vec::new();
        github(&all, true, &mut b).unwrap();
        let g = String::from_utf8(b).unwrap();
        assert_eq!(g.matches("::notice ").count(), 3, "{g}");
    }
}
