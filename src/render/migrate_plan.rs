//! Writers for `migrate plan`: one block per planned migration, or the plan's JSON document
//! (the same bytes as `migration-plan.json`).

use std::io::{self, Write};
use std::path::Path;

use crate::migrate::plan::Plan;

pub fn json(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "{}", plan.json())
}

/// Each migration with its SQL, lock and reason; what was left out; then how many new
/// migrations were (or, with `--dry-run`, would be) written to `dir`.
pub fn text(
    plan: &Plan,
    new_migrations: usize,
    dry_run: bool,
    dir: &Path,
    out: &mut dyn Write,
) -> io::Result<()> {
    if plan.migrations.is_empty() {
        writeln!(out, "nothing to plan: doctor found no index change to make")?;
    }
    for m in &plan.migrations {
        writeln!(
            out,
            "[{}] {}{}\n    {}\n    lock: {}{}\n    why: {}",
            format!("{:?}", m.priority).to_lowercase(),
            m.up_file,
            if m.already_in_folder {
                " (already in the folder)"
            } else {
                ""
            },
            m.sql,
            m.expected_lock.as_deref().unwrap_or("none"),
            m.estimated_build_seconds
                .map(|s| format!(", estimated build {s:.1}s"))
                .unwrap_or_default(),
            m.rationale
        )?;
    }
    for l in &plan.left_out {
        writeln!(out, "left out: {} {}: {}", l.check, l.object, l.reason)?;
    }
    let verb = if dry_run { "would write" } else { "wrote" };
    writeln!(
        out,
        "\n{verb} {} new migration{} to {}{}",
        new_migrations,
        if new_migrations == 1 { "" } else { "s" },
        dir.display(),
        if plan.migrations.is_empty() {
            ""
        } else {
            " (with migration-plan.json)"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_plan_says_so() {
        let plan = Plan {
            schema_version: 1,
            server_version_num: 160000,
            migrations: vec![],
            left_out: vec![],
        };
        let mut out = Vec::new();
        text(&plan, 0, true, Path::new("migrations"), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "nothing to plan: doctor found no index change to make\n\nwould write 0 new migrations to migrations\n"
        );
        let mut out = Vec::new();
        json(&plan, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), plan.json());
    }
}
