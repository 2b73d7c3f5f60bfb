-- Health checks: columns of type json in user tables (jsonb is smaller to query, indexable
-- with GIN and compares by value). Partitions are left out: they repeat their parent's columns.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text                                     AS schema,
       t.relname::text                                     AS table_name,
       a.attname::text                                     AS column_name
FROM pg_attribute a
JOIN pg_class t ON t.oid = a.attrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE a.atttypid = 'json'::regtype
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND t.relkind IN ('r', 'p')
  AND NOT t.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, t.relname, a.attnum
