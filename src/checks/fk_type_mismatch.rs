//! `fk_type_mismatch`: a foreign-key column whose type (with its modifier) differs from the
//! referenced column's. Lookups compare across types (or casts), and a narrower referencing
//! column fails once the referenced key outgrows it.

use compact_str::CompactString;
use serde_json::json;

use super::duplicate_foreign_key::needs_fk_details;
use super::facts::{constraint_finding, fk_names};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::FkTypeMismatch,
        section: Section::Tables,
        summary: "foreign-key column whose type differs from the referenced column's",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_foreign_keys.sql"],
    missing: needs_fk_details,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for fk in snap.health.foreign_keys.as_deref().unwrap_or(&[]) {
        let pairs: Vec<usize> = (0..fk.columns.len())
            .filter(|&i| fk.column_types.get(i) != fk.ref_column_types.get(i))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let (table, name) = fk_names(fk);
        let ref_table = qualified(&fk.ref_schema, &fk.ref_table);
        let describe: Vec<String> = pairs
            .iter()
            .map(|&i| {
                format!(
                    "{} is {} but {ref_table}.{} is {}",
                    quote_ident(&fk.columns[i]),
                    fk.column_types[i],
                    quote_ident(fk.ref_columns.get(i).map_or("", |s| s.as_str())),
                    fk.ref_column_types.get(i).map_or("", |s| s.as_str())
                )
            })
            .collect();
        let alter = |types: &[CompactString]| {
            let parts: Vec<String> = pairs
                .iter()
                .map(|&i| {
                    format!(
                        "ALTER COLUMN {} TYPE {}",
                        quote_ident(&fk.columns[i]),
                        types.get(i).map_or("", |s| s.as_str())
                    )
                })
                .collect();
            format!("ALTER TABLE {table} {};", parts.join(", "))
        };
        let message = format!(
            "foreign key {name} on {table}: {}; give the referencing column the referenced \
             type (the ALTER rewrites the table under an ACCESS EXCLUSIVE lock)",
            describe.join("; ")
        );
        out.push(
            constraint_finding(&CHECK, Priority::Medium, (&table, &name), message)
            .detail(json!({
                "constraint": fk.name,
                "columns": pairs.iter().map(|&i| &fk.columns[i]).collect::<Vec<_>>(),
                "types": pairs.iter().map(|&i| &fk.column_types[i]).collect::<Vec<_>>(),
                "ref_table": ref_table,
                "ref_types": pairs.iter().map(|&i| fk.ref_column_types.get(i)).collect::<Vec<_>>(),
            }))
            .fix(alter(&fk.ref_column_types), Some(alter(&fk.column_types))),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::duplicate_foreign_key::tests::{fk, snap};

    #[test]
    fn differing_types_and_modifiers() {
        let s = snap(vec![
            fk(
                "fk_real_client",
                &["real_client_id"],
                &["id"],
                (&["integer"], &["bigint"]),
            ),
            fk(
                "fk_email_phone",
                &["email", "phone"],
                &["email", "phone"],
                (
                    &["character varying(200)", "character varying(51)"],
                    &["character varying(200)", "character varying(50)"],
                ),
            ),
            fk("fk_ok", &["client_id"], &["id"], (&["bigint"], &["bigint"])),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("ALTER TABLE public.accounts ALTER COLUMN real_client_id TYPE bigint;")
        );
        assert_eq!(
            f[0].rollback_sql.as_deref(),
            Some("ALTER TABLE public.accounts ALTER COLUMN real_client_id TYPE integer;")
        );
        assert_eq!(f[1].detail["columns"], serde_json::json!(["phone"]));
    }

    #[test]
    fn keys_of_the_referenced_type_are_not_reported() {
        let s = snap(vec![fk(
            "fk_ok",
            &["client_id"],
            &["id"],
            (&["bigint"], &["bigint"]),
        )]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
