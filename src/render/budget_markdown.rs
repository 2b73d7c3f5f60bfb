//! Markdown output of the budget report, for a pull-request comment.

use std::io::Write;

use crate::budget::report::BudgetReport;
use crate::budget::verdict::{fmt_num, Status};
use crate::render::budget_table::{status_label, PROBE_COLUMNS, VERDICT_COLUMNS};
use crate::render::table::{markdown, Rule, Table};

pub fn render(r: &BudgetReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let s = &r.summary;
    let icon = if r.failed() { "❌" } else { "✅" };
    writeln!(out, "## {icon} dbdoctor performance budgets\n")?;
    writeln!(
        out,
        "**{}** budgets: {} pass, {} warn, **{} breach**, {} no data. Database `{}`, budgets `{}`, pg_stat_statements {}.\n",
        s.verdicts, s.pass, s.warn, s.breach, s.no_data, r.database, r.budgets_file, r.measurement.mode
    )?;
    markdown(
        out,
        &Table::build(VERDICT_COLUMNS, &r.verdicts),
        Rule::Spaced,
    )?;
    writeln!(
        out,
        "\nFigures marked `~` are estimated from pg_stat_statements aggregates (server execution time); probe figures are exact (client round-trip time)."
    )?;
    let offenders: Vec<_> = r
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Breach && !v.offenders.is_empty())
        .collect();
    if !offenders.is_empty() {
        writeln!(out, "\n### Statements over budget\n")?;
        for v in offenders {
            for o in &v.offenders {
                writeln!(
                    out,
                    "- **{}** `{}`: {} {} (limit {} {}){}: `{}`",
                    status_label(o.status),
                    v.id,
                    o.measured_text(),
                    v.unit,
                    fmt_num(v.limit),
                    v.unit,
                    o.queryid
                        .map(|q| format!(", queryid {q}"))
                        .unwrap_or_default(),
                    o.query.replace('`', "'")
                )?;
            }
        }
    }
    if !r.probes.is_empty() {
        writeln!(out, "\n### Probes\n")?;
        markdown(out, &Table::build(PROBE_COLUMNS, &r.probes), Rule::Spaced)?;
    }
    if !r.unclassified.is_empty() {
        writeln!(out, "\n### Statements that did not parse\n")?;
        for u in &r.unclassified {
            writeln!(
                out,
                "- queryid {} ({} calls): `{}` — {}",
                u.queryid,
                u.calls,
                u.query.replace('`', "'"),
                u.error
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod snapshot {
    #[test]
    fn budget_markdown_output() {
        insta::assert_snapshot!(crate::budget::report::sample_output(super::render));
    }
}
