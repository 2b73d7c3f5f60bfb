-- Index advisor: the existing indexes of the given tables with their key columns in order (an
-- empty string stands for an expression). $1: table oids. Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ i.indrelid::int8                      AS table_oid,
       ci.relname::text                      AS name,
       am.amname::text                       AS am,
       i.indisvalid                          AS valid,
       (i.indpred IS NOT NULL)               AS partial,
       i.indisunique                         AS is_unique,
       i.indisprimary                        AS is_primary,
       ARRAY(
           SELECT coalesce(a.attname::text, '')
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                   AND k.attnum > 0
           WHERE k.ord <= i.indnkeyatts
           ORDER BY k.ord
       )                                     AS columns,
       pg_get_indexdef(i.indexrelid)         AS definition
FROM pg_index i
JOIN pg_class ci ON ci.oid = i.indexrelid
JOIN pg_am am ON am.oid = ci.relam
WHERE i.indrelid = ANY($1::int8[]::oid[])
ORDER BY i.indrelid, ci.relname
