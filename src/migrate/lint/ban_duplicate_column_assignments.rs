//! ban-duplicate-column-assignments: the same column assigned or declared twice in one statement.

use std::collections::HashMap;

use pg_query::protobuf::ResTarget;
use pg_query::{Node, NodeEnum};

use super::FileContext;

pub struct Rule;

/// One assignment target: the column and the part of it (`a.x`, `a[1]`) that is written.
struct Target {
    name: String,
    part: String,
}

fn part_of(indirection: &[Node]) -> String {
    indirection
        .iter()
        .map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => format!(".{}", s.sval),
            Some(other) => format!("[{other:?}]"),
            None => String::new(),
        })
        .collect()
}

fn res_targets(list: &[Node]) -> impl Iterator<Item = &ResTarget> {
    list.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::ResTarget(r)) => Some(r.as_ref()),
        _ => None,
    })
}

fn assigned(list: &[Node]) -> Vec<Target> {
    res_targets(list)
        .map(|r| Target {
            name: r.name.clone(),
            part: part_of(&r.indirection),
        })
        .collect()
}

/// The name PostgreSQL gives an output column without an alias (FigureColname, simplified).
fn figure_name(node: Option<&Node>) -> Option<String> {
    match node?.node.as_ref()? {
        NodeEnum::ColumnRef(c) => match c.fields.last()?.node.as_ref()? {
            NodeEnum::String(s) => Some(s.sval.clone()),
            // `t.*` expands to columns we cannot see.
            _ => None,
        },
        NodeEnum::FuncCall(f) => match f.funcname.last()?.node.as_ref()? {
            NodeEnum::String(s) => Some(s.sval.clone()),
            _ => None,
        },
        NodeEnum::TypeCast(t) => figure_name(t.arg.as_deref()).or_else(|| {
            t.type_name
                .as_ref()
                .and_then(|n| n.names.last())
                .and_then(|n| match n.node.as_ref() {
                    Some(NodeEnum::String(s)) => Some(s.sval.clone()),
                    _ => None,
                })
        }),
        _ => Some("?column?".into()),
    }
}

/// Output column names of a SELECT (None when a `*` hides them).
fn output_names(query: Option<&Node>) -> Option<Vec<String>> {
    let NodeEnum::SelectStmt(s) = query?.node.as_ref()? else {
        return None;
    };
    if !s.values_lists.is_empty() || s.op != 1 {
        // VALUES lists and UNIONs: leave them alone.
        return None;
    }
    res_targets(&s.target_list)
        .map(|r| {
            if r.name.is_empty() {
                figure_name(r.val.as_deref())
            } else {
                Some(r.name.clone())
            }
        })
        .collect()
}

fn names(list: &[Node]) -> Vec<String> {
    list.iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

fn declared(stmt: &pg_query::protobuf::CreateStmt) -> Vec<Target> {
    stmt.table_elts
        .iter()
        .filter_map(|e| match e.node.as_ref() {
            Some(NodeEnum::ColumnDef(c)) => Some(Target {
                name: c.colname.clone(),
                part: String::new(),
            }),
            _ => None,
        })
        .collect()
}

fn whole(names: Vec<String>) -> Vec<Target> {
    names
        .into_iter()
        .map(|name| Target {
            name,
            part: String::new(),
        })
        .collect()
}

/// Every list of targets in the statement that must not name a column twice.
fn target_lists(stmt: &NodeEnum) -> Vec<Vec<Target>> {
    let mut out = Vec::new();
    match stmt {
        NodeEnum::UpdateStmt(s) => out.push(assigned(&s.target_list)),
        NodeEnum::InsertStmt(s) => {
            out.push(assigned(&s.cols));
            if let Some(c) = s.on_conflict_clause.as_ref() {
                out.push(assigned(&c.target_list));
            }
        }
        NodeEnum::MergeStmt(s) => {
            for w in &s.merge_when_clauses {
                if let Some(NodeEnum::MergeWhenClause(w)) = w.node.as_ref() {
                    out.push(assigned(&w.target_list));
                }
            }
        }
        NodeEnum::CreateStmt(s) => out.push(declared(s)),
        NodeEnum::CreateForeignTableStmt(s) => {
            if let Some(b) = s.base_stmt.as_ref() {
                out.push(declared(b));
            }
        }
        NodeEnum::ViewStmt(s) => {
            if !s.aliases.is_empty() {
                out.push(whole(names(&s.aliases)));
            } else if let Some(n) = output_names(s.query.as_deref()) {
                out.push(whole(n));
            }
        }
        NodeEnum::CreateTableAsStmt(s) => {
            let cols = s
                .into
                .as_ref()
                .map(|i| names(&i.col_names))
                .unwrap_or_default();
            if !cols.is_empty() {
                out.push(whole(cols));
            } else if let Some(n) = output_names(s.query.as_deref()) {
                out.push(whole(n));
            }
        }
        NodeEnum::SelectStmt(s) if s.into_clause.is_some() => {
            let node = Node {
                node: Some(stmt.clone()),
            };
            if let Some(n) = output_names(Some(&node)) {
                out.push(whole(n));
            }
        }
        _ => {}
    }
    out
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-duplicate-column-assignments"
    }
    fn help(&self) -> &'static str {
        "PostgreSQL rejects a statement that assigns or declares the same column twice (\"multiple assignments to same column\", \"column specified more than once\"), so the migration fails when it runs. Keep one assignment per column."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        let mut out = Vec::new();
        for list in target_lists(stmt) {
            let mut seen: HashMap<&str, Vec<&str>> = HashMap::new();
            for t in &list {
                let parts = seen.entry(t.name.as_str()).or_default();
                // `a` and `a.x` clash, `a.x` twice clashes, `a.x` and `a.y` do not.
                let clash = parts
                    .iter()
                    .any(|p| p.is_empty() || t.part.is_empty() || *p == t.part);
                if clash {
                    out.push(format!("column {} is assigned more than once", t.name));
                }
                parts.push(t.part.as_str());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_duplicates() {
        for bad in [
            "UPDATE k SET a = 1, a = 2;",
            "UPDATE k SET (a, b) = (1, 2), a = 3;",
            "UPDATE k SET a = row(1, 2), a.x = 1;",
            "UPDATE k SET a = 1, A = 2;",
            "INSERT INTO t (a, a) VALUES (1, 2);",
            "INSERT INTO k VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2;",
            "CREATE TABLE t (a int, a text);",
            "CREATE VIEW v (a, a) AS SELECT 1, 2;",
            "CREATE VIEW v AS SELECT 1 a, 2 a;",
            "CREATE VIEW v AS SELECT 1, 2;",
            "SELECT 1 a, 2 a INTO z;",
        ] {
            assert_eq!(count(&Rule, bad), 1, "{bad}");
        }
        for ok in [
            "UPDATE k SET a = 1, b = 2;",
            "UPDATE k SET a.x = 1, a.y = 2;",
            "UPDATE k SET a[1] = 1, a[2] = 2;",
            "UPDATE k SET \"A\" = 1, A = 2;",
            "CREATE VIEW v (a, b) AS SELECT 1 a, 2 a;",
            "SELECT 1 a, 2 b INTO z;",
            "INSERT INTO k (a.x, a.y) VALUES (1, 2);",
        ] {
            assert!(silent(&Rule, ok), "{ok}");
        }
    }
}
