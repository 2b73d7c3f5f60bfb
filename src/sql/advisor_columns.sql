-- Index advisor: every column of the given tables with its type, whether the type has a default
-- btree operator class, and its planner statistics (pg_stats). $1: table oids.
-- Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ a.attrelid::int8                               AS table_oid,
       a.attname::text                                AS name,
       format_type(a.atttypid, a.atttypmod)           AS type_name,
       EXISTS (
           SELECT 1
           FROM pg_opclass oc
           JOIN pg_am am ON am.oid = oc.opcmethod
           WHERE am.amname = 'btree' AND oc.opcdefault
             AND (oc.opcintype = a.atttypid
                  OR oc.opcintype = t.typbasetype
                  OR (oc.opcintype = 'anyarray'::regtype AND t.typcategory = 'A')
                  OR (oc.opcintype = 'anyenum'::regtype AND t.typtype = 'e')
                  OR EXISTS (SELECT 1 FROM pg_cast k
                             WHERE k.castsource = a.atttypid AND k.casttarget = oc.opcintype
                               AND k.castmethod = 'b'))
       )                                              AS btree,
       st.null_frac::float8                           AS null_frac,
       st.n_distinct::float8                          AS n_distinct,
       (SELECT max(f) FROM unnest(st.most_common_freqs) AS f)::float8 AS max_mcv_freq
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT s.null_frac, s.n_distinct, s.most_common_freqs
    FROM pg_stats s
    WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
    ORDER BY s.inherited
    LIMIT 1
) st ON true
WHERE a.attrelid = ANY($1::int8[]::oid[])
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
