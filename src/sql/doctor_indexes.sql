-- Doctor: indexes of user tables with their definition parts (method, key columns, operator
-- classes, collations, options, expressions, predicate), the constraint they back, size, scan
-- and cache counters. Catalog data, not indexdef parsing, decides duplicates and coverage.
-- The *vector columns go through text: cast directly they keep a lower bound of 0.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ i.indexrelid::int8                                  AS oid,
       i.indrelid::int8                                    AS table_oid,
       n.nspname::text                                     AS schema,
       t.relname::text                                     AS table_name,
       c.relname::text                                     AS name,
       am.amname::text                                     AS method,
       i.indisunique                                       AS is_unique,
       i.indisprimary                                      AS is_primary,
       i.indisexclusion                                    AS is_exclusion,
       i.indisvalid                                        AS is_valid,
       i.indisready                                        AS is_ready,
       i.indnkeyatts::int4                                 AS key_count,
       string_to_array(i.indkey::text, ' ')::int2[]       AS attnums,
       ARRAY(SELECT a.attname::text
               FROM unnest(string_to_array(i.indkey::text, ' ')::int2[]) WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS columns,
       ARRAY(SELECT COALESCE(a.attnotnull, false)
               FROM unnest(string_to_array(i.indkey::text, ' ')::int2[]) WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS not_null,
       string_to_array(i.indclass::text, ' ')::int8[]     AS opclasses,
       string_to_array(i.indcollation::text, ' ')::int8[] AS collations,
       string_to_array(i.indoption::text, ' ')::int2[]    AS options,
       pg_get_expr(i.indexprs, i.indrelid)                 AS expressions,
       pg_get_expr(i.indpred, i.indrelid)                  AS predicate,
       pg_get_indexdef(i.indexrelid)                       AS definition,
       con.conname::text                                   AS constraint_name,
       con.contype::text                                   AS constraint_type,
       EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS attached_to_parent,
       t.relkind = 'p'                                     AS on_partitioned_table,
       CASE WHEN c.relkind = 'I' THEN 0::int8 ELSE pg_relation_size(i.indexrelid) END AS bytes,
       c.reltuples::float8                                 AS reltuples,
       c.relpages::int8                                    AS relpages,
       COALESCE(c.reloptions, '{}'::text[])                AS reloptions,
       pg_stat_get_numscans(i.indexrelid)                  AS idx_scan,
       pg_stat_get_tuples_returned(i.indexrelid)           AS idx_tup_read,
       pg_stat_get_tuples_fetched(i.indexrelid)            AS idx_tup_fetch,
       pg_stat_get_blocks_hit(i.indexrelid)                AS idx_blks_hit,
       pg_stat_get_blocks_fetched(i.indexrelid) - pg_stat_get_blocks_hit(i.indexrelid) AS idx_blks_read
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = c.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                           AND con.contype IN ('p', 'u', 'x')
WHERE t.relkind IN ('r', 'p', 'm')
  AND t.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.relname, c.relname
