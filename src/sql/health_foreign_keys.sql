-- Health checks: foreign keys of user tables with both sides' columns and column types (in key
-- order), the referenced table's oid and the constraint's definition; duplicated, intersected
-- and type-mismatched foreign keys are judged from these, and with the referencing columns'
-- NOT NULL flags, MATCH FULL and the ON DELETE action, nullable composite and self-referencing
-- ones.
-- Partition-level copies of a partitioned table's key (conparentid <> 0) are left out.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ con.oid::int8                                       AS oid,
       con.conrelid::int8                                  AS table_oid,
       n.nspname::text                                     AS schema,
       t.relname::text                                     AS table_name,
       con.conname::text                                   AS name,
       con.confrelid::int8                                 AS ref_table_oid,
       rn.nspname::text                                    AS ref_schema,
       r.relname::text                                     AS ref_table,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS columns,
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod)
               FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS column_types,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS ref_columns,
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod)
               FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS ref_column_types,
       ARRAY(SELECT a.attnotnull
               FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS column_not_null,
       con.confmatchtype = 'f'                             AS match_full,
       con.confdeltype::text                               AS on_delete,
       con.convalidated                                    AS validated,
       pg_get_constraintdef(con.oid)                       AS definition
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class r ON r.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE con.contype = 'f'
  AND con.conparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, t.relname, con.conname
