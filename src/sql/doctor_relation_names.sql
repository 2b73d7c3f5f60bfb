-- Doctor: the name of every relation (table, index, sequence, view, ...) in the user schemas,
-- so that the names of indexes doctor proposes never collide with an existing one.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text AS schema,
       c.relname::text  AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY 1, 2
