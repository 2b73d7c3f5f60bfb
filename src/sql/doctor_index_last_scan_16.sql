-- Doctor: time of the last scan of each index (pg_stat_get_lastscan).
-- Minimum version: PostgreSQL 16 (the function does not exist before). Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ i.indexrelid::int8                   AS oid,
       pg_stat_get_lastscan(i.indexrelid)   AS last_idx_scan
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
