//! Pure candidate generation: from one table access and the table's statistics, the btree
//! indexes worth testing, with column order chosen by rule (the planner's cost cannot tell orders
//! of equality columns apart, so it must not choose).

use serde::{Deserialize, Serialize};

use crate::advisor::extract::{TableAccess, UseKind};

/// A column whose most common value covers at least this share of the rows is never indexed.
pub const LOW_SELECTIVITY_MCV_FRAC: f64 = 0.5;
/// A column where one value matches this share of the rows on average is never indexed
/// (booleans, three-state enums).
pub const LOW_SELECTIVITY_EQ_FRAC: f64 = 0.2;
/// Without HypoPG, a candidate is suggested only when its leading equality column matches at
/// most this share of the rows per value.
pub const HEURISTIC_MAX_EQ_FRAC: f64 = 0.01;
/// In front of a range column, an equality column matching up to this share of the rows per
/// value still leads a candidate (`status` with a handful of values before `created_at`).
pub const LOW_SELECTIVITY_RANGE_EQ_FRAC: f64 = 0.34;
/// Without HypoPG, an equality column followed by a range column is suggested when it matches
/// at most this share of the rows per value: the pair is selective where either alone is not.
pub const HEURISTIC_MAX_EQ_FRAC_BEFORE_RANGE: f64 = 0.34;
/// Schemas never advised on.
pub const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

/// One column of a table with the planner statistics the rules need (decoded from
/// `advisor_columns.sql` by `advisor::collect`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
    /// The type has a default btree operator class.
    pub btree: bool,
    /// pg_stats; `None` when the column has no statistics (never analyzed).
    pub null_frac: Option<f64>,
    pub n_distinct: Option<f64>,
    /// Frequency of the most common value, `None` without MCVs.
    pub max_mcv_freq: Option<f64>,
}

impl ColumnInfo {
    /// Average share of the rows one equality value matches (the planner's generic estimate).
    pub fn eq_fraction(&self, reltuples: f64) -> Option<f64> {
        let nd = self.n_distinct?;
        let distinct = if nd < 0.0 { -nd * reltuples } else { nd }.max(1.0);
        let mut f = (1.0 - self.null_frac.unwrap_or(0.0)) / distinct;
        if let Some(m) = self.max_mcv_freq {
            f = f.min(m);
        }
        Some(f)
    }

    /// One value covers most rows, or values are so few that one matches a large share.
    pub fn low_selectivity(&self, reltuples: f64) -> bool {
        self.max_mcv_freq
            .is_some_and(|m| m >= LOW_SELECTIVITY_MCV_FRAC)
            || self
                .eq_fraction(reltuples)
                .is_some_and(|f| f >= LOW_SELECTIVITY_EQ_FRAC)
    }
}

/// An index that exists already (decoded from `advisor_indexes.sql` by `advisor::collect`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ExistingIndex {
    pub name: String,
    pub am: String,
    /// Key columns in order; an empty string stands for an expression.
    pub columns: Vec<String>,
    pub valid: bool,
    pub partial: bool,
    #[sqlx(rename = "is_unique")]
    pub unique: bool,
    #[sqlx(rename = "is_primary")]
    pub primary: bool,
    pub definition: String,
}

impl ExistingIndex {
    /// This index serves every lookup `columns` would (they are its left prefix).
    pub fn covers(&self, columns: &[String]) -> bool {
        self.am == "btree"
            && self.valid
            && !self.partial
            && self.columns.len() >= columns.len()
            && self.columns.iter().zip(columns).all(|(a, b)| a == b)
    }
}

/// A table with sizes, write counts, columns and indexes (decoded from `advisor_tables.sql` by
/// `advisor::collect`, which fills the fields that are not columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TableInfo {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    pub relkind: String,
    /// Planner row estimate (pg_class.reltuples, or n_live_tup when never analyzed).
    pub rows: f64,
    pub total_bytes: i64,
    /// Rows inserted + updated + deleted since statistics were reset.
    pub writes: i64,
    /// `writes` per hour over the statistics window; `None` when the window is unknown.
    #[sqlx(skip)]
    pub writes_per_hour: Option<f64>,
    /// Never analyzed (no pg_stats): the rules cannot judge selectivity.
    pub analyzed: bool,
    #[sqlx(skip)]
    pub columns: Vec<ColumnInfo>,
    #[sqlx(skip)]
    pub indexes: Vec<ExistingIndex>,
}

impl TableInfo {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn covering_index(&self, columns: &[String]) -> Option<&ExistingIndex> {
        self.indexes.iter().find(|i| i.covers(columns))
    }
}

/// Knobs for candidate generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRules {
    /// Tables with fewer rows are never advised on.
    pub min_table_rows: f64,
    /// Widest candidate.
    pub max_columns: usize,
}

impl Default for CandidateRules {
    fn default() -> Self {
        CandidateRules {
            min_table_rows: 10_000.0,
            max_columns: 3,
        }
    }
}

/// The candidates for one table access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessCandidates {
    pub table_oid: i64,
    /// The rule-ordered index this access would like best (before dropping covered prefixes).
    pub ideal: Vec<String>,
    /// Column lists to test, ideal first, none covered by an existing index.
    pub candidates: Vec<Vec<String>>,
    /// Candidates dropped because an existing index covers them: (columns, index name).
    pub covered: Vec<(Vec<String>, String)>,
    /// Usable equality columns, most selective first.
    pub equality: Vec<String>,
    /// Columns left out because one value covers most rows.
    pub low_selectivity: Vec<String>,
    /// An existing index already leads with the best equality column.
    pub already_indexed: Option<String>,
    /// The range column placed after the equality columns, if any.
    pub range: Option<String>,
}

/// Why an access produced no candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSkip {
    pub reason: String,
}

fn skip(reason: impl Into<String>) -> AccessSkip {
    AccessSkip {
        reason: reason.into(),
    }
}

/// Build the candidates for one access of `table`.
pub fn candidates_for(
    access: &TableAccess,
    table: &TableInfo,
    rules: &CandidateRules,
) -> Result<AccessCandidates, AccessSkip> {
    if SYSTEM_SCHEMAS.contains(&table.schema.as_str()) || table.schema.starts_with("pg_temp") {
        return Err(skip(format!("system schema {}", table.schema)));
    }
    if !matches!(table.relkind.as_str(), "r" | "m" | "p") {
        return Err(skip(format!("not a table (relkind {})", table.relkind)));
    }
    if table.rows < rules.min_table_rows {
        return Err(skip(format!(
            "small table ({:.0} rows, below {:.0})",
            table.rows, rules.min_table_rows
        )));
    }
    let usable = |c: &str| table.column(c).filter(|ci| ci.btree);
    let mut low = Vec::new();
    // `status = $1 AND created_at > $2`: a few-valued equality column still leads well in front
    // of a range column (the index reads one narrow slice per value), unless one value covers
    // most rows.
    let has_range = access
        .uses
        .iter()
        .any(|u| u.kind == UseKind::Range && usable(&u.column).is_some());
    // Equality columns: most selective first; ties by name so output is deterministic.
    let mut eq: Vec<(&str, f64)> = Vec::new();
    for u in access.uses.iter().filter(|u| u.kind.is_equality()) {
        let Some(ci) = usable(&u.column) else {
            continue;
        };
        let before_range = has_range
            && u.kind == UseKind::Equality
            && ci.max_mcv_freq.is_none_or(|m| m < LOW_SELECTIVITY_MCV_FRAC)
            && ci
                .eq_fraction(table.rows)
                .is_some_and(|f| f < LOW_SELECTIVITY_RANGE_EQ_FRAC);
        if ci.low_selectivity(table.rows) && !before_range {
            if !low.contains(&u.column) {
                low.push(u.column.clone());
            }
            continue;
        }
        if !eq.iter().any(|(c, _)| *c == u.column) {
            eq.push((&u.column, ci.eq_fraction(table.rows).unwrap_or(1.0)));
        }
    }
    eq.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    // A join key only helps as the inner side of a nested loop, which a table filtered by its
    // own equality predicates rarely is: join-only columns lead only when there is no filter.
    let is_filter = |c: &str| {
        access
            .uses
            .iter()
            .any(|u| u.column == c && matches!(u.kind, UseKind::Equality | UseKind::InList))
    };
    let join_only: Vec<&str> = if eq.iter().any(|(c, _)| is_filter(c)) {
        eq.iter()
            .map(|(c, _)| *c)
            .filter(|c| !is_filter(c))
            .collect()
    } else {
        Vec::new()
    };
    eq.retain(|(c, _)| !join_only.contains(c));
    let range: Option<&str> = access
        .uses
        .iter()
        .filter(|u| u.kind == UseKind::Range)
        .map(|u| u.column.as_str())
        .find(|c| usable(c).is_some() && !eq.iter().any(|(e, _)| e == c));
    let mut sort: Vec<&str> = access
        .columns(UseKind::OrderBy)
        .filter(|c| usable(c).is_some())
        .collect();
    if sort.is_empty() {
        sort = access
            .columns(UseKind::GroupBy)
            .filter(|c| usable(c).is_some())
            .collect();
    }

    let mut ideal: Vec<String> = eq
        .iter()
        .take(rules.max_columns)
        .map(|(c, _)| c.to_string())
        .collect();
    match range {
        Some(r) => {
            if ideal.len() < rules.max_columns {
                ideal.push(r.to_string());
            }
        }
        None => {
            for s in &sort {
                if ideal.len() >= rules.max_columns {
                    break;
                }
                if ideal.iter().any(|c| c == s) {
                    continue;
                }
                ideal.push(s.to_string());
            }
        }
    }
    if ideal.is_empty() {
        let why = if low.is_empty() {
            "no indexable predicate or sort column".to_string()
        } else {
            format!("only low-selectivity columns ({})", low.join(", "))
        };
        return Err(skip(why));
    }
    // A sort-only leading column is never low selectivity by itself, but a low-selectivity
    // column must never lead: drop it from the head of the ideal.
    while let Some(first) = ideal.first() {
        if low.contains(first) {
            ideal.remove(0);
        } else {
            break;
        }
    }
    if ideal.is_empty() {
        return Err(skip(format!(
            "only low-selectivity columns ({})",
            low.join(", ")
        )));
    }

    let mut all: Vec<Vec<String>> = Vec::new();
    let mut push = |v: Vec<String>| {
        if !v.is_empty() && !all.contains(&v) {
            all.push(v);
        }
    };
    for n in (1..=ideal.len()).rev() {
        push(ideal[..n].to_vec());
    }
    for (c, _) in &eq {
        push(vec![c.to_string()]);
    }
    if let Some(r) = range {
        push(vec![r.to_string()]);
    }
    for c in &join_only {
        push(vec![c.to_string()]);
    }
    let already_indexed = eq.first().and_then(|(c, _)| {
        table
            .covering_index(&[c.to_string()])
            .map(|i| i.name.clone())
    });
    let mut candidates = Vec::new();
    let mut covered = Vec::new();
    for c in all {
        match table.covering_index(&c) {
            Some(i) => covered.push((c, i.name.clone())),
            None => candidates.push(c),
        }
    }
    Ok(AccessCandidates {
        table_oid: table.oid,
        ideal,
        candidates,
        covered,
        equality: eq.iter().map(|(c, _)| c.to_string()).collect(),
        low_selectivity: low,
        already_indexed,
        range: range.map(str::to_string),
    })
}

/// Without a what-if engine: the one candidate the statistics support, if any. It must lead with
/// a selective equality column that no existing index already leads with.
pub fn heuristic_pick(ac: &AccessCandidates, table: &TableInfo) -> Option<Vec<String>> {
    if ac.already_indexed.is_some() || !table.analyzed {
        return None;
    }
    let first = ac.candidates.first()?;
    let lead = table.column(&first[0])?;
    let frac = lead.eq_fraction(table.rows)?;
    // An equality column then a range column (`kind = $1 AND occurred_at > now() - $2`).
    let eq_then_range = first.len() >= 2
        && ac.range.as_deref() == first.last().map(|s| s.as_str())
        && ac.equality.iter().any(|c| c == &first[0]);
    let bar = if eq_then_range {
        HEURISTIC_MAX_EQ_FRAC_BEFORE_RANGE
    } else {
        HEURISTIC_MAX_EQ_FRAC
    };
    if frac > bar {
        return None;
    }
    // The leading column must be one the statement compares by equality, not a range or sort.
    if ac.equality.first().is_none_or(|c| c != &first[0]) {
        return None;
    }
    Some(first.clone())
}

/// A deterministic index name of at most 63 bytes: `<table>_<col>_..._idx`, shortened with a
/// hash suffix when too long.
pub fn index_name(schema: &str, table: &str, columns: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let base = format!("{}_{}_idx", table, columns.join("_"));
    if base.len() <= 63 {
        return base;
    }
    let digest = Sha256::digest(format!("{schema}.{table}({})", columns.join(",")).as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut cut = 63 - 1 - hash.len() - 4;
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{}_idx", &base[..cut], hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisor::extract::{ColumnUse, TableName};

    fn col(name: &str, n_distinct: f64, max_mcv: Option<f64>) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            type_name: "integer".into(),
            btree: true,
            null_frac: Some(0.0),
            n_distinct: Some(n_distinct),
            max_mcv_freq: max_mcv,
        }
    }

    fn table(rows: f64, columns: Vec<ColumnInfo>, indexes: Vec<ExistingIndex>) -> TableInfo {
        TableInfo {
            oid: 1,
            schema: "public".into(),
            name: "users".into(),
            relkind: "r".into(),
            rows,
            total_bytes: 0,
            writes: 0,
            writes_per_hour: None,
            analyzed: true,
            columns,
            indexes,
        }
    }

    fn index(name: &str, cols: &[&str]) -> ExistingIndex {
        ExistingIndex {
            name: name.into(),
            am: "btree".into(),
            columns: cols.iter().map(|s| s.to_string()).collect(),
            valid: true,
            partial: false,
            unique: false,
            primary: false,
            definition: String::new(),
        }
    }

    fn access(uses: &[(&str, UseKind)]) -> TableAccess {
        TableAccess {
            table: TableName {
                schema: None,
                name: "users".into(),
            },
            alias: None,
            uses: uses
                .iter()
                .map(|(c, k)| ColumnUse {
                    column: c.to_string(),
                    kind: *k,
                })
                .collect(),
        }
    }

    fn v(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    fn std_table(indexes: Vec<ExistingIndex>) -> TableInfo {
        table(
            200_000.0,
            vec![
                col("id", -1.0, None),
                col("email", -1.0, None),
                col("org_id", 500.0, Some(0.003)),
                col("team_id", 5000.0, Some(0.0004)),
                col("status", 2.0, Some(0.9)),
                col("created_at", -0.9, None),
                col("flag", 2.0, Some(0.5)),
            ],
            indexes,
        )
    }

    #[test]
    fn equality_before_range_and_most_selective_first() {
        let t = std_table(vec![]);
        let a = access(&[
            ("created_at", UseKind::Range),
            ("org_id", UseKind::Equality),
            ("team_id", UseKind::Equality),
        ]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.ideal, v(&["team_id", "org_id", "created_at"]));
        assert_eq!(c.candidates[0], v(&["team_id", "org_id", "created_at"]));
        assert!(c.candidates.contains(&v(&["team_id", "org_id"])));
        assert!(c.candidates.contains(&v(&["team_id"])));
        assert!(c.candidates.contains(&v(&["org_id"])));
        assert!(c.candidates.contains(&v(&["created_at"])));
        // Never a range column ahead of an equality column.
        assert!(!c
            .candidates
            .iter()
            .any(|x| x[0] == "created_at" && x.len() > 1));
    }

    #[test]
    fn low_selectivity_column_left_out() {
        let t = std_table(vec![]);
        let a = access(&[("status", UseKind::Equality), ("org_id", UseKind::Equality)]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.ideal, v(&["org_id"]));
        assert_eq!(c.low_selectivity, v(&["status"]));
        assert!(!c.candidates.iter().flatten().any(|x| x == "status"));
        // Only a low-selectivity column: nothing at all.
        let a = access(&[("status", UseKind::Equality)]);
        let e = candidates_for(&a, &t, &CandidateRules::default()).unwrap_err();
        assert!(e.reason.contains("low-selectivity"), "{}", e.reason);
        // Exactly half the rows on one value counts as most.
        let a = access(&[("flag", UseKind::Equality)]);
        assert!(candidates_for(&a, &t, &CandidateRules::default()).is_err());
    }

    #[test]
    fn covered_candidates_dropped() {
        let t = std_table(vec![index("users_org_team", &["org_id", "team_id", "id"])]);
        let a = access(&[("org_id", UseKind::Equality)]);
        let e = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert!(e.candidates.is_empty());
        assert_eq!(
            e.covered,
            vec![(v(&["org_id"]), "users_org_team".to_string())]
        );
        assert_eq!(e.already_indexed.as_deref(), Some("users_org_team"));
        // Not a left prefix: (team_id) is not covered by (org_id, team_id, id).
        let a = access(&[("team_id", UseKind::Equality)]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.candidates, vec![v(&["team_id"])]);
    }

    #[test]
    fn invalid_partial_and_non_btree_indexes_do_not_cover() {
        let mut bad = index("i1", &["email"]);
        bad.valid = false;
        let mut partial = index("i2", &["email"]);
        partial.partial = true;
        let mut hash = index("i3", &["email"]);
        hash.am = "hash".into();
        let t = std_table(vec![bad, partial, hash]);
        let a = access(&[("email", UseKind::Equality)]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.candidates, vec![v(&["email"])]);
    }

    #[test]
    fn small_tables_and_system_schemas_skipped() {
        let t = table(500.0, vec![col("email", -1.0, None)], vec![]);
        let a = access(&[("email", UseKind::Equality)]);
        assert!(candidates_for(&a, &t, &CandidateRules::default())
            .unwrap_err()
            .reason
            .contains("small table"));
        let mut t = std_table(vec![]);
        t.schema = "pg_catalog".into();
        assert!(candidates_for(&a, &t, &CandidateRules::default())
            .unwrap_err()
            .reason
            .contains("system schema"));
    }

    #[test]
    fn order_by_follows_equality_and_stands_alone_only_without_filters() {
        let t = std_table(vec![]);
        let a = access(&[
            ("org_id", UseKind::Equality),
            ("created_at", UseKind::OrderBy),
        ]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.ideal, v(&["org_id", "created_at"]));
        let a = access(&[("created_at", UseKind::OrderBy)]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.ideal, v(&["created_at"]));
        // Range wins over sort for the tail: one range column at most.
        let a = access(&[
            ("org_id", UseKind::Equality),
            ("created_at", UseKind::Range),
            ("id", UseKind::OrderBy),
        ]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.ideal, v(&["org_id", "created_at"]));
    }

    #[test]
    fn join_keys_lead_only_without_filters() {
        let t = std_table(vec![]);
        let r = CandidateRules::default();
        let a = access(&[("team_id", UseKind::JoinKey), ("email", UseKind::Equality)]);
        let c = candidates_for(&a, &t, &r).unwrap();
        assert_eq!(c.ideal, v(&["email"]));
        assert_eq!(c.equality, v(&["email"]));
        assert!(c.candidates.contains(&v(&["team_id"])));
        let a = access(&[
            ("team_id", UseKind::JoinKey),
            ("created_at", UseKind::OrderBy),
        ]);
        let c = candidates_for(&a, &t, &r).unwrap();
        assert_eq!(c.ideal, v(&["team_id", "created_at"]));
    }

    #[test]
    fn unknown_and_non_btree_columns_ignored() {
        let mut t = std_table(vec![]);
        t.columns.push(ColumnInfo {
            btree: false,
            ..col("doc", -1.0, None)
        });
        let a = access(&[("doc", UseKind::Equality), ("nope", UseKind::Equality)]);
        assert!(candidates_for(&a, &t, &CandidateRules::default()).is_err());
    }

    #[test]
    fn at_most_three_columns() {
        let mut t = std_table(vec![]);
        t.columns.push(col("a", 1000.0, None));
        t.columns.push(col("b", 1000.0, None));
        let a = access(&[
            ("org_id", UseKind::Equality),
            ("team_id", UseKind::Equality),
            ("a", UseKind::Equality),
            ("b", UseKind::Equality),
            ("created_at", UseKind::Range),
        ]);
        let c = candidates_for(&a, &t, &CandidateRules::default()).unwrap();
        assert_eq!(c.ideal.len(), 3);
        assert!(c.candidates.iter().all(|x| x.len() <= 3));
    }

    #[test]
    fn heuristic_needs_selective_equality_lead() {
        let t = std_table(vec![]);
        let r = CandidateRules::default();
        let c = candidates_for(&access(&[("email", UseKind::Equality)]), &t, &r).unwrap();
        assert_eq!(heuristic_pick(&c, &t), Some(v(&["email"])));
        // Range only: generic statistics cannot tell; stay silent.
        let c = candidates_for(&access(&[("created_at", UseKind::Range)]), &t, &r).unwrap();
        assert_eq!(heuristic_pick(&c, &t), None);
        // org_id: 1/500 of the rows per value: selective enough.
        let c = candidates_for(&access(&[("org_id", UseKind::Equality)]), &t, &r).unwrap();
        assert_eq!(heuristic_pick(&c, &t), Some(v(&["org_id"])));
        // Already served by an index leading with the best column.
        let t2 = std_table(vec![index("by_email", &["email"])]);
        let c = candidates_for(
            &access(&[("email", UseKind::Equality), ("created_at", UseKind::Range)]),
            &t2,
            &r,
        )
        .unwrap();
        assert_eq!(heuristic_pick(&c, &t2), None);
    }

    #[test]
    fn eq_fraction_follows_planner_rules() {
        let c = col("x", -0.5, None);
        assert!((c.eq_fraction(1000.0).unwrap() - 0.002).abs() < 1e-9);
        let c = col("x", 10.0, Some(0.05));
        assert!((c.eq_fraction(1000.0).unwrap() - 0.05).abs() < 1e-9);
        let c = ColumnInfo {
            n_distinct: None,
            ..col("x", 1.0, None)
        };
        assert_eq!(c.eq_fraction(1000.0), None);
        assert!(!c.low_selectivity(1000.0));
    }

    #[test]
    fn index_names_are_deterministic_and_short() {
        assert_eq!(
            index_name("public", "users", &v(&["email"])),
            "users_email_idx"
        );
        let long_cols = v(&[
            "a_very_long_column_name_number_one",
            "a_very_long_column_name_number_two",
        ]);
        let n1 = index_name("public", "orders_with_a_long_name", &long_cols);
        let n2 = index_name("public", "orders_with_a_long_name", &long_cols);
        assert_eq!(n1, n2);
        assert!(n1.len() <= 63, "{n1}");
        assert!(n1.ends_with("_idx"));
        let n3 = index_name("other", "orders_with_a_long_name", &long_cols);
        assert_ne!(n1, n3);
        let uni = index_name("public", "ümlaut_tabelle_mit_sehr_langem_namen", &long_cols);
        assert!(uni.len() <= 63);
    }
}
