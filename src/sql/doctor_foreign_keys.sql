-- Doctor: foreign keys of user tables (partition-level copies of a partitioned table's key,
-- conparentid <> 0, left out) with both sides' columns and column types in key order, the
-- referencing columns' attribute numbers and NOT NULL flags, the referenced table, MATCH FULL,
-- the ON DELETE action and the definition. fk_without_index reads the referencing side; the
-- health checks judge duplicated, intersected, type-mismatched, nullable composite and
-- self-referencing keys from the rest.
-- Both sides' columns come from one join of every key position with pg_attribute, grouped by
-- constraint, not from a subquery per constraint and fact. No ORDER BY: the caller sorts.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
WITH /* dbdoctor */ fk AS (
    SELECT con.oid, con.conrelid, con.confrelid, con.conname, con.conkey, con.confkey,
           con.confmatchtype, con.confdeltype, con.convalidated,
           n.nspname, t.relname
    FROM pg_constraint con
    JOIN pg_class t ON t.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE con.contype = 'f'
      AND con.conparentid = 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND n.nspname !~ '^pg_temp_'
      AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
), sides AS (
    SELECT fk.oid,
           array_agg(a.attname::text ORDER BY k.ord)                         AS columns,
           array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord)   AS column_types,
           array_agg(a.attnotnull ORDER BY k.ord)                           AS column_not_null,
           array_agg(r.attname::text ORDER BY k.ord)                        AS ref_columns,
           array_agg(format_type(r.atttypid, r.atttypmod) ORDER BY k.ord)   AS ref_column_types
    FROM fk
    CROSS JOIN unnest(fk.conkey, fk.confkey) WITH ORDINALITY k(attnum, refnum, ord)
    JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum
    JOIN pg_attribute r ON r.attrelid = fk.confrelid AND r.attnum = k.refnum
    GROUP BY fk.oid
)
SELECT fk.oid::int8                                        AS oid,
       fk.conrelid::int8                                   AS table_oid,
       fk.nspname::text                                    AS schema,
       fk.relname::text                                    AS table_name,
       fk.conname::text                                    AS name,
       fk.conkey                                           AS attnums,
       fk.confrelid::int8                                  AS ref_table_oid,
       rn.nspname::text                                    AS ref_schema,
       rt.relname::text                                    AS ref_table,
       s.columns, s.column_types, s.ref_columns, s.ref_column_types, s.column_not_null,
       fk.confmatchtype = 'f'                              AS match_full,
       fk.confdeltype::text                                AS on_delete,
       fk.convalidated                                     AS validated,
       pg_get_constraintdef(fk.oid)                        AS definition
FROM fk
JOIN sides s ON s.oid = fk.oid
JOIN pg_class rt ON rt.oid = fk.confrelid
JOIN pg_namespace rn ON rn.oid = rt.relnamespace
