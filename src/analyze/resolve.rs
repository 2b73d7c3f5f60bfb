//! The advice plan: turns the checks' findings into one coherent set before rendering (drops
//! that keep every query, foreign key and constraint served, one finding per index, index names
//! that collide with nothing).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use crate::analyze::sqlfix;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::index_groups::{covers, enforces_something, obj, supported_fks};
use crate::checks::CheckId;
use crate::collect::schema::IndexInfo;
use crate::snapshot::Snapshot;
use crate::util::quote_ident;

/// Checks whose fix drops the index they name.
pub const DROP_CHECKS: &[CheckId] = &[
    CheckId::UnusedIndex,
    CheckId::DuplicateIndex,
    CheckId::RedundantIndex,
];

/// Resolve `findings` in place (see DB_PERF.md §3, "The advice plan").
pub fn resolve(snap: &Snapshot, th: &Thresholds, findings: &mut Vec<Finding>) {
    if let Some(indexes) = snap.schema.indexes.as_deref() {
        resolve_drops(snap, th, indexes, findings);
    }
    one_widening_per_key(findings);
    allocate_names(snap, findings);
}

/// `sequence_overflow` and `integer_primary_key` can both advise widening the same key column.
/// The key's fix is the complete one (the column, the foreign keys that reference it and the
/// sequence), so it alone carries the fix; the sequence finding points at it. Applying both
/// would widen the column twice and undo it twice.
fn one_widening_per_key(findings: &mut [Finding]) {
    let keys: Vec<(usize, String, String)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.check == CheckId::IntegerPrimaryKey && f.fix_sql.is_some())
        .filter_map(|(i, f)| {
            let table = f.table.as_deref()?.to_string();
            let column = f.detail.get("column")?.as_str()?.to_string();
            Some((i, table, column))
        })
        .collect();
    for (key_at, table, column) in keys {
        let widen = format!(
            "ALTER TABLE {table} ALTER COLUMN {} TYPE bigint;",
            crate::util::quote_ident(&column)
        );
        let Some(seq_at) = findings.iter().position(|f| {
            f.check == CheckId::SequenceOverflow
                && f.table.as_deref() == Some(table.as_str())
                && f.fix_sql.as_deref().is_some_and(|s| s.contains(&widen))
        }) else {
            continue;
        };
        let seq = &mut findings[seq_at];
        seq.fix_sql = None;
        seq.rollback_sql = None;
        seq.message
            .push_str("; the fix of integer_primary_key on the same key widens it");
        let key = &mut findings[key_at];
        if !key.also_checks.contains(&CheckId::SequenceOverflow) {
            key.also_checks.push(CheckId::SequenceOverflow);
        }
    }
}

/// Whether nothing depends on `ix` and nothing reads it: never scanned, valid, enforcing
/// nothing, supporting no foreign key, big enough for `unused_index` to speak of it.
fn unused(snap: &Snapshot, th: &Thresholds, ix: &IndexInfo) -> bool {
    let fks = snap.schema.foreign_keys.as_deref().unwrap_or(&[]);
    ix.idx_scan == 0
        && ix.is_valid
        && !enforces_something(ix)
        && !ix.attached_to_parent
        && ix.bytes >= th.unused_index_min_bytes
        && supported_fks(ix, fks).is_empty()
}

fn resolve_drops(
    snap: &Snapshot,
    th: &Thresholds,
    indexes: &[IndexInfo],
    findings: &mut Vec<Finding>,
) {
    // The indexes drop-family findings name, by qualified name (only those: on a large catalog
    // a name for every index is megabytes).
    let named: HashSet<&str> = findings
        .iter()
        .filter(|f| DROP_CHECKS.contains(&f.check))
        .map(|f| f.object.as_str())
        .collect();
    let by_obj: HashMap<String, &IndexInfo> = indexes
        .iter()
        .map(|i| (obj(i), i))
        .filter(|(o, _)| named.contains(o.as_str()))
        .collect();
    drop(named);
    // Every drop-family finding, grouped by the index it names; the rest stay in place, in order.
    let mut groups: BTreeMap<i64, Vec<Finding>> = BTreeMap::new();
    for f in findings.extract_if(.., |f| {
        DROP_CHECKS.contains(&f.check) && by_obj.contains_key(f.object.as_str())
    }) {
        let oid = by_obj[f.object.as_str()].oid;
        groups.entry(oid).or_default().push(f);
    }
    let rest = findings;
    let by_oid: HashMap<i64, &IndexInfo> = indexes.iter().map(|i| (i.oid, i)).collect();
    // Only an index of the same table can cover another: look there, not across the catalog.
    let mut by_table: HashMap<i64, Vec<&IndexInfo>> = HashMap::new();
    for i in indexes {
        by_table.entry(i.table_oid).or_default().push(i);
    }
    let same_table = |ix: &IndexInfo| by_table.get(&ix.table_oid).into_iter().flatten().copied();
    let has_fix = |g: &[Finding], checks: &[CheckId]| {
        g.iter()
            .any(|f| f.fix_sql.is_some() && checks.contains(&f.check))
    };
    // 1. Unused indexes serve no query: their drops stand on their own.
    let mut dropped: HashSet<i64> = groups
        .iter()
        .filter(|(_, g)| has_fix(g, &[CheckId::UnusedIndex]))
        .map(|(oid, _)| *oid)
        .collect();
    // 2. A duplicate or redundant index goes only while an index that covers it stays; that
    //    index is then pinned (never advised away later), so any subset of the drops a team
    //    applies keeps the coverage. Duplicates first (their keeper is the natural cover), then
    //    narrow before wide, so a chain resolves to its widest member.
    let is_dup = |oid: &i64| {
        groups[oid]
            .iter()
            .any(|f| f.check == CheckId::DuplicateIndex && f.fix_sql.is_some())
    };
    let candidates: HashSet<i64> = groups
        .iter()
        .filter(|(_, g)| has_fix(g, &[CheckId::DuplicateIndex, CheckId::RedundantIndex]))
        .map(|(oid, _)| *oid)
        .collect();
    let mut covered: Vec<&IndexInfo> = candidates
        .iter()
        .filter_map(|oid| by_oid.get(oid).copied())
        .collect();
    covered.sort_by_key(|i| (!is_dup(&i.oid), i.table_oid, i.key_attnums().len(), i.oid));
    let mut survivor: HashMap<i64, &IndexInfo> = HashMap::new();
    let mut pinned: HashMap<i64, Vec<String>> = HashMap::new();
    let mut kept: HashSet<i64> = HashSet::new();
    for ix in covered {
        if pinned.contains_key(&ix.oid) {
            kept.insert(ix.oid);
            continue;
        }
        // Prefer a cover nobody proposes to drop, then the widest, then the oldest.
        let coverer = same_table(ix)
            .filter(|b| covers(b, ix) && !dropped.contains(&b.oid))
            .max_by_key(|b| (!candidates.contains(&b.oid), b.key_attnums().len(), -b.oid));
        let already_unused = dropped.contains(&ix.oid);
        match coverer {
            Some(b) => {
                survivor.insert(ix.oid, b);
                if !already_unused {
                    dropped.insert(ix.oid);
                    pinned.entry(b.oid).or_default().push(obj(ix));
                }
            }
            None if already_unused => {}
            None if unused(snap, th, ix) => {
                dropped.insert(ix.oid);
            }
            None => {
                kept.insert(ix.oid);
            }
        }
    }
    // A cover recorded for an unused index may have gone since: then it goes as unused.
    survivor.retain(|_, b| !dropped.contains(&b.oid));
    // 3. One finding per index, carrying every reason.
    for (oid, mut g) in groups {
        let ix = by_oid[&oid];
        if g.len() == 1 && !kept.contains(&oid) && !survivor.contains_key(&oid) {
            rest.push(g.pop().expect("one finding"));
            continue;
        }
        let primary_check = if survivor.contains_key(&oid) {
            g.iter()
                .find(|f| f.check != CheckId::UnusedIndex && f.fix_sql.is_some())
                .map(|f| f.check)
        } else if dropped.contains(&oid) && g.iter().any(|f| f.check == CheckId::UnusedIndex) {
            Some(CheckId::UnusedIndex)
        } else {
            None
        };
        let pi = primary_check
            .and_then(|c| g.iter().position(|f| f.check == c))
            .unwrap_or(0);
        let mut primary = g.remove(pi);
        let reasons: Vec<serde_json::Value> = std::iter::once(&primary)
            .chain(g.iter())
            .map(|f| json!({"check": f.check, "message": f.message}))
            .collect();
        for other in &g {
            primary.also_checks.push(other.check);
            primary.message = format!(
                "{}; also {}: {}",
                primary.message, other.check, other.message
            );
            primary.priority = primary.priority.max(other.priority);
            primary.severity = primary.severity.max(other.severity);
        }
        if !g.is_empty() {
            if let Some(d) = primary.detail.as_object_mut() {
                d.insert("reasons".into(), json!(reasons));
            }
        }
        if dropped.contains(&oid) {
            primary.fix_sql = Some(sqlfix::drop_index(ix));
            primary.rollback_sql = Some(sqlfix::create_index(ix));
            if let (Some(b), Some(d)) = (survivor.get(&oid), primary.detail.as_object_mut()) {
                d.insert("kept_covering_index".into(), json!(obj(b)));
            }
            if primary.check != CheckId::UnusedIndex && !survivor.contains_key(&oid) {
                // Every index that covered it goes too; it is dropped for serving nothing.
                primary.message = format!(
                    "{}; the indexes that cover it are advised away too, and it has never been scanned, so it goes as unused",
                    primary.message
                );
            }
        } else if kept.contains(&oid) {
            let relying = pinned.get(&oid).cloned().unwrap_or_default();
            let gone: Vec<String> = same_table(ix)
                .filter(|b| covers(b, ix) && dropped.contains(&b.oid))
                .map(obj)
                .filter(|o| !relying.contains(o))
                .collect();
            let why = match pinned.get(&oid) {
                Some(relying) => format!(
                    "it is the index that still covers {}, which {} advised away",
                    relying.join(", "),
                    if relying.len() == 1 { "is" } else { "are" }
                ),
                None => format!(
                    "the index that covers it ({}) is advised away, and this one serves queries",
                    gone.join(", ")
                ),
            };
            primary.fix_sql = None;
            primary.rollback_sql = None;
            primary.severity = Severity::Info;
            primary.priority = Priority::Low;
            primary.message = format!("{}; kept by the advice plan: {why}", primary.message);
            if let Some(d) = primary.detail.as_object_mut() {
                d.insert("kept_because_dropped".into(), json!(gone));
                if let Some(relying) = pinned.get(&oid) {
                    d.insert("kept_to_cover".into(), json!(relying));
                }
            }
        }
        rest.push(primary);
    }
    // 4. Rebuilding an index that is advised away is wasted work: the drop wins.
    let dropped_objs: HashSet<String> = dropped
        .iter()
        .filter_map(|o| by_oid.get(o))
        .map(|i| obj(i))
        .collect();
    for f in rest.iter_mut() {
        if f.check == CheckId::IndexBloat
            && dropped_objs.contains(f.object.as_str())
            && f.fix_sql.is_some()
        {
            f.fix_sql = None;
            f.rollback_sql = None;
            f.message = format!(
                "{}; no rebuild: the advice plan drops this index",
                f.message
            );
        }
    }
}

/// The index names created by the statements of `sql`, with their schema.
fn created_indexes(sql: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // Most fixes drop or alter: a script without the word CREATE creates no index, and need
    // not be parsed (thousands of fixes on a large catalog).
    if !sql
        .as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"create"))
    {
        return out;
    }
    for st in crate::migrate::split::split(sql) {
        let Ok(parsed) = pg_query::parse(&st.text) else {
            continue;
        };
        for raw in &parsed.protobuf.stmts {
            if let Some(pg_query::NodeEnum::IndexStmt(i)) =
                raw.stmt.as_ref().and_then(|n| n.node.as_ref())
            {
                if i.idxname.is_empty() {
                    continue;
                }
                let schema = i
                    .relation
                    .as_ref()
                    .map(|r| r.schemaname.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "public".into());
                out.push((schema, i.idxname.clone()));
            }
        }
    }
    out
}

/// Replace the identifier `old` (as written, quoted or not) by `new` where it stands as a whole
/// token, never inside a longer name.
fn replace_ident(sql: &str, old: &str, new: &str) -> String {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while let Some(pos) = sql[i..].find(old) {
        let at = i + pos;
        let end = at + old.len();
        let before_ok = sql[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c) && (old.starts_with('"') || c != '"'));
        let after_ok = sql[end..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c) && (old.ends_with('"') || c != '"'));
        out.push_str(&sql[i..at]);
        if before_ok && after_ok {
            out.push_str(new);
        } else {
            out.push_str(old);
        }
        i = end;
    }
    out.push_str(&sql[i..]);
    out
}

/// Give every index a fix creates a name no relation in its schema has and no other fix uses;
/// findings that share one fix script keep sharing it.
fn allocate_names(snap: &Snapshot, findings: &mut [Finding]) {
    let s = &snap.schema;
    // The snapshot's relation names, borrowed (a large catalog has tens of thousands), and the
    // names fixes take as they go.
    let mut existing: HashSet<(&str, &str)> = HashSet::new();
    existing.extend(
        s.relation_names
            .iter()
            .flatten()
            .map(|r| (r.schema.as_str(), r.name.as_str())),
    );
    existing.extend(
        s.tables
            .iter()
            .flatten()
            .map(|t| (t.schema.as_str(), t.name.as_str())),
    );
    existing.extend(
        s.indexes
            .iter()
            .flatten()
            .map(|i| (i.schema.as_str(), i.name.as_str())),
    );
    existing.extend(
        s.sequences
            .iter()
            .flatten()
            .map(|q| (q.schema.as_str(), q.name.as_str())),
    );
    let mut given: HashMap<String, HashSet<String>> = HashMap::new();
    // Original fix script -> its renames, so identical scripts stay identical.
    let mut done: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for f in findings.iter_mut() {
        let Some(fix) = f.fix_sql.clone() else {
            continue;
        };
        let renames = match done.get(&fix) {
            Some(r) => r.clone(),
            None => {
                let mut renames = Vec::new();
                for (schema, name) in created_indexes(&fix) {
                    let set = given.entry(schema.clone()).or_default();
                    let taken =
                        |n: &str| existing.contains(&(schema.as_str(), n)) || set.contains(n);
                    if !taken(&name) {
                        set.insert(name);
                        continue;
                    }
                    let new = sqlfix::free_name_by(&name, &format!("{schema}\u{0}{fix}"), taken);
                    set.insert(new.clone());
                    renames.push((name, new));
                }
                done.insert(fix.clone(), renames.clone());
                renames
            }
        };
        for (old, new) in &renames {
            let (qo, qn) = (quote_ident(old), quote_ident(new));
            f.fix_sql = f.fix_sql.as_deref().map(|x| replace_ident(x, &qo, &qn));
            f.rollback_sql = f
                .rollback_sql
                .as_deref()
                .map(|x| replace_ident(x, &qo, &qn));
            if f.check == CheckId::MissingIndex && f.object.ends_with(&qo) {
                f.object = format!("{}{qn}", &f.object[..f.object.len() - qo.len()]).into();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    fn on<'a>(f: &'a [Finding], object: &str) -> Vec<&'a Finding> {
        f.iter().filter(|x| x.object == object).collect()
    }

    #[test]
    fn a_chain_resolves_to_its_widest_member() {
        let snap = sample_snapshot();
        let f = crate::analyze::doctor::findings(&snap, &Thresholds::default());
        // cooked_on is a prefix of cooked_on_title, cooked_on_copy a duplicate of cooked_on:
        // both go, the wide one covers what they served.
        let narrow = on(&f, "public.idx_meals_cooked_on");
        assert_eq!(narrow.len(), 1, "{narrow:#?}");
        assert!(narrow[0].fix_sql.is_some());
        assert_eq!(
            narrow[0].detail["kept_covering_index"],
            "public.idx_meals_cooked_on_title"
        );
        let copy = on(&f, "public.idx_meals_cooked_on_copy");
        assert_eq!(copy.len(), 1, "{copy:#?}");
        assert!(copy[0].fix_sql.is_some());
        assert_eq!(
            copy[0].detail["kept_covering_index"],
            "public.idx_meals_cooked_on_title"
        );
        assert!(on(&f, "public.idx_meals_cooked_on_title").is_empty());
    }

    #[test]
    fn an_unused_wide_index_goes_and_the_used_prefix_stays() {
        let mut snap = sample_snapshot();
        for ix in snap.schema.indexes.as_mut().unwrap() {
            if ix.name == "idx_meals_cooked_on_title" {
                ix.idx_scan = 0;
            }
        }
        let f = crate::analyze::doctor::findings(&snap, &Thresholds::default());
        let wide = on(&f, "public.idx_meals_cooked_on_title");
        assert_eq!(wide.len(), 1, "{wide:#?}");
        assert_eq!(wide[0].check, CheckId::UnusedIndex);
        assert!(wide[0].fix_sql.is_some());
        let narrow = on(&f, "public.idx_meals_cooked_on");
        assert_eq!(narrow.len(), 1, "{narrow:#?}");
        assert!(narrow[0].fix_sql.is_none(), "{:#?}", narrow[0]);
        assert_eq!(
            narrow[0].detail["kept_because_dropped"][0],
            "public.idx_meals_cooked_on_title"
        );
        // The duplicate of the narrow one still goes: the narrow one stays to cover it.
        let copy = on(&f, "public.idx_meals_cooked_on_copy");
        assert_eq!(
            copy[0].detail["kept_covering_index"],
            "public.idx_meals_cooked_on"
        );
    }

    #[test]
    fn unused_and_redundant_on_one_index_is_one_finding() {
        let mut snap = sample_snapshot();
        for ix in snap.schema.indexes.as_mut().unwrap() {
            if ix.name == "idx_meals_cooked_on" {
                ix.idx_scan = 0;
            }
        }
        let f = crate::analyze::doctor::findings(&snap, &Thresholds::default());
        let narrow = on(&f, "public.idx_meals_cooked_on");
        assert_eq!(narrow.len(), 1, "{narrow:#?}");
        assert_eq!(narrow[0].check, CheckId::RedundantIndex);
        assert_eq!(narrow[0].also_checks, vec![CheckId::UnusedIndex]);
        assert!(narrow[0].message.contains("; also unused_index: "));
        assert_eq!(narrow[0].detail["reasons"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_key_is_widened_by_one_fix_only() {
        let seq = |table: &str| {
            Finding::new(
                CheckId::SequenceOverflow,
                Severity::Critical,
                Priority::High,
                "public.counters_id_seq",
                "near its end",
            )
            .table(table.to_string())
            .fix(
                "ALTER TABLE public.counters ALTER COLUMN id TYPE bigint;",
                Some("ALTER TABLE public.counters ALTER COLUMN id TYPE integer;".to_string()),
            )
        };
        let key = Finding::new(
            CheckId::IntegerPrimaryKey,
            Severity::Critical,
            Priority::High,
            "public.counters.id",
            "integer key",
        )
        .table("public.counters".to_string())
        .detail(serde_json::json!({ "column": "id" }))
        .fix(
            "ALTER TABLE public.counters ALTER COLUMN id TYPE bigint;",
            Some("ALTER TABLE public.counters ALTER COLUMN id TYPE integer;".to_string()),
        );
        let mut f = vec![seq("public.counters"), key.clone(), seq("public.other")];
        one_widening_per_key(&mut f);
        assert!(
            f[0].fix_sql.is_none() && f[0].rollback_sql.is_none(),
            "{:#?}",
            f[0]
        );
        assert!(f[0].message.contains("integer_primary_key"));
        assert_eq!(f[1].also_checks, vec![CheckId::SequenceOverflow]);
        assert!(f[1].fix_sql.is_some());
        // Another table's sequence keeps its own fix.
        assert!(f[2].fix_sql.is_some());
    }

    #[test]
    fn no_rebuild_of_an_index_the_plan_drops() {
        let snap = sample_snapshot();
        let th = Thresholds::default();
        let mut f = crate::analyze::doctor::findings(&snap, &th);
        f.push(
            Finding::new(
                CheckId::IndexBloat,
                Severity::Warning,
                Priority::Medium,
                "public.idx_meals_cooked_on_copy",
                "bloated",
            )
            .fix(
                "REINDEX INDEX CONCURRENTLY public.idx_meals_cooked_on_copy;",
                None,
            ),
        );
        resolve(&snap, &th, &mut f);
        let bloat = f.iter().find(|x| x.check == CheckId::IndexBloat).unwrap();
        assert!(bloat.fix_sql.is_none(), "{bloat:#?}");
        assert!(bloat.message.contains("drops this index"));
    }

    #[test]
    fn a_taken_name_is_replaced_in_fix_and_rollback() {
        let mut snap = sample_snapshot();
        snap.schema.relation_names = Some(vec![crate::collect::schema::RelationName {
            schema: "public".into(),
            name: "meals_user_id_idx".into(),
        }]);
        let f = crate::analyze::doctor::findings(&snap, &Thresholds::default());
        let fk = f
            .iter()
            .find(|x| {
                x.check == CheckId::FkWithoutIndex
                    && x.fix_sql
                        .as_deref()
                        .is_some_and(|s| s.contains("public.meals"))
            })
            .expect("fk finding on meals");
        let fix = fk.fix_sql.as_deref().unwrap();
        let rb = fk.rollback_sql.as_deref().unwrap();
        assert!(!fix.contains("meals_user_id_idx "), "{fix}");
        let name = &created_indexes(fix)[0].1;
        assert!(
            name.starts_with("meals_user_id_") && name.len() <= 63,
            "{name}"
        );
        assert!(rb.contains(name.as_str()), "{rb}");
    }

    #[test]
    fn identifiers_are_replaced_as_whole_tokens_only() {
        let sql = "CREATE INDEX a_idx ON s.t (x); DROP INDEX s.a_idx; DROP INDEX s.ba_idx; DROP INDEX \"a_idx x\";";
        assert_eq!(
            replace_ident(sql, "a_idx", "a_1234_idx"),
            "CREATE INDEX a_1234_idx ON s.t (x); DROP INDEX s.a_1234_idx; DROP INDEX s.ba_idx; DROP INDEX \"a_idx x\";"
        );
        assert_eq!(
            replace_ident("DROP INDEX \"my schema\".\"A b\";", "\"A b\"", "\"A c\""),
            "DROP INDEX \"my schema\".\"A c\";"
        );
    }

    #[test]
    fn created_index_names_come_from_the_parser() {
        let got = created_indexes(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"x y\" ON \"my schema\".t (a);\nALTER TABLE t ADD CONSTRAINT p PRIMARY KEY USING INDEX p;",
        );
        assert_eq!(got, vec![("my schema".to_string(), "x y".to_string())]);
        // The word test before parsing: any case is read, and a script without it creates none.
        let lower = created_indexes("create unique index ix_a on public.t (a);");
        assert_eq!(lower, vec![("public".to_string(), "ix_a".to_string())]);
        assert!(created_indexes("DROP INDEX CONCURRENTLY IF EXISTS public.ix_a;").is_empty());
    }
}
