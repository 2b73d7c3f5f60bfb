-- Health checks: CHECK and FOREIGN KEY constraints added NOT VALID and never validated (rows
-- written before the constraint was added were never checked against it).
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text                                     AS schema,
       t.relname::text                                     AS table_name,
       con.conname::text                                   AS name,
       con.contype::text                                   AS kind,
       pg_get_constraintdef(con.oid)                       AS definition
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE NOT con.convalidated
  AND con.contype IN ('c', 'f')
  AND con.conparentid = 0
  AND t.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, t.relname, con.conname
