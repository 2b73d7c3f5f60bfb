-- Health checks: relations, functions and constraints whose name is max_identifier_length
-- bytes long (63 unless the server was built otherwise). PostgreSQL cuts longer names to that
-- length without an error, so such a name may not be the one that was written, and two long
-- names that start alike may have become one.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
WITH /* dbdoctor */ lim AS (
    SELECT current_setting('max_identifier_length')::int AS max_length
), nsp AS (
    SELECT n.oid, n.nspname::text AS schema
    FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND n.nspname !~ '^pg_temp_'
      AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
)
SELECT nsp.schema,
       c.relname::text                                     AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'p' THEN 'partitioned table' ELSE 'partitioned index' END AS kind,
       NULL::text                                          AS table_name,
       lim.max_length
FROM pg_class c
JOIN nsp ON nsp.oid = c.relnamespace
CROSS JOIN lim
WHERE c.relkind IN ('r', 'i', 'S', 'v', 'm', 'p', 'I')
  AND octet_length(c.relname::text) = lim.max_length
UNION ALL
SELECT nsp.schema, p.proname::text, 'function', NULL, lim.max_length
FROM pg_proc p
JOIN nsp ON nsp.oid = p.pronamespace
CROSS JOIN lim
WHERE octet_length(p.proname::text) = lim.max_length
UNION ALL
SELECT nsp.schema, k.conname::text, 'constraint', t.relname::text, lim.max_length
FROM pg_constraint k
JOIN nsp ON nsp.oid = k.connamespace
LEFT JOIN pg_class t ON t.oid = k.conrelid
CROSS JOIN lim
WHERE k.conparentid = 0
  AND k.coninhcount = 0
  AND octet_length(k.conname::text) = lim.max_length
ORDER BY 1, 3, 2
