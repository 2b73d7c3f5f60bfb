//! GitHub Actions workflow-command output of the budget report: one `::error` per breach,
//! `::warning` for near-misses and missing data, and a one-line summary.

use std::io::Write;

use crate::budget::report::BudgetReport;
use crate::budget::verdict::Status;

/// Escape a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(r: &BudgetReport, out: &mut dyn Write) -> anyhow::Result<()> {
    for v in &r.verdicts {
        let level = if r.fails(v) {
            "error"
        } else if v.status == Status::Warn || v.status == Status::NoData {
            "warning"
        } else {
            continue;
        };
        let title = match v.status {
            Status::Breach => format!("Budget breach: {}", v.id),
            Status::NoData => format!("Budget without data: {}", v.id),
            _ => format!("Budget near its limit: {}", v.id),
        };
        let mut msg = v.explain();
        if let Some(s) = &v.subject {
            let what = if v.queryid.is_some() {
                "statement"
            } else {
                "measured on"
            };
            msg.push_str(&format!("\n{what}: {s}"));
        }
        if let Some(q) = v.queryid {
            msg.push_str(&format!(" (queryid {q})"));
        }
        for o in &v.offenders {
            msg.push_str(&format!(
                "\n{}: {} {}: {}{}",
                o.status.as_str(),
                o.measured_text(),
                v.unit,
                o.query,
                o.queryid
                    .map(|q| format!(" (queryid {q})"))
                    .unwrap_or_default()
            ));
        }
        writeln!(out, "::{level} title={}::{}", property(&title), data(&msg))?;
    }
    let s = &r.summary;
    writeln!(
        out,
        "::notice title=dbdoctor budget::{} budgets: {} pass, {} warn, {} breach, {} no data",
        s.verdicts, s.pass, s.warn, s.breach, s.no_data
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a: b, c"), "a%3A b%2C c");
    }
}

#[cfg(test)]
mod snapshot {
    #[test]
    fn budget_github_output() {
        let r = crate::budget::report::sample_report();
        let mut out = Vec::new();
        super::render(&r, &mut out).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }
}
