//! Pure extraction of index-relevant column uses (equality, range, IN, join keys, ORDER BY,
//! GROUP BY) per table from one normalized statement, parsed with PostgreSQL's own grammar.

use pg_query::protobuf::{
    node::Node as N, AExpr, AExprKind as K, BoolExprType, ColumnRef, JoinExpr, SelectStmt,
    SubLinkType,
};
use pg_query::{Node, NodeRef};
use serde::{Deserialize, Serialize};

/// What kind of statement it is. Only these are analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementKind {
    Select,
    Insert,
    Update,
    Delete,
}

/// A table as the statement names it (schema only when written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

/// How a column is used by one table reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UseKind {
    /// `col = $1` (or a constant / expression of parameters).
    Equality,
    /// `col IN (...)`, `col = ANY($1)`, `col IN (SELECT ...)`.
    InList,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`.
    Range,
    /// `a.col = b.col` between two different table references.
    JoinKey,
    OrderBy,
    GroupBy,
}

impl UseKind {
    /// Usable as a leading equality column of a btree index.
    pub fn is_equality(self) -> bool {
        matches!(self, UseKind::Equality | UseKind::InList | UseKind::JoinKey)
    }
}

/// One column use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnUse {
    pub column: String,
    pub kind: UseKind,
}

/// One reference to a table (a self-join gives two) and what the statement does with its columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableAccess {
    pub table: TableName,
    /// Alias as written, if any.
    pub alias: Option<String>,
    /// In statement order, without duplicates of the same (column, kind).
    pub uses: Vec<ColumnUse>,
}

impl TableAccess {
    pub fn columns(&self, kind: UseKind) -> impl Iterator<Item = &str> {
        self.uses
            .iter()
            .filter(move |u| u.kind == kind)
            .map(|u| u.column.as_str())
    }

    fn add(&mut self, column: &str, kind: UseKind) {
        if !self
            .uses
            .iter()
            .any(|u| u.column == column && u.kind == kind)
        {
            self.uses.push(ColumnUse {
                column: column.to_string(),
                kind,
            });
        }
    }
}

/// An unqualified column written where several tables are in scope: the catalog decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmbiguousUse {
    /// Indexes into `Extracted::tables`.
    pub candidates: Vec<usize>,
    pub column: String,
    pub kind: UseKind,
}

/// The result for one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub kind: StatementKind,
    pub tables: Vec<TableAccess>,
    pub ambiguous: Vec<AmbiguousUse>,
}

impl Extracted {
    /// Attribute the ambiguous uses with `has_column(table, column)` (from the catalog). A column
    /// found in exactly one candidate table goes there; anything else is dropped.
    pub fn resolve(&mut self, has_column: impl Fn(&TableName, &str) -> bool) {
        for a in std::mem::take(&mut self.ambiguous) {
            let owners: Vec<usize> = a
                .candidates
                .iter()
                .copied()
                .filter(|&i| has_column(&self.tables[i].table, &a.column))
                .collect();
            if let [only] = owners.as_slice() {
                self.tables[*only].add(&a.column, a.kind);
            }
        }
    }
}

/// Why a statement was not analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot parse: {0}")]
    Parse(String),
    #[error("not a single statement")]
    NotSingle,
    #[error("not a SELECT, INSERT, UPDATE or DELETE statement")]
    NotDml,
}

/// Parse one normalized statement and extract its column uses.
pub fn extract(sql: &str) -> Result<Extracted, ExtractError> {
    let parsed = pg_query::parse(sql).map_err(|e| ExtractError::Parse(e.to_string()))?;
    let stmts = &parsed.protobuf.stmts;
    if stmts.len() != 1 {
        return Err(ExtractError::NotSingle);
    }
    let node = stmts[0]
        .stmt
        .as_ref()
        .and_then(|n| n.node.as_ref())
        .ok_or(ExtractError::NotSingle)?;
    let mut w = Walker::default();
    let kind = match node {
        N::SelectStmt(s) => {
            w.select(s, &[]);
            StatementKind::Select
        }
        N::InsertStmt(s) => {
            if let Some(wc) = &s.with_clause {
                w.ctes(&wc.ctes, &[]);
            }
            if let Some(N::SelectStmt(sel)) = s.select_stmt.as_ref().and_then(|n| n.node.as_ref()) {
                w.select(sel, &[]);
            }
            StatementKind::Insert
        }
        N::UpdateStmt(s) => {
            if let Some(wc) = &s.with_clause {
                w.ctes(&wc.ctes, &[]);
            }
            let mut scope = Scope::default();
            if let Some(r) = &s.relation {
                w.range_var(r, &mut scope);
            }
            w.walk_from_list(&s.from_clause, &mut scope, &[]);
            let chain = [&scope];
            if let Some(q) = &s.where_clause {
                w.predicate(q, &chain);
            }
            StatementKind::Update
        }
        N::DeleteStmt(s) => {
            if let Some(wc) = &s.with_clause {
                w.ctes(&wc.ctes, &[]);
            }
            let mut scope = Scope::default();
            if let Some(r) = &s.relation {
                w.range_var(r, &mut scope);
            }
            w.walk_from_list(&s.using_clause, &mut scope, &[]);
            let chain = [&scope];
            if let Some(q) = &s.where_clause {
                w.predicate(q, &chain);
            }
            StatementKind::Delete
        }
        _ => return Err(ExtractError::NotDml),
    };
    Ok(Extracted {
        kind,
        tables: w.tables,
        ambiguous: w.ambiguous,
    })
}

/// Names visible at one query level: alias (or table name) -> table reference index. Names that
/// point at a subquery or CTE map to `None`.
#[derive(Default, Debug)]
struct Scope {
    names: Vec<(String, Option<usize>)>,
    /// Table references in FROM order (for unqualified columns).
    order: Vec<Option<usize>>,
    ctes: Vec<String>,
}

#[derive(Default)]
struct Walker {
    tables: Vec<TableAccess>,
    ambiguous: Vec<AmbiguousUse>,
    cte_names: Vec<String>,
}

/// Where a column reference points.
enum Target {
    Table(usize),
    Ambiguous(Vec<usize>),
    Elsewhere,
}

impl Walker {
    fn ctes(&mut self, ctes: &[Node], outer: &[&Scope]) {
        for c in ctes {
            if let Some(N::CommonTableExpr(cte)) = &c.node {
                self.cte_names.push(cte.ctename.clone());
                self.any_query(cte.ctequery.as_deref(), outer);
            }
        }
    }

    fn any_query(&mut self, n: Option<&Node>, outer: &[&Scope]) {
        match n.and_then(|n| n.node.as_ref()) {
            Some(N::SelectStmt(s)) => self.select(s, outer),
            Some(N::UpdateStmt(_)) | Some(N::DeleteStmt(_)) | Some(N::InsertStmt(_)) => {
                // Data-modifying CTEs: their own predicates are rare in hot paths; skipped.
            }
            _ => {}
        }
    }

    fn select(&mut self, s: &SelectStmt, outer: &[&Scope]) {
        if let Some(wc) = &s.with_clause {
            self.ctes(&wc.ctes, outer);
        }
        if let (Some(l), Some(r)) = (&s.larg, &s.rarg) {
            self.select(l, outer);
            self.select(r, outer);
            return;
        }
        let mut scope = Scope::default();
        self.walk_from_list(&s.from_clause, &mut scope, outer);
        let mut chain: Vec<&Scope> = vec![&scope];
        chain.extend_from_slice(outer);
        if let Some(q) = &s.where_clause {
            self.predicate(q, &chain);
        }
        if let Some(q) = &s.having_clause {
            self.sublinks_only(q, &chain);
        }
        for t in &s.target_list {
            self.sublinks_only(t, &chain);
        }
        for g in &s.group_clause {
            if let Some(N::ColumnRef(c)) = &g.node {
                self.record(c, UseKind::GroupBy, &chain);
            }
        }
        for o in &s.sort_clause {
            if let Some(N::SortBy(sb)) = &o.node {
                if let Some(N::ColumnRef(c)) = sb.node.as_ref().and_then(|n| n.node.as_ref()) {
                    self.record(c, UseKind::OrderBy, &chain);
                }
            }
        }
    }

    fn walk_from_list(&mut self, items: &[Node], scope: &mut Scope, outer: &[&Scope]) {
        for item in items {
            self.walk_from_item(item, scope, outer);
        }
    }

    fn walk_from_item(&mut self, item: &Node, scope: &mut Scope, outer: &[&Scope]) {
        match &item.node {
            Some(N::RangeVar(r)) => {
                self.range_var(r, scope);
            }
            Some(N::JoinExpr(j)) => self.join(j, scope, outer),
            Some(N::RangeSubselect(rs)) => {
                // A LATERAL subquery may see the tables before it.
                let lateral_outer: Vec<&Scope>;
                let inner_outer: &[&Scope] = if rs.lateral {
                    lateral_outer = std::iter::once(&*scope)
                        .chain(outer.iter().copied())
                        .collect();
                    &lateral_outer
                } else {
                    outer
                };
                self.any_query(rs.subquery.as_deref(), inner_outer);
                if let Some(a) = &rs.alias {
                    scope.names.push((a.aliasname.clone(), None));
                    scope.order.push(None);
                }
            }
            _ => {}
        }
    }

    fn range_var(&mut self, r: &pg_query::protobuf::RangeVar, scope: &mut Scope) -> Option<usize> {
        let visible = r
            .alias
            .as_ref()
            .map(|a| a.aliasname.clone())
            .unwrap_or_else(|| r.relname.clone());
        if r.schemaname.is_empty()
            && (self.cte_names.contains(&r.relname) || scope.ctes.contains(&r.relname))
        {
            scope.names.push((visible, None));
            scope.order.push(None);
            return None;
        }
        let idx = self.tables.len();
        self.tables.push(TableAccess {
            table: TableName {
                schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()),
                name: r.relname.clone(),
            },
            alias: r.alias.as_ref().map(|a| a.aliasname.clone()),
            uses: Vec::new(),
        });
        scope.names.push((visible, Some(idx)));
        scope.order.push(Some(idx));
        Some(idx)
    }

    fn join(&mut self, j: &JoinExpr, scope: &mut Scope, outer: &[&Scope]) {
        let before = scope.order.len();
        if let Some(l) = &j.larg {
            self.walk_from_item(l, scope, outer);
        }
        let mid = scope.order.len();
        if let Some(r) = &j.rarg {
            self.walk_from_item(r, scope, outer);
        }
        // USING (col, ...): a join key on the nearest table of each side that is a real table.
        for u in &j.using_clause {
            if let Some(N::String(s)) = &u.node {
                for side in [&scope.order[before..mid], &scope.order[mid..]] {
                    let tables: Vec<usize> = side.iter().flatten().copied().collect();
                    match tables.as_slice() {
                        [one] => self.tables[*one].add(&s.sval, UseKind::JoinKey),
                        [] => {}
                        many => self.ambiguous.push(AmbiguousUse {
                            candidates: many.to_vec(),
                            column: s.sval.clone(),
                            kind: UseKind::JoinKey,
                        }),
                    }
                }
            }
        }
        if let Some(q) = &j.quals {
            let mut chain: Vec<&Scope> = vec![&*scope];
            chain.extend_from_slice(outer);
            self.predicate(q, &chain);
        }
    }

    /// Where a column reference points, searching the innermost scope first.
    fn target(&self, c: &ColumnRef, chain: &[&Scope]) -> (Target, Option<String>) {
        let names: Vec<&str> = c
            .fields
            .iter()
            .filter_map(|f| match &f.node {
                Some(N::String(s)) => Some(s.sval.as_str()),
                _ => None,
            })
            .collect();
        if names.len() != c.fields.len() || names.is_empty() {
            return (Target::Elsewhere, None); // `t.*` and friends
        }
        let column = names[names.len() - 1].to_string();
        if names.len() == 1 {
            for scope in chain {
                let tables: Vec<usize> = scope.order.iter().flatten().copied().collect();
                if scope.order.is_empty() {
                    continue;
                }
                return match tables.as_slice() {
                    [one] if scope.order.len() == 1 => (Target::Table(*one), Some(column)),
                    [] => (Target::Elsewhere, Some(column)),
                    many => (Target::Ambiguous(many.to_vec()), Some(column)),
                };
            }
            return (Target::Elsewhere, Some(column));
        }
        let qualifier = names[names.len() - 2];
        let schema = (names.len() >= 3).then(|| names[names.len() - 3]);
        for scope in chain {
            for (name, idx) in &scope.names {
                if name == qualifier {
                    return match idx {
                        Some(i)
                            if schema.is_none()
                                || self.tables[*i].table.schema.as_deref() == schema =>
                        {
                            (Target::Table(*i), Some(column))
                        }
                        _ => (Target::Elsewhere, Some(column)),
                    };
                }
            }
        }
        (Target::Elsewhere, Some(column))
    }

    /// Record a use; returns the table it landed on (if unambiguous).
    fn record(&mut self, c: &ColumnRef, kind: UseKind, chain: &[&Scope]) -> Option<usize> {
        let (target, column) = self.target(c, chain);
        let column = column?;
        match target {
            Target::Table(i) => {
                self.tables[i].add(&column, kind);
                Some(i)
            }
            Target::Ambiguous(candidates) => {
                self.ambiguous.push(AmbiguousUse {
                    candidates,
                    column,
                    kind,
                });
                None
            }
            Target::Elsewhere => None,
        }
    }

    fn predicate(&mut self, n: &Node, chain: &[&Scope]) {
        match &n.node {
            Some(N::BoolExpr(b)) => {
                if b.boolop == BoolExprType::AndExpr as i32 {
                    for a in &b.args {
                        self.predicate(a, chain);
                    }
                } else {
                    // OR / NOT: no simple btree use, but subqueries inside still run.
                    for a in &b.args {
                        self.sublinks_only(a, chain);
                    }
                }
            }
            Some(N::AExpr(e)) => self.a_expr(e, chain),
            Some(N::SubLink(s)) => {
                if s.sub_link_type == SubLinkType::AnySublink as i32 {
                    if let Some(N::ColumnRef(c)) = s.testexpr.as_ref().and_then(|t| t.node.as_ref())
                    {
                        self.record(c, UseKind::InList, chain);
                    }
                }
                self.any_query(s.subselect.as_deref(), chain);
            }
            Some(_) => self.sublinks_only(n, chain),
            None => {}
        }
    }

    fn a_expr(&mut self, e: &AExpr, chain: &[&Scope]) {
        let op = e
            .name
            .iter()
            .filter_map(|n| match &n.node {
                Some(N::String(s)) => Some(s.sval.as_str()),
                _ => None,
            })
            .next_back()
            .unwrap_or("");
        let l = e.lexpr.as_deref();
        let r = e.rexpr.as_deref();
        let kind = e.kind;
        if kind == K::AexprOp as i32 {
            let range = matches!(op, "<" | "<=" | ">" | ">=");
            if op == "=" || range {
                let use_kind = if range {
                    UseKind::Range
                } else {
                    UseKind::Equality
                };
                match (column_of(l), column_of(r)) {
                    (Some(a), Some(b)) if op == "=" => {
                        let ta = self.target(a, chain).0;
                        let tb = self.target(b, chain).0;
                        let same =
                            matches!((&ta, &tb), (Target::Table(x), Target::Table(y)) if x == y);
                        if !same {
                            self.record(a, UseKind::JoinKey, chain);
                            self.record(b, UseKind::JoinKey, chain);
                        }
                    }
                    (Some(a), None) if r.is_some_and(|x| !has_column(x)) => {
                        self.record(a, use_kind, chain);
                    }
                    (None, Some(b)) if l.is_some_and(|x| !has_column(x)) => {
                        self.record(b, use_kind, chain);
                    }
                    _ => {}
                }
            }
        } else if kind == K::AexprIn as i32 || kind == K::AexprOpAny as i32 {
            if op == "=" {
                if let (Some(a), Some(rhs)) = (column_of(l), r) {
                    if !has_column(rhs) {
                        self.record(a, UseKind::InList, chain);
                    }
                }
            }
        } else if kind == K::AexprBetween as i32 || kind == K::AexprBetweenSym as i32 {
            if let (Some(a), Some(rhs)) = (column_of(l), r) {
                if !has_column(rhs) {
                    self.record(a, UseKind::Range, chain);
                }
            }
        }
        for side in [l, r].into_iter().flatten() {
            self.sublinks_only(side, chain);
        }
    }

    /// Walk into the subqueries of an expression without recording its own predicates.
    fn sublinks_only(&mut self, n: &Node, chain: &[&Scope]) {
        let Some(inner) = &n.node else { return };
        let children: Vec<&Node> = match inner {
            N::SubLink(_) => {
                self.predicate(n, chain);
                return;
            }
            N::BoolExpr(b) => b.args.iter().collect(),
            N::AExpr(e) => [e.lexpr.as_deref(), e.rexpr.as_deref()]
                .into_iter()
                .flatten()
                .collect(),
            N::FuncCall(f) => f.args.iter().collect(),
            N::TypeCast(t) => t.arg.as_deref().into_iter().collect(),
            N::CoalesceExpr(c) => c.args.iter().collect(),
            N::List(l) => l.items.iter().collect(),
            N::NullTest(t) => t.arg.as_deref().into_iter().collect(),
            N::ResTarget(r) => r.val.as_deref().into_iter().collect(),
            N::RowExpr(r) => r.args.iter().collect(),
            N::CaseExpr(c) => {
                let mut v: Vec<&Node> = c.args.iter().collect();
                v.extend(c.defresult.as_deref());
                v
            }
            N::CaseWhen(w) => [w.expr.as_deref(), w.result.as_deref()]
                .into_iter()
                .flatten()
                .collect(),
            _ => Vec::new(),
        };
        for c in children {
            self.sublinks_only(c, chain);
        }
    }
}

fn column_of(n: Option<&Node>) -> Option<&ColumnRef> {
    match n.and_then(|n| n.node.as_ref()) {
        Some(N::ColumnRef(c)) => Some(c),
        _ => None,
    }
}

/// The expression mentions a column (so it is not a plain value for an index lookup).
fn has_column(n: &Node) -> bool {
    match &n.node {
        Some(N::ColumnRef(_)) => true,
        Some(inner) => inner
            .nodes()
            .iter()
            .any(|(r, ..)| matches!(r, NodeRef::ColumnRef(_))),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(e: &Extracted, table: &str) -> Vec<(String, UseKind)> {
        e.tables
            .iter()
            .filter(|t| t.table.name == table)
            .flat_map(|t| t.uses.iter().map(|u| (u.column.clone(), u.kind)))
            .collect()
    }

    fn has(e: &Extracted, table: &str, col: &str, kind: UseKind) -> bool {
        uses(e, table).contains(&(col.to_string(), kind))
    }

    #[test]
    fn simple_equality_and_range() {
        let e = extract("SELECT * FROM orders WHERE user_id = $1 AND created_at >= $2").unwrap();
        assert_eq!(e.kind, StatementKind::Select);
        assert!(has(&e, "orders", "user_id", UseKind::Equality));
        assert!(has(&e, "orders", "created_at", UseKind::Range));
        assert_eq!(uses(&e, "orders").len(), 2);
    }

    #[test]
    fn reversed_operands_and_casts_on_the_value() {
        let e = extract("SELECT id FROM users WHERE $1::int = org_id AND $2 < score").unwrap();
        assert!(has(&e, "users", "org_id", UseKind::Equality));
        assert!(has(&e, "users", "score", UseKind::Range));
    }

    #[test]
    fn cast_on_the_column_is_not_indexable() {
        let e = extract("SELECT id FROM users WHERE email::text = $1").unwrap();
        assert!(uses(&e, "users").is_empty());
    }

    #[test]
    fn aliases_and_join_keys() {
        let e = extract(
            "SELECT o.id FROM users u JOIN orders o ON o.user_id = u.id \
             WHERE u.org_id = $1 ORDER BY o.created_at DESC LIMIT $2",
        )
        .unwrap();
        assert!(has(&e, "orders", "user_id", UseKind::JoinKey));
        assert!(has(&e, "users", "id", UseKind::JoinKey));
        assert!(has(&e, "users", "org_id", UseKind::Equality));
        assert!(has(&e, "orders", "created_at", UseKind::OrderBy));
    }

    #[test]
    fn comma_join_in_where() {
        let e = extract(
            "SELECT * FROM public.users u, public.orders o WHERE o.user_id = u.id AND o.status = $1",
        )
        .unwrap();
        assert_eq!(e.tables[0].table.schema.as_deref(), Some("public"));
        assert!(has(&e, "orders", "user_id", UseKind::JoinKey));
        assert!(has(&e, "orders", "status", UseKind::Equality));
    }

    #[test]
    fn in_lists_and_any() {
        let e = extract(
            "SELECT * FROM items WHERE sku IN ($1, $2, $3) AND shop_id = ANY($4) AND kind = $5",
        )
        .unwrap();
        assert!(has(&e, "items", "sku", UseKind::InList));
        assert!(has(&e, "items", "shop_id", UseKind::InList));
        assert!(has(&e, "items", "kind", UseKind::Equality));
    }

    #[test]
    fn between_is_a_range() {
        let e = extract("SELECT count(*) FROM events WHERE at BETWEEN $1 AND $2").unwrap();
        assert!(has(&e, "events", "at", UseKind::Range));
    }

    #[test]
    fn or_and_not_equal_are_ignored() {
        let e = extract("SELECT * FROM t WHERE a = $1 OR b = $2").unwrap();
        assert!(uses(&e, "t").is_empty());
        let e = extract("SELECT * FROM t WHERE a <> $1").unwrap();
        assert!(uses(&e, "t").is_empty());
    }

    #[test]
    fn group_by_and_order_by() {
        let e = extract(
            "SELECT status, count(*) FROM orders WHERE shop_id = $1 GROUP BY status ORDER BY status",
        )
        .unwrap();
        assert!(has(&e, "orders", "status", UseKind::GroupBy));
        assert!(has(&e, "orders", "status", UseKind::OrderBy));
        assert!(has(&e, "orders", "shop_id", UseKind::Equality));
    }

    #[test]
    fn update_and_delete() {
        let e = extract("UPDATE accounts SET balance = balance + $1 WHERE id = $2").unwrap();
        assert_eq!(e.kind, StatementKind::Update);
        assert!(has(&e, "accounts", "id", UseKind::Equality));
        assert!(!has(&e, "accounts", "balance", UseKind::Equality));
        let e = extract("DELETE FROM sessions WHERE expires_at < $1").unwrap();
        assert_eq!(e.kind, StatementKind::Delete);
        assert!(has(&e, "sessions", "expires_at", UseKind::Range));
    }

    #[test]
    fn update_from_join() {
        let e = extract(
            "UPDATE orders o SET status = $1 FROM users u WHERE u.id = o.user_id AND u.email = $2",
        )
        .unwrap();
        assert!(has(&e, "orders", "user_id", UseKind::JoinKey));
        assert!(has(&e, "users", "email", UseKind::Equality));
    }

    #[test]
    fn subqueries_exists_and_in() {
        let e = extract(
            "SELECT * FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id \
             AND o.total > $1) AND u.org_id IN (SELECT id FROM orgs WHERE plan = $2)",
        )
        .unwrap();
        assert!(has(&e, "orders", "user_id", UseKind::JoinKey));
        assert!(has(&e, "orders", "total", UseKind::Range));
        assert!(has(&e, "users", "id", UseKind::JoinKey));
        assert!(has(&e, "users", "org_id", UseKind::InList));
        assert!(has(&e, "orgs", "plan", UseKind::Equality));
    }

    #[test]
    fn ctes_are_not_tables() {
        let e = extract(
            "WITH recent AS (SELECT * FROM orders WHERE created_at > $1) \
             SELECT * FROM recent r WHERE r.user_id = $2",
        )
        .unwrap();
        assert_eq!(e.tables.len(), 1);
        assert!(has(&e, "orders", "created_at", UseKind::Range));
        assert!(!has(&e, "recent", "user_id", UseKind::Equality));
    }

    #[test]
    fn derived_tables_and_union() {
        let e = extract(
            "SELECT * FROM (SELECT id FROM a WHERE x = $1) s UNION ALL SELECT id FROM b WHERE y > $2",
        )
        .unwrap();
        assert!(has(&e, "a", "x", UseKind::Equality));
        assert!(has(&e, "b", "y", UseKind::Range));
    }

    #[test]
    fn unqualified_columns_with_two_tables_are_resolved_by_catalog() {
        let mut e = extract(
            "SELECT * FROM users JOIN orders ON orders.user_id = users.id WHERE email = $1",
        )
        .unwrap();
        assert_eq!(e.ambiguous.len(), 1);
        e.resolve(|t, c| t.name == "users" && c == "email");
        assert!(has(&e, "users", "email", UseKind::Equality));
        assert!(e.ambiguous.is_empty());
    }

    #[test]
    fn join_using() {
        let e = extract("SELECT * FROM orders JOIN items USING (order_id) WHERE sku = $1").unwrap();
        assert!(has(&e, "orders", "order_id", UseKind::JoinKey));
        assert!(has(&e, "items", "order_id", UseKind::JoinKey));
    }

    #[test]
    fn insert_select_and_plain_insert() {
        let e = extract("INSERT INTO archive SELECT * FROM logs WHERE at < $1").unwrap();
        assert_eq!(e.kind, StatementKind::Insert);
        assert!(has(&e, "logs", "at", UseKind::Range));
        let e = extract("INSERT INTO t (a, b) VALUES ($1, $2)").unwrap();
        assert!(e.tables.is_empty());
    }

    #[test]
    fn self_join_keeps_two_references() {
        let e = extract(
            "SELECT * FROM employees e JOIN employees m ON m.id = e.manager_id WHERE e.dept = $1",
        )
        .unwrap();
        assert_eq!(e.tables.len(), 2);
        assert!(e.tables[0].uses.contains(&ColumnUse {
            column: "manager_id".into(),
            kind: UseKind::JoinKey
        }));
        assert!(e.tables[1].uses.contains(&ColumnUse {
            column: "id".into(),
            kind: UseKind::JoinKey
        }));
    }

    #[test]
    fn lateral_subquery_sees_outer_table() {
        let e = extract(
            "SELECT * FROM users u, LATERAL (SELECT * FROM orders o WHERE o.user_id = u.id \
             ORDER BY o.created_at DESC LIMIT $1) last",
        )
        .unwrap();
        assert!(has(&e, "orders", "user_id", UseKind::JoinKey));
        assert!(has(&e, "orders", "created_at", UseKind::OrderBy));
    }

    #[test]
    fn orm_generated_statements() {
        // Rails
        let e = extract(r#"SELECT "users".* FROM "users" WHERE "users"."email" = $1 LIMIT $2"#)
            .unwrap();
        assert!(has(&e, "users", "email", UseKind::Equality));
        // Django, parenthesized join condition and schema-qualified column
        let e = extract(
            r#"SELECT "app_order"."id" FROM "app_order" INNER JOIN "app_user"
               ON ("app_order"."user_id" = "app_user"."id")
               WHERE ("app_user"."email" = $1 AND "app_order"."created" >= $2)
               ORDER BY "app_order"."created" DESC"#,
        )
        .unwrap();
        assert!(has(&e, "app_order", "user_id", UseKind::JoinKey));
        assert!(has(&e, "app_user", "email", UseKind::Equality));
        assert!(has(&e, "app_order", "created", UseKind::Range));
        assert!(has(&e, "app_order", "created", UseKind::OrderBy));
        // Fully qualified column with a schema-qualified table
        let e = extract("SELECT 1 FROM shop.items WHERE shop.items.sku = $1").unwrap();
        assert_eq!(e.tables[0].table.schema.as_deref(), Some("shop"));
        assert!(has(&e, "items", "sku", UseKind::Equality));
        // Quoted mixed-case identifiers keep their case
        let e = extract(r#"SELECT * FROM "Orders" o WHERE o."UserId" = $1"#).unwrap();
        assert_eq!(e.tables[0].table.name, "Orders");
        assert!(has(&e, "Orders", "UserId", UseKind::Equality));
        // SELECT ... FOR UPDATE SKIP LOCKED (job queues)
        let e = extract(
            "SELECT id FROM jobs WHERE queue = $1 AND run_at <= $2 ORDER BY run_at \
             LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .unwrap();
        assert!(has(&e, "jobs", "queue", UseKind::Equality));
        assert!(has(&e, "jobs", "run_at", UseKind::Range));
        // Upsert: nothing to index from the insert itself
        let e = extract(
            "INSERT INTO counters (k, n) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET n = counters.n + $3",
        )
        .unwrap();
        assert_eq!(e.kind, StatementKind::Insert);
        assert!(e.tables.is_empty());
    }

    #[test]
    fn rejected_statements() {
        assert!(matches!(
            extract("SELECT * FROM t WHERE a = $1; DROP TABLE t"),
            Err(ExtractError::NotSingle)
        ));
        assert!(matches!(extract("VACUUM t"), Err(ExtractError::NotDml)));
        // libpg_query accepts this normalized form, the server does not: EXPLAIN reports it.
        assert!(extract("SELECT * FROM t WHERE created_at > now() - interval $1").is_ok());
        assert!(matches!(
            extract("SELECT * FROM t WHERE a ="),
            Err(ExtractError::Parse(_))
        ));
    }

    #[test]
    fn pg_stat_statements_text_with_concatenation() {
        let e = extract("SELECT * FROM users WHERE email = $1 || $2 || $3").unwrap();
        assert!(has(&e, "users", "email", UseKind::Equality));
    }

    #[test]
    fn function_on_column_is_not_indexable_but_function_of_params_is() {
        let e = extract("SELECT * FROM users WHERE lower(email) = $1").unwrap();
        assert!(uses(&e, "users").is_empty());
        let e = extract("SELECT * FROM events WHERE at > now() - $1::interval").unwrap();
        assert!(has(&e, "events", "at", UseKind::Range));
    }
}
