//! JUnit XML output of the budget report: one test case per budget; a breach (or, with
//! --require-data, missing data) is a failure carrying measured vs limit.

use std::io::Write;

use crate::budget::report::BudgetReport;
use crate::budget::verdict::Status;

/// Escape text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

pub fn render(r: &BudgetReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let tests = r.verdicts.len();
    let failures = r.verdicts.iter().filter(|v| r.fails(v)).count();
    let skipped = r
        .verdicts
        .iter()
        .filter(|v| v.status == Status::NoData && !r.fails(v))
        .count();
    // An empty f64 sum is -0.0, which would print as "-0.000"; `max` may keep the sign bit, adding
    // +0.0 clears it.
    let time: f64 = r.probes.iter().map(|p| p.elapsed_s).sum::<f64>().max(0.0) + 0.0;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="dbdoctor budget" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" time="{time:.3}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="dbdoctor budget" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" time="{time:.3}" timestamp="{}">"#,
        r.generated_at.format("%Y-%m-%dT%H:%M:%S")
    )?;
    writeln!(out, "    <properties>")?;
    for (k, v) in [
        ("database", r.database.as_str()),
        ("budgets_file", r.budgets_file.as_str()),
        ("measurement", r.measurement.mode),
    ] {
        writeln!(
            out,
            r#"      <property name="{k}" value="{}"/>"#,
            xml_escape(v)
        )?;
    }
    writeln!(out, "    </properties>")?;
    for v in &r.verdicts {
        let kind = serde_json::to_value(v.kind)?;
        let class = format!("budget.{}", kind.as_str().unwrap_or("budget"));
        writeln!(
            out,
            r#"    <testcase classname="{}" name="{}" time="0">"#,
            xml_escape(&class),
            xml_escape(&v.id)
        )?;
        let mut detail = vec![v.explain()];
        detail.extend(v.subject_line());
        if let Some(q) = v.queryid {
            detail.push(format!("queryid: {q}"));
        }
        for o in &v.offenders {
            detail.push(format!(
                "{}: {} {} ({})",
                o.status.as_str(),
                o.measured_text(),
                v.unit,
                o.query
            ));
        }
        if r.fails(v) {
            let ty = if v.status == Status::NoData {
                "no-data"
            } else {
                "breach"
            };
            writeln!(
                out,
                r#"      <failure type="{ty}" message="{}">{}</failure>"#,
                xml_escape(&format!("{}: {}", v.id, v.explain())),
                xml_escape(&detail.join("\n"))
            )?;
        } else if v.status == Status::NoData {
            writeln!(
                out,
                r#"      <skipped message="{}"/>"#,
                xml_escape(&v.explain())
            )?;
        } else {
            writeln!(
                out,
                "      <system-out>{}</system-out>",
                xml_escape(&format!("{}: {}", v.status.as_str(), detail.join("\n")))
            )?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")?;
    Ok(())
}

#[cfg(test)]
mod snapshot {
    #[test]
    fn budget_junit_output() {
        insta::assert_snapshot!(crate::budget::report::sample_output(super::render));
    }
}
