//! JSON output of the budget report: stable, versioned by `schema_version`.

use std::io::Write;

use crate::budget::report::BudgetReport;

pub fn render(r: &BudgetReport, out: &mut dyn Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, r)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod snapshot {
    #[test]
    fn budget_json_output() {
        insta::assert_snapshot!(crate::budget::report::sample_output(super::render));
    }
}
