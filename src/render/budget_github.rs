//! GitHub Actions workflow-command output of the budget report: one `::error` per breach,
//! `::warning` for near-misses and missing data, and a one-line summary.

use std::io::Write;

use crate::budget::report::BudgetReport;
use crate::budget::verdict::Status;
use crate::render::github::command;

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
        if let Some(s) = v.subject_line() {
            msg.push_str(&format!("\n{s}"));
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
        writeln!(out, "{}", command(level, &[("title", &title)], &msg))?;
    }
    let s = &r.summary;
    let summary = format!(
        "{} budgets: {} pass, {} warn, {} breach, {} no data",
        s.verdicts, s.pass, s.warn, s.breach, s.no_data
    );
    writeln!(
        out,
        "{}",
        command("notice", &[("title", "dbdoctor budget")], &summary)
    )?;
    Ok(())
}

#[cfg(test)]
mod snapshot {
    #[test]
    fn budget_github_output() {
        insta::assert_snapshot!(crate::budget::report::sample_output(super::render));
    }
}
