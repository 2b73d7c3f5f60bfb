-- Doctor: indexes of user tables with their definition parts (method, key columns, operator
-- classes, collations, options, expressions, predicate), the constraint they back, size, scan
-- and cache counters, and the key columns' facts the health checks read (type, type category,
-- NOT NULL, default operator class and its input type; for partial indexes the table's NOT NULL
-- columns). Catalog data, not indexdef parsing, decides duplicates and coverage.
-- Cheap on 30,000+ indexes:
-- - column facts come from one join of every index key with pg_attribute, grouped by index,
--   not from a subquery per index and fact;
-- - sizes come from relpages (as of the last VACUUM/ANALYZE/CREATE INDEX), no size function;
--   the largest indexes get exact sizes afterwards (doctor_index_sizes.sql);
-- - the definition of a plain index (columns only, default operator classes and collations,
--   ascending, no INCLUDE, options or predicate, not unique unless a primary key) is spelled
--   here as pg_get_indexdef spells it; every other index gets pg_get_indexdef itself.
-- The *vector columns go through text: cast directly they keep a lower bound of 0.
-- No ORDER BY: rows are sorted by the caller (schema, table, index name).
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
WITH /* dbdoctor */ ix AS (
    SELECT i.indexrelid, i.indrelid, i.indnkeyatts, i.indnatts, i.indkey, i.indclass,
           i.indcollation, i.indoption, i.indexprs, i.indpred, i.indisunique, i.indisprimary,
           i.indisexclusion, i.indisvalid, i.indisready,
           n.nspname, t.relname AS table_name, t.relkind AS table_kind
    FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE t.relkind IN ('r', 'p', 'm')
      AND t.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND n.nspname !~ '^pg_temp_'
      AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = t.oid
                         AND d.deptype = 'e')
), keys AS (
    SELECT ix.indexrelid,
           array_agg(a.attname::text ORDER BY k.ord)                          AS columns,
           array_agg(COALESCE(a.attnotnull, false) ORDER BY k.ord)            AS not_null,
           array_agg(COALESCE(format_type(a.atttypid, a.atttypmod), '') ORDER BY k.ord)
               FILTER (WHERE k.ord <= ix.indnkeyatts)                          AS key_types,
           array_agg(COALESCE(ty.typcategory::text, '') ORDER BY k.ord)
               FILTER (WHERE k.ord <= ix.indnkeyatts)                          AS key_categories,
           array_agg(COALESCE(opc.opcdefault, false) ORDER BY k.ord)
               FILTER (WHERE k.ord <= ix.indnkeyatts)                          AS key_default_opclass,
           array_agg(COALESCE(format_type(opc.opcintype, NULL), '') ORDER BY k.ord)
               FILTER (WHERE k.ord <= ix.indnkeyatts)                          AS key_opclass_types,
           -- Plain: every key a column, default opclass of that very type, the column's own
           -- collation, ascending, a name quote_ident leaves alone.
           bool_and(k.attnum > 0 AND k.ord <= ix.indnkeyatts
                    AND opc.opcdefault AND opc.opcintype = a.atttypid
                    AND (ix.indcollation[k.ord - 1] = 0
                         OR ix.indcollation[k.ord - 1] = a.attcollation)
                    AND ix.indoption[k.ord - 1] = 0)                           AS plain_keys,
           string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)             AS column_list
    FROM ix
    CROSS JOIN unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
    LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
    LEFT JOIN pg_type ty ON ty.oid = a.atttypid
    LEFT JOIN pg_opclass opc ON opc.oid = ix.indclass[k.ord - 1]
    GROUP BY ix.indexrelid
)
SELECT i.indexrelid::int8                                  AS oid,
       i.indrelid::int8                                    AS table_oid,
       i.nspname::text                                     AS schema,
       i.table_name::text                                  AS table_name,
       c.relname::text                                     AS name,
       am.amname::text                                     AS method,
       i.indisunique                                       AS is_unique,
       i.indisprimary                                      AS is_primary,
       i.indisexclusion                                    AS is_exclusion,
       i.indisvalid                                        AS is_valid,
       i.indisready                                        AS is_ready,
       i.indnkeyatts::int4                                 AS key_count,
       string_to_array(i.indkey::text, ' ')::int2[]       AS attnums,
       COALESCE(k.columns, '{}')                           AS columns,
       COALESCE(k.not_null, '{}')                          AS not_null,
       string_to_array(i.indclass::text, ' ')::int8[]     AS opclasses,
       string_to_array(i.indcollation::text, ' ')::int8[] AS collations,
       string_to_array(i.indoption::text, ' ')::int2[]    AS options,
       pg_get_expr(i.indexprs, i.indrelid)                 AS expressions,
       pg_get_expr(i.indpred, i.indrelid)                  AS predicate,
       CASE WHEN k.plain_keys AND i.indexprs IS NULL AND i.indpred IS NULL
                 AND i.indnatts = i.indnkeyatts AND c.reloptions IS NULL
                 AND (NOT i.indisunique OR i.indisprimary) AND NOT i.indisexclusion
            THEN 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END
                 || 'INDEX ' || quote_ident(c.relname) || ' ON '
                 || CASE WHEN i.table_kind = 'p' THEN 'ONLY ' ELSE '' END
                 || quote_ident(i.nspname) || '.' || quote_ident(i.table_name)
                 || ' USING ' || quote_ident(am.amname) || ' (' || k.column_list || ')'
            ELSE pg_get_indexdef(i.indexrelid)
       END                                                 AS definition,
       con.conname::text                                   AS constraint_name,
       con.contype::text                                   AS constraint_type,
       c.relispartition                                    AS attached_to_parent,
       i.table_kind = 'p'                                  AS on_partitioned_table,
       CASE WHEN c.relkind = 'I' THEN 0::int8
            ELSE c.relpages::int8 * current_setting('block_size')::int8 END AS bytes,
       c.reltuples::float8                                 AS reltuples,
       c.relpages::int8                                    AS relpages,
       COALESCE(c.reloptions, '{}'::text[])                AS reloptions,
       pg_stat_get_numscans(i.indexrelid)                  AS idx_scan,
       pg_stat_get_tuples_returned(i.indexrelid)           AS idx_tup_read,
       pg_stat_get_tuples_fetched(i.indexrelid)            AS idx_tup_fetch,
       pg_stat_get_blocks_hit(i.indexrelid)                AS idx_blks_hit,
       pg_stat_get_blocks_fetched(i.indexrelid) - pg_stat_get_blocks_hit(i.indexrelid) AS idx_blks_read,
       COALESCE(k.key_types, '{}')                         AS key_types,
       COALESCE(k.key_categories, '{}')                    AS key_categories,
       COALESCE(k.not_null[1:i.indnkeyatts], '{}')         AS key_not_null,
       COALESCE(k.key_default_opclass, '{}')               AS key_default_opclass,
       COALESCE(k.key_opclass_types, '{}')                 AS key_opclass_types,
       CASE WHEN i.indpred IS NOT NULL THEN
            ARRAY(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND a.attnotnull
                     AND NOT a.attisdropped ORDER BY a.attnum)
       END                                                 AS table_not_null_columns
FROM ix i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam
LEFT JOIN keys k ON k.indexrelid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                           AND con.contype IN ('p', 'u', 'x')
