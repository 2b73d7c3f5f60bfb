//! Safety and syntax rules for migration files (`migrate validate`), one module per rule.
//!
//! Rule names follow squawk's where the meaning matches, so users recognise them.

use std::collections::{HashMap, HashSet};

use pg_query::protobuf::{AlterTableCmd, AlterTableType, ColumnDef, ConstrType, RangeVar};
use pg_query::NodeEnum;
use serde::Serialize;

use super::locks::{rangevar_name, statement_lock, LockLevel};
use super::source::{Source, SqlFile};
use super::split::{split, Statement};
use crate::util::line_col;

pub mod adding_field_with_default;
pub mod adding_foreign_key_constraint;
pub mod adding_not_nullable_field;
pub mod adding_required_field;
pub mod adding_serial_primary_key_field;
pub mod ban_alter_identity;
pub mod ban_concurrent_index_creation_in_transaction;
pub mod ban_drop_column;
pub mod ban_drop_constraint;
pub mod ban_drop_database;
pub mod ban_drop_default;
pub mod ban_drop_generated_expression;
pub mod ban_drop_objects;
pub mod ban_drop_table;
pub mod ban_set_schema;
pub mod changing_column_type;
pub mod compat_additions;
pub mod compat_changes;
pub mod compat_options;
pub mod compat_security;
pub mod constraint_missing_not_valid;
pub mod disallowed_unique_constraint;
pub mod no_transaction_single_statement;
pub mod prefer_bigint_over_int;
pub mod prefer_identity;
pub mod prefer_robust_stmts;
pub mod renaming_column;
pub mod renaming_object;
pub mod renaming_table;
pub mod require_concurrent_index_creation;
pub mod require_concurrent_index_deletion;
pub mod schema;
pub mod transaction_nesting;

use schema::{table_key, Schema};
// Rules added to match squawk's rule set.
pub mod ban_alter_domain_with_add_constraint;
pub mod ban_char_field;
pub mod ban_create_domain_with_constraint;
pub mod ban_drop_not_null;
pub mod ban_duplicate_column_assignments;
pub mod ban_truncate_cascade;
pub mod ban_uncommitted_transaction;
pub mod identifier_too_long;
pub mod prefer_bigint_over_smallint;
pub mod prefer_repack;
pub mod prefer_text_field;
pub mod prefer_timestamptz;
pub mod require_concurrent_partition_detach;
pub mod require_concurrent_reindex;
pub mod require_enum_value_ordering;
pub mod require_lock_timeout;
pub mod require_statement_timeout;
pub mod require_table_schema;
pub mod require_timeout_settings;

/// Name of the pseudo-rule for parse failures.
pub const SYNTAX_ERROR: &str = "syntax-error";
/// Name of the pseudo-rule for folder problems (naming, duplicates, missing down files).
pub const FILE_RULE: &str = "migration-files";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Information from the database (the lock a statement takes and on what).
    Note,
    /// A convention (bigint keys, identity columns, ...), not a risk to a live database:
    /// summarised in one line by default, never changes the exit code unless `--strict`.
    Style,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Style => "style",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Rules about conventions rather than risk: whatever severity a rule module declares, their
/// findings are reported as [`Severity::Style`].
pub const STYLE_RULES: &[&str] = &[
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    // No risk to the database: a column that may now hold NULL, a new enum value's position.
    "ban-drop-not-null",
    "require-enum-value-ordering",
    // Nor is a dropped constraint: no query is blocked or fails.
    "ban-drop-constraint",
];

/// An opt-in rule given by its name, help and finder: squawk's opt-in rollback-compatibility
/// rules, grouped by family in the `compat_*` modules.
pub struct OptIn {
    pub name: &'static str,
    pub help: &'static str,
    pub find: fn(&NodeEnum, &FileContext) -> Vec<String>,
}

impl Rule for OptIn {
    fn name(&self) -> &'static str {
        self.name
    }
    fn help(&self) -> &'static str {
        self.help
    }
    fn opt_in(&self) -> bool {
        true
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        (self.find)(stmt, cx)
    }
}

/// The severity a rule's findings carry.
pub fn rule_severity(rule: &dyn Rule) -> Severity {
    if STYLE_RULES.contains(&rule.name()) {
        Severity::Style
    } else {
        rule.severity()
    }
}

/// One finding of `validate`. Field names are a JSON API: add, never rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// `--trace` with a database: the writes that would queue behind a held lock span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_queue: Option<super::trace::LockQueue>,
}

/// What a rule knows about the file around the statement.
#[derive(Debug, Clone, Default)]
pub struct FileContext {
    /// The file runs inside one transaction (no `-- no-transaction` directive).
    pub in_transaction: bool,
    /// Number of statements in the file.
    pub statements: usize,
    /// Index of this statement in the file.
    pub index: usize,
    /// Tables created earlier in the same file (new and empty: locking them harms nobody).
    pub created_tables: HashSet<String>,
    /// Tables with a `VALIDATE CONSTRAINT` earlier in the file.
    pub validated_tables: HashSet<String>,
    /// For a down file: what its up file created (`table`, `table.column`), which dropping
    /// merely undoes.
    pub undoes: HashSet<String>,
    /// Every statement of the file, parsed (`all[index]` is this one); rules that look at the
    /// statements around this one read it.
    pub all: Vec<NodeEnum>,
    /// This statement's text.
    pub text: String,
    /// Inside a `BEGIN ... COMMIT` written in the file itself.
    pub in_explicit_tx: bool,
    /// Index in `all` of the first statement of the transaction around this one.
    pub tx_start: usize,
    /// Target server major version from `-- dbdoctor:pg-version N` (unknown: a current server).
    pub pg_version: Option<u32>,
    /// Opt-in rules switched on with `-- dbdoctor:include rule[, rule]`.
    pub included: HashSet<String>,
    /// The runner sends each statement on its own (goose, Flyway), so a file outside a
    /// transaction is not one implicit transaction.
    pub statements_separately: bool,
    /// The schema as the earlier files and statements left it (before this statement).
    pub schema: Schema,
    /// Table locks this file's transaction already holds (until COMMIT): level and line.
    pub held: HashMap<String, (LockLevel, usize)>,
    /// 1-based line of this statement.
    pub line: usize,
}

impl FileContext {
    pub fn is_new_table(&self, rv: Option<&RangeVar>) -> bool {
        rv.is_some_and(|r| {
            self.created_tables.contains(&rangevar_name(r))
                || self.created_tables.contains(&table_key(r))
        })
    }

    /// The lock the transaction already holds on a table from an earlier statement.
    pub fn held_lock(&self, rv: &RangeVar) -> Option<(LockLevel, usize)> {
        self.held.get(&table_key(rv)).copied()
    }

    /// The statement runs inside some transaction: the file's own or one written in it.
    pub fn in_any_tx(&self) -> bool {
        self.in_transaction || self.in_explicit_tx
    }

    /// Earlier statements of the same transaction (none outside a transaction).
    pub fn same_tx_earlier(&self) -> &[NodeEnum] {
        if !self.in_any_tx() {
            return &[];
        }
        let end = self.index.min(self.all.len());
        &self.all[self.tx_start.min(end)..end]
    }

    /// The target server is older than `major` (only when a version was declared).
    pub fn pg_below(&self, major: u32) -> bool {
        self.pg_version.is_some_and(|v| v < major)
    }
}

/// The table a statement locks, as the model keys it.
fn locked_table(node: &NodeEnum) -> Option<String> {
    let rv = match node {
        NodeEnum::IndexStmt(s) => s.relation.as_ref(),
        NodeEnum::AlterTableStmt(s) => s.relation.as_ref(),
        NodeEnum::RenameStmt(s) => s.relation.as_ref(),
        NodeEnum::CreateTrigStmt(s) => s.relation.as_ref(),
        NodeEnum::InsertStmt(s) => s.relation.as_ref(),
        NodeEnum::UpdateStmt(s) => s.relation.as_ref(),
        NodeEnum::DeleteStmt(s) => s.relation.as_ref(),
        _ => None,
    }?;
    Some(table_key(rv))
}

/// Size and activity of a table that exists in the database `validate` is connected to.
#[derive(Debug, Clone, Default)]
pub struct LiveTable {
    pub rows: i64,
    pub bytes: i64,
    pub writes_per_sec: f64,
    /// (name, type as format_type prints it, NOT NULL, has a default)
    pub columns: Vec<(String, String, bool, bool)>,
}

/// What the files run against: offline each file is its own deploy (tables from earlier files
/// exist, size unknown); with a database the pending files are one run over the live tables.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// Versions the database has applied (their files already ran).
    pub applied: HashSet<i64>,
    /// Tables that exist in the database, by model key; `None` offline.
    pub live: Option<HashMap<String, LiveTable>>,
}

/// File-wide directives: `-- dbdoctor:include rule, ...` and `-- dbdoctor:pg-version N`.
pub fn file_directives(sql: &str) -> (HashSet<String>, Option<u32>) {
    let mut included = HashSet::new();
    let mut version = None;
    for line in sql.lines() {
        let line = line.trim();
        let Some(comment) = line.strip_prefix("--") else {
            continue;
        };
        let comment = comment.trim();
        if let Some(rest) = comment.strip_prefix("dbdoctor:include") {
            for r in rest.split(|c: char| c == ',' || c.is_whitespace()) {
                if !r.is_empty() {
                    included.insert(r.to_string());
                }
            }
        } else if let Some(rest) = comment.strip_prefix("dbdoctor:pg-version") {
            version = rest.trim().parse().ok();
        }
    }
    // The deprecated alias switches on both timeout rules, as squawk's does.
    if included.contains("require-timeout-settings") {
        included.insert("require-lock-timeout".into());
        included.insert("require-statement-timeout".into());
    }
    (included, version)
}

/// A safety rule.
pub trait Rule: Sync {
    /// Stable name (squawk's where the meaning matches).
    fn name(&self) -> &'static str;
    fn severity(&self) -> Severity {
        Severity::Warning
    }
    /// Why it matters and the safe alternative.
    fn help(&self) -> &'static str;
    /// Messages for this statement (empty when it is fine).
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String>;
    /// Reported as [`Severity::Style`] unless the file asks for the rule with
    /// `-- dbdoctor:include <name>`, which gives it the rule's own severity.
    fn style_unless_included(&self) -> bool {
        false
    }
    /// Runs only when the file asks for it with `-- dbdoctor:include <name>` (squawk's opt-in
    /// rollback-compatibility rules: each flags a change most projects make on purpose).
    fn opt_in(&self) -> bool {
        false
    }
}

/// The severity of a rule's finding in this file.
fn severity_in(rule: &dyn Rule, cx: &FileContext) -> Severity {
    if rule.style_unless_included() && !cx.included.contains(rule.name()) {
        Severity::Style
    } else {
        rule_severity(rule)
    }
}

/// Every rule name `validate` knows, aliases included.
pub fn all_rule_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = rules().iter().map(|r| r.name()).collect();
    v.push(require_timeout_settings::ALIAS);
    v
}

/// Every rule, in a stable order.
pub fn rules() -> Vec<&'static dyn Rule> {
    let mut v: Vec<&'static dyn Rule> = vec![
        &require_concurrent_index_creation::Rule,
        &require_concurrent_index_deletion::Rule,
        &ban_concurrent_index_creation_in_transaction::Rule,
        &no_transaction_single_statement::Rule,
        &adding_required_field::Rule,
        &adding_field_with_default::Rule,
        &changing_column_type::Rule,
        &adding_not_nullable_field::Rule,
        &adding_foreign_key_constraint::Rule,
        &constraint_missing_not_valid::Rule,
        &disallowed_unique_constraint::Rule,
        &adding_serial_primary_key_field::Rule,
        &ban_drop_column::Rule,
        &ban_drop_table::Rule,
        &ban_drop_database::Rule,
        &renaming_column::Rule,
        &renaming_table::Rule,
        &prefer_bigint_over_int::Rule,
        &prefer_identity::Rule,
        &prefer_robust_stmts::Rule,
        &transaction_nesting::Rule,
        &ban_alter_domain_with_add_constraint::Rule,
        &ban_char_field::Rule,
        &ban_create_domain_with_constraint::Rule,
        &ban_drop_not_null::Rule,
        &ban_duplicate_column_assignments::Rule,
        &ban_truncate_cascade::Rule,
        &ban_uncommitted_transaction::Rule,
        &identifier_too_long::Rule,
        &prefer_bigint_over_smallint::Rule,
        &prefer_repack::Rule,
        &prefer_text_field::Rule,
        &prefer_timestamptz::Rule,
        &require_concurrent_partition_detach::Rule,
        &require_concurrent_reindex::Rule,
        &require_enum_value_ordering::Rule,
        &require_lock_timeout::Rule,
        &require_statement_timeout::Rule,
        &require_table_schema::Rule,
        &ban_drop_default::Rule,
        &ban_drop_objects::VIEW,
        &ban_drop_objects::FUNCTION,
        &ban_drop_objects::TYPE,
        &ban_drop_objects::TRIGGER,
        &ban_drop_objects::SCHEMA,
        &ban_drop_objects::SEQUENCE,
        &ban_drop_objects::DOMAIN,
        &ban_drop_objects::EXTENSION,
        &ban_drop_constraint::Rule,
        &ban_drop_generated_expression::Rule,
        &ban_alter_identity::Rule,
        &renaming_object::Rule,
        &ban_set_schema::Rule,
    ];
    // squawk's opt-in rollback-compatibility rules, each family in its own module.
    v.extend(compat_additions::rules());
    v.extend(compat_changes::rules());
    v.extend(compat_options::rules());
    v.extend(compat_security::rules());
    v
}

// ------------------------------------------------------------------ AST helpers for the rules

/// A role as written: its name, or PUBLIC, CURRENT_ROLE, CURRENT_USER, SESSION_USER.
pub fn role_spec(r: &pg_query::protobuf::RoleSpec) -> String {
    use pg_query::protobuf::RoleSpecType as T;
    match T::try_from(r.roletype) {
        Ok(T::RolespecPublic) => "PUBLIC".into(),
        Ok(T::RolespecCurrentRole) => "CURRENT_ROLE".into(),
        Ok(T::RolespecCurrentUser) => "CURRENT_USER".into(),
        Ok(T::RolespecSessionUser) => "SESSION_USER".into(),
        _ => crate::util::quote_ident(&r.rolename),
    }
}

/// "table", "sequence", "materialized view", ... for an object type of the parse tree.
pub fn object_noun(objtype: i32) -> String {
    use pg_query::protobuf::ObjectType;
    match ObjectType::try_from(objtype) {
        Ok(ObjectType::ObjectForeignTable) => "foreign table".into(),
        Ok(ObjectType::ObjectMatview) => "materialized view".into(),
        Ok(k) => format!("{k:?}").trim_start_matches("Object").to_lowercase(),
        Err(_) => "object".into(),
    }
}

/// The ALTER TABLE subcommands of a statement, with their table.
pub fn alter_cmds(stmt: &NodeEnum) -> Vec<(&RangeVar, &AlterTableCmd)> {
    let NodeEnum::AlterTableStmt(s) = stmt else {
        return vec![];
    };
    let Some(rel) = s.relation.as_ref() else {
        return vec![];
    };
    s.cmds
        .iter()
        .filter_map(|c| match c.node.as_ref() {
            Some(NodeEnum::AlterTableCmd(c)) => Some((rel, c.as_ref())),
            _ => None,
        })
        .collect()
}

/// The ALTER TABLE subcommands on tables that existed before this run: a table created earlier
/// in the run has no rows, no readers and no deployed code yet.
pub fn existing_table_cmds<'a>(
    stmt: &'a NodeEnum,
    cx: &FileContext,
) -> Vec<(&'a RangeVar, &'a AlterTableCmd)> {
    alter_cmds(stmt)
        .into_iter()
        .filter(|(rel, _)| !cx.is_new_table(Some(rel)))
        .collect()
}

/// The subcommands of one kind on tables that existed before this run.
pub fn existing_table_cmds_of<'a>(
    stmt: &'a NodeEnum,
    cx: &FileContext,
    kind: AlterTableType,
) -> Vec<(&'a RangeVar, &'a AlterTableCmd)> {
    existing_table_cmds(stmt, cx)
        .into_iter()
        .filter(|(_, c)| subtype(c) == kind)
        .collect()
}

/// The columns `ADD COLUMN` puts on tables that existed before this run.
pub fn columns_added_to_existing<'a>(
    stmt: &'a NodeEnum,
    cx: &FileContext,
) -> Vec<(&'a RangeVar, &'a ColumnDef)> {
    existing_table_cmds(stmt, cx)
        .into_iter()
        .filter_map(|(rel, c)| Some((rel, added_column(c)?)))
        .collect()
}

/// Constraints of one kind added to tables that existed before this run: by `ADD CONSTRAINT`,
/// or inline on an `ADD COLUMN`.
pub fn constraints_added_to_existing<'a>(
    stmt: &'a NodeEnum,
    cx: &FileContext,
    kind: ConstrType,
) -> Vec<(&'a RangeVar, &'a pg_query::protobuf::Constraint)> {
    existing_table_cmds(stmt, cx)
        .into_iter()
        .filter_map(|(rel, c)| {
            let k = added_constraint(c).or_else(|| {
                column_constraints(added_column(c)?)
                    .into_iter()
                    .find(|k| k.contype == kind as i32)
            })?;
            (k.contype == kind as i32).then_some((rel, k))
        })
        .collect()
}

/// `table.column`, the way messages and `undoes` name a column.
pub fn column_path(rel: &RangeVar, column: &str) -> String {
    format!("{}.{column}", rangevar_name(rel))
}

/// The serial pseudo-types: an integer column filled from a sequence the column owns.
pub const SERIAL_TYPES: &[&str] = &[
    "serial",
    "bigserial",
    "smallserial",
    "serial2",
    "serial4",
    "serial8",
];

pub fn subtype(cmd: &AlterTableCmd) -> AlterTableType {
    AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined)
}

/// The column definition of an `ADD COLUMN`.
pub fn added_column(cmd: &AlterTableCmd) -> Option<&ColumnDef> {
    if subtype(cmd) != AlterTableType::AtAddColumn {
        return None;
    }
    match cmd.def.as_ref()?.node.as_ref()? {
        NodeEnum::ColumnDef(c) => Some(c),
        _ => None,
    }
}

/// Column definitions a statement introduces (CREATE TABLE columns and ADD COLUMN).
pub fn column_defs(stmt: &NodeEnum) -> Vec<&ColumnDef> {
    match stmt {
        NodeEnum::CreateStmt(s) => s
            .table_elts
            .iter()
            .filter_map(|e| match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => Some(c.as_ref()),
                _ => None,
            })
            .collect(),
        NodeEnum::AlterTableStmt(_) => alter_cmds(stmt)
            .into_iter()
            .filter_map(|(_, c)| added_column(c))
            .collect(),
        _ => vec![],
    }
}

/// The last part of a column's type name, lowercased (`pg_catalog.int4` -> `int4`).
pub fn type_name(c: &ColumnDef) -> String {
    c.type_name
        .as_ref()
        .and_then(|t| t.names.last())
        .and_then(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.to_lowercase()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Every column type a statement writes: CREATE TABLE columns, ADD COLUMN and ALTER COLUMN TYPE,
/// with the column's name.
pub fn typed_columns(stmt: &NodeEnum) -> Vec<(&str, &pg_query::protobuf::TypeName)> {
    let mut out: Vec<(&str, &pg_query::protobuf::TypeName)> = column_defs(stmt)
        .into_iter()
        .filter_map(|c| Some((c.colname.as_str(), c.type_name.as_ref()?)))
        .collect();
    for (_, cmd) in alter_cmds(stmt) {
        if subtype(cmd) != AlterTableType::AtAlterColumnType {
            continue;
        }
        if let Some(NodeEnum::ColumnDef(c)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
            if let Some(t) = c.type_name.as_ref() {
                out.push((cmd.name.as_str(), t));
            }
        }
    }
    out
}

/// The parts of a type's name, lowercased (`pg_catalog.varchar` -> [`pg_catalog`, `varchar`]).
pub fn type_parts(t: &pg_query::protobuf::TypeName) -> Vec<String> {
    t.names
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.to_lowercase()),
            _ => None,
        })
        .collect()
}

/// A built-in type written by its SQL name: `pg_catalog.x` as the parser produces it for
/// keywords, or the plain name.
pub fn is_builtin_type(t: &pg_query::protobuf::TypeName, names: &[&str]) -> bool {
    let parts = type_parts(t);
    match parts.as_slice() {
        [one] => names.contains(&one.as_str()),
        [schema, one] => schema == "pg_catalog" && names.contains(&one.as_str()),
        _ => false,
    }
}

/// The constraints attached to a column definition.
pub fn column_constraints(c: &ColumnDef) -> Vec<&pg_query::protobuf::Constraint> {
    c.constraints
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
            _ => None,
        })
        .collect()
}

/// The constraint of an `ADD CONSTRAINT`.
pub fn added_constraint(cmd: &AlterTableCmd) -> Option<&pg_query::protobuf::Constraint> {
    if subtype(cmd) != AlterTableType::AtAddConstraint {
        return None;
    }
    match cmd.def.as_ref()?.node.as_ref()? {
        NodeEnum::Constraint(k) => Some(k),
        _ => None,
    }
}

// ------------------------------------------------------------------ running the rules

/// `-- dbdoctor:allow rule-a, rule-b` in the comments before a statement.
pub fn allowed_rules(leading: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for line in leading.lines() {
        if let Some(i) = line.find("dbdoctor:allow") {
            let rest = &line[i + "dbdoctor:allow".len()..];
            let rest = rest.split("*/").next().unwrap_or(rest);
            for r in rest.split(|c: char| c == ',' || c.is_whitespace()) {
                if !r.is_empty() {
                    out.insert(r.to_string());
                }
            }
        }
    }
    out
}

fn parse_stmt(text: &str) -> Option<NodeEnum> {
    let parsed = pg_query::parse(text).ok()?;
    parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.clone()
}

/// Where a parse error is: the first occurrence of the offending token that reproduces the error
/// when the file is cut right after it (libpg_query does not expose the cursor position).
pub fn syntax_error_offset(sql: &str, message: &str) -> usize {
    let end_of_input = sql.trim_end().len();
    if message.contains("at end of input") {
        return end_of_input.saturating_sub(1);
    }
    let near = message
        .split_once("at or near \"")
        .and_then(|(_, rest)| rest.rsplit_once('"'))
        .map(|(tok, _)| tok.to_string());
    if let (Some(near), Ok(scan)) = (near, pg_query::scan(sql)) {
        for t in &scan.tokens {
            let (s, e) = (t.start as usize, t.end as usize);
            if sql.get(s..e).is_some_and(|x| x == near) {
                if let Err(pg_query::Error::Parse(m)) = pg_query::parse(&sql[..e]) {
                    if m == message {
                        return s;
                    }
                }
            }
        }
    }
    // Fall back to the start of the first statement that does not parse.
    split(sql)
        .into_iter()
        .find(|s| pg_query::parse(&s.text).is_err())
        .map(|s| s.offset)
        .unwrap_or(0)
}

/// Tables and columns a file creates (`table`, `table.column`).
pub fn created_objects(sql: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for st in split(sql) {
        let Some(node) = parse_stmt(&st.text) else {
            continue;
        };
        match &node {
            NodeEnum::CreateStmt(s) => {
                if let Some(r) = s.relation.as_ref() {
                    out.insert(rangevar_name(r));
                }
            }
            NodeEnum::AlterTableStmt(_) => {
                for (rel, c) in alter_cmds(&node) {
                    if let Some(col) = added_column(c) {
                        out.insert(column_path(rel, &col.colname));
                    }
                }
            }
            _ => out.extend(ban_drop_objects::created_by(&node)),
        }
    }
    out
}

/// Lint one file: a syntax error alone (as squawk does), else every rule on every statement.
pub fn lint_file(file: &SqlFile, display: &str) -> Vec<Diagnostic> {
    lint_file_undoing(file, display, HashSet::new())
}

/// Lint a down file, knowing what its up file created.
pub fn lint_file_undoing(
    file: &SqlFile,
    display: &str,
    undoes: HashSet<String>,
) -> Vec<Diagnostic> {
    lint_file_with(file, display, undoes, false)
}

/// Lint one file of a layout whose runner may send statements one by one.
pub fn lint_file_with(
    file: &SqlFile,
    display: &str,
    undoes: HashSet<String>,
    statements_separately: bool,
) -> Vec<Diagnostic> {
    let mut schema = Schema::default();
    lint_in(
        file,
        display,
        undoes,
        &mut schema,
        &HashSet::new(),
        None,
        statements_separately,
    )
}

/// The lock note of one pending statement (only when connected to a database).
struct NoteSource<'a> {
    live: &'a HashMap<String, LiveTable>,
}

fn parse_error(file: &SqlFile, display: &str) -> Option<Diagnostic> {
    let e = pg_query::parse(&file.sql).err()?;
    let message = match &e {
        pg_query::Error::Parse(m) => m.clone(),
        other => other.to_string(),
    };
    let (line, column) = line_col(&file.sql, syntax_error_offset(&file.sql, &message));
    Some(Diagnostic {
        file: display.to_string(),
        line,
        column,
        rule: SYNTAX_ERROR.into(),
        lock_queue: None,
        severity: Severity::Error,
        message,
        help: Some("fix the statement; PostgreSQL's own parser rejected it".into()),
    })
}

/// Lint one file over the schema model (which it then updates). `run_new` holds tables that
/// earlier files of the same run created and that are therefore new and empty.
fn lint_in(
    file: &SqlFile,
    display: &str,
    undoes: HashSet<String>,
    schema: &mut Schema,
    run_new: &HashSet<String>,
    notes: Option<NoteSource>,
    statements_separately: bool,
) -> Vec<Diagnostic> {
    if let Some(d) = parse_error(file, display) {
        return vec![d];
    }
    let stmts: Vec<Statement> = split(&file.sql);
    let nodes: Vec<Option<NodeEnum>> = stmts.iter().map(|s| parse_stmt(&s.text)).collect();
    let (included, pg_version) = file_directives(&file.sql);
    let mut cx = FileContext {
        in_transaction: !file.no_tx,
        statements: stmts.len(),
        undoes,
        // A statement that does not parse alone (never, after the whole file parsed) is kept
        // as an empty SELECT so that indexes line up.
        all: nodes
            .iter()
            .map(|n| n.clone().unwrap_or(NodeEnum::SelectStmt(Box::default())))
            .collect(),
        pg_version,
        included,
        statements_separately,
        created_tables: run_new.clone(),
        schema: std::mem::take(schema),
        ..Default::default()
    };
    let rules = rules();
    let mut out = Vec::new();
    for (i, st) in stmts.iter().enumerate() {
        cx.index = i;
        cx.text = st.text.clone();
        cx.line = st.line;
        let Some(node) = nodes[i].clone() else {
            continue;
        };
        let allowed = allowed_rules(&st.leading);
        for &rule in &rules {
            if allowed.contains(rule.name()) {
                continue;
            }
            if rule.opt_in() && !cx.included.contains(rule.name()) {
                continue;
            }
            for message in rule.check(&node, &cx) {
                out.push(Diagnostic {
                    file: display.to_string(),
                    line: st.line,
                    column: st.column,
                    rule: rule.name().into(),
                    lock_queue: None,
                    severity: severity_in(rule, &cx),
                    message,
                    help: Some(rule.help().into()),
                });
            }
        }
        if let Some(n) = &notes {
            out.extend(lock_note(&node, st, display, &cx, n));
        }
        // Locks are held until COMMIT; the strongest one wins.
        if cx.in_any_tx() {
            if let (Some(l), Some(t)) = (statement_lock(&node), locked_table(&node)) {
                let e = cx.held.entry(t).or_insert((l.level, st.line));
                if l.level > e.0 {
                    *e = (l.level, st.line);
                }
            }
        }
        match &node {
            NodeEnum::CreateStmt(s) => {
                if let Some(r) = s.relation.as_ref() {
                    cx.created_tables.insert(rangevar_name(r));
                    cx.created_tables.insert(table_key(r));
                }
            }
            NodeEnum::AlterTableStmt(_) => {
                for (rel, c) in alter_cmds(&node) {
                    if subtype(c) == AlterTableType::AtValidateConstraint {
                        cx.validated_tables.insert(rangevar_name(rel));
                    }
                }
            }
            NodeEnum::TransactionStmt(t) => match transaction_kind(t) {
                TxKind::Begin => {
                    cx.in_explicit_tx = true;
                    cx.tx_start = i + 1;
                }
                TxKind::End => {
                    cx.in_explicit_tx = false;
                    cx.tx_start = i + 1;
                    if !cx.in_transaction {
                        cx.held.clear();
                    }
                }
                TxKind::Other => {}
            },
            _ => {}
        }
        cx.schema.apply(&node, display, st.line);
    }
    cx.schema.end_file();
    *schema = cx.schema;
    out
}

/// How a transaction statement moves the file's own transaction state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    Begin,
    End,
    Other,
}

pub fn transaction_kind(t: &pg_query::protobuf::TransactionStmt) -> TxKind {
    use pg_query::protobuf::TransactionStmtKind as K;
    match K::try_from(t.kind) {
        Ok(K::TransStmtBegin | K::TransStmtStart) => TxKind::Begin,
        Ok(K::TransStmtCommit | K::TransStmtRollback) => TxKind::End,
        _ => TxKind::Other,
    }
}

/// `note[lock]`: the lock a pending statement takes, on what, and what that table is: new in
/// this run, or its live size and write rate; stronger locks held since earlier statements count.
fn lock_note(
    node: &NodeEnum,
    st: &Statement,
    display: &str,
    cx: &FileContext,
    n: &NoteSource,
) -> Option<Diagnostic> {
    let lock = statement_lock(node)?;
    let key = locked_table(node).unwrap_or_else(|| {
        let first = lock.relation.split(", ").next().unwrap_or(&lock.relation);
        first.strip_prefix("public.").unwrap_or(first).to_string()
    });
    let about = if cx.created_tables.contains(&key) {
        match cx.schema.tables.get(&key).and_then(|t| t.created.as_ref()) {
            Some((f, l)) if f == display => format!("new table, created at line {l} of this file"),
            Some((f, l)) => format!("new table, created at {f}:{l} in this run"),
            None => "new table, created in this run".into(),
        }
    } else if let Some(t) = n.live.get(&key) {
        format!(
            "{} rows, {}, {:.1} writes/s",
            t.rows.max(0),
            crate::util::human_bytes(t.bytes),
            t.writes_per_sec
        )
    } else {
        "not in the database".into()
    };
    let head: String = st.text.split_whitespace().collect::<Vec<_>>().join(" ");
    let head = if head.chars().count() > 60 {
        format!("{} ...", head.chars().take(60).collect::<String>())
    } else {
        head
    };
    let mut message = format!(
        "{head} takes {} on {} ({about})",
        lock.level.name(),
        lock.relation
    );
    let mut level = lock.level;
    if let Some((held, line)) = cx.held.get(&key).copied().filter(|(h, _)| *h > lock.level) {
        level = held;
        message.push_str(&format!(
            "; this transaction already holds {} on it since line {line}, until COMMIT",
            held.name()
        ));
    }
    Some(Diagnostic {
        file: display.to_string(),
        line: st.line,
        column: st.column,
        rule: "lock".into(),
        lock_queue: None,
        severity: Severity::Note,
        message,
        help: Some(format!(
            "{}; dbdoctor apply sets lock_timeout first so it waits at most that long",
            level.blocks()
        )),
    })
}

/// Put what the database says about existing tables into the model.
fn overlay_live(schema: &mut Schema, live: &HashMap<String, LiveTable>) {
    for (key, t) in live {
        let entry = schema.tables.entry(key.clone()).or_default();
        entry.created = None;
        entry.columns = t
            .columns
            .iter()
            .map(|(name, ty, not_null, has_default)| {
                (
                    name.clone(),
                    schema::Column {
                        ty: schema::ColType::parse(ty),
                        not_null: *not_null,
                        has_default: *has_default,
                        ..Default::default()
                    },
                )
            })
            .collect();
    }
}

fn file_problems(source: &Source) -> Vec<Diagnostic> {
    source
        .problems
        .iter()
        .map(|p| Diagnostic {
            file: source.dir.join(&p.file).display().to_string(),
            line: 1,
            column: 1,
            rule: FILE_RULE.into(),
            lock_queue: None,
            severity: if p.is_error {
                Severity::Error
            } else {
                Severity::Warning
            },
            message: p.message.clone(),
            help: Some(
                "name files <VERSION>_<description>.up.sql and .down.sql (sqlx's format), one version each"
                    .into(),
            ),
        })
        .collect()
}

/// Lint a whole folder offline: file problems first, then each up and down file in order over
/// the schema the earlier files build.
pub fn lint_source(source: &Source) -> Vec<Diagnostic> {
    lint_source_with(source, false)
}

/// [`lint_source`] for a layout whose runner may send statements one by one.
pub fn lint_source_with(source: &Source, statements_separately: bool) -> Vec<Diagnostic> {
    lint_run(source, &RunContext::default(), statements_separately)
}

/// Lint a whole folder against what it runs on (see [`RunContext`]); with a database, the
/// pending statements also get their lock notes.
pub fn lint_run(source: &Source, run: &RunContext, statements_separately: bool) -> Vec<Diagnostic> {
    let mut out = file_problems(source);
    let mut schema = Schema::default();
    // Tables created by earlier pending files that the database does not have yet.
    let mut run_new: HashSet<String> = HashSet::new();
    let mut overlaid = false;
    for m in &source.migrations {
        let pending = run.live.is_some() && !run.applied.contains(&m.version);
        if pending && !overlaid {
            if let Some(live) = &run.live {
                overlay_live(&mut schema, live);
            }
            overlaid = true;
        }
        let display = m.up.path.display().to_string();
        let notes = match (&run.live, pending) {
            (Some(live), true) => Some(NoteSource { live }),
            _ => None,
        };
        let carried = if pending {
            run_new.clone()
        } else {
            HashSet::new()
        };
        let before: HashSet<String> = schema.tables.keys().cloned().collect();
        out.extend(lint_in(
            &m.up,
            &display,
            HashSet::new(),
            &mut schema,
            &carried,
            notes,
            statements_separately,
        ));
        if pending {
            for (k, t) in &schema.tables {
                let live = run.live.as_ref().is_some_and(|l| l.contains_key(k));
                if t.created.is_some() && !live && !before.contains(k) {
                    run_new.insert(k.clone());
                }
            }
        }
        if let Some(d) = &m.down {
            let created = created_objects(&m.up.sql);
            // The down file runs over what the up file left; it changes nothing for later files.
            let mut snapshot = schema.clone();
            out.extend(lint_in(
                d,
                &d.path.display().to_string(),
                created,
                &mut snapshot,
                &HashSet::new(),
                None,
                statements_separately,
            ));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// (rule, severity) of each finding on a transactional file whose rule name passes `keep`.
    pub fn severities(sql: &str, keep: impl Fn(&str) -> bool) -> Vec<(String, Severity)> {
        let file = SqlFile {
            path: "t.sql".into(),
            name: "t.sql".into(),
            no_tx: false,
            sql: sql.into(),
        };
        lint_file(&file, "t.sql")
            .into_iter()
            .filter(|d| keep(&d.rule))
            .map(|d| (d.rule, d.severity))
            .collect()
    }

    /// Messages of one rule on a snippet (`no_tx` marks the file `-- no-transaction`).
    pub fn run(rule: &dyn Rule, sql: &str, no_tx: bool) -> Vec<String> {
        let text = if no_tx {
            format!("-- no-transaction\n{sql}")
        } else {
            sql.to_string()
        };
        let file = SqlFile {
            path: "t.sql".into(),
            name: "t.sql".into(),
            no_tx,
            sql: text,
        };
        lint_file(&file, "t.sql")
            .into_iter()
            .filter(|d| d.rule == rule.name())
            .map(|d| d.message)
            .collect()
    }

    /// The snippet in a file that switches `rule` on with `-- dbdoctor:include`.
    pub fn included(rule: &dyn Rule, sql: &str) -> String {
        format!("-- dbdoctor:include {}\n{sql}", rule.name())
    }

    /// Findings of a rule on a snippet with the rule included, and without.
    pub fn both(rule: &dyn Rule, sql: &str) -> (usize, usize) {
        (count(rule, &included(rule, sql)), count(rule, sql))
    }

    /// How many findings one rule makes on a snippet of a transactional file.
    pub fn count(rule: &dyn Rule, sql: &str) -> usize {
        run(rule, sql, false).len()
    }

    /// The rule says nothing on a snippet of a transactional file.
    pub fn silent(rule: &dyn Rule, sql: &str) -> bool {
        run(rule, sql, false).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sql: &str) -> SqlFile {
        SqlFile {
            path: "m/1_x.up.sql".into(),
            name: "1_x.up.sql".into(),
            no_tx: sql.starts_with("-- no-transaction"),
            sql: sql.into(),
        }
    }

    #[test]
    fn syntax_error_alone_with_position() {
        let d = lint_file(
            &file("SELECT 1;\nCREATE INDEX idx_broken ON orders (customer_id,);\n"),
            "f.sql",
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].rule, SYNTAX_ERROR);
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!((d[0].line, d[0].column), (2, 48), "{d:?}");
        let d = lint_file(&file("SELECT 1;\nSELEC 2;"), "f.sql");
        assert_eq!((d[0].line, d[0].column), (2, 1), "{d:?}");
        let d = lint_file(&file("SELECT (1"), "f.sql");
        assert_eq!((d[0].line, d[0].column), (1, 9), "{d:?}");
    }

    #[test]
    fn allow_comment_silences_next_statement_only() {
        let sql = "-- dbdoctor:allow ban-drop-column\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b;";
        let d: Vec<Diagnostic> = lint_file(&file(sql), "f.sql")
            .into_iter()
            .filter(|d| d.rule == "ban-drop-column")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, 3);
        assert_eq!(
            allowed_rules("/* dbdoctor:allow a, b */"),
            ["a", "b"].iter().map(|s| s.to_string()).collect()
        );
    }

    #[test]
    fn rule_names_are_unique_and_have_help() {
        let mut names: Vec<&str> = rules().iter().map(|r| r.name()).collect();
        assert!(rules().iter().all(|r| r.help().len() > 20));
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }
}

#[cfg(test)]
mod edge_tests {
    use super::*;

    #[test]
    fn syntax_error_at_end_after_multibyte_text_does_not_panic() {
        let f = SqlFile {
            path: "x.sql".into(),
            name: "x.sql".into(),
            no_tx: false,
            sql: "SELECT (1, 'é'".into(),
        };
        let d = lint_file(&f, "x.sql");
        assert_eq!(d[0].rule, SYNTAX_ERROR);
        assert_eq!(d[0].line, 1);
    }
}
