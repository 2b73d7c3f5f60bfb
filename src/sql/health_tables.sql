-- Health checks: the shape of each user table (ordinary or partitioned, not a partition) that
-- a table check reports: zero or one column, every column outside the primary key nullable, a
-- primary key that does not start at the first column, table inheritance, no foreign key in
-- or out, incrementing column names (phone1, phone2), and no data as of the last
-- VACUUM/ANALYZE (all partitions counted for a partitioned table). Other tables are left out.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
WITH /* dbdoctor */ t AS (
    SELECT c.oid, n.nspname::text AS schema, c.relname::text AS table_name, c.relkind,
           c.relpages, c.reltuples
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND n.nspname !~ '^pg_temp_'
      AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
), pk AS (
    SELECT p.conrelid, p.conkey
    FROM pg_constraint p
    JOIN t ON t.oid = p.conrelid
    WHERE p.contype = 'p'
), ta AS MATERIALIZED (
    -- The tables' live columns, read once for the two CTEs below.
    SELECT a.attrelid, a.attname, a.attnum, a.attnotnull
    FROM t
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
), cols AS (
    SELECT a.attrelid,
           count(*)                                                        AS column_count,
           count(*) FILTER (WHERE pk.conkey IS NULL OR a.attnum <> ALL (pk.conkey))
                                                                           AS non_pk_count,
           bool_and(NOT a.attnotnull OR a.attnum = ANY (COALESCE(pk.conkey, '{}')))
                                                                           AS all_non_pk_nullable,
           (array_agg(a.attname::text ORDER BY a.attnum))[1]               AS first_column,
           COALESCE(array_agg(a.attname::text ORDER BY a.attnum)
                        FILTER (WHERE a.attnum = ANY (pk.conkey)), '{}')   AS pk_columns,
           pk.conkey IS NOT NULL                                           AS has_pk,
           min(a.attnum) = ANY (COALESCE(pk.conkey, '{}'))                 AS pk_first
    FROM ta a
    LEFT JOIN pk ON pk.conrelid = a.attrelid
    GROUP BY a.attrelid, pk.conkey
), numbered AS (
    SELECT a.attrelid, a.attname::text AS attname, a.attnum,
           count(*) OVER (PARTITION BY a.attrelid, regexp_replace(a.attname, '\d+$', '')) AS alike
    FROM ta a
    WHERE a.attname ~ '^\D+\d+$'
), incrementing AS (
    SELECT attrelid, array_agg(attname ORDER BY attnum) AS columns
    FROM numbered
    WHERE alike >= 2
    GROUP BY attrelid
), linked AS (
    SELECT conrelid AS oid FROM pg_constraint WHERE contype = 'f'
    UNION
    SELECT confrelid FROM pg_constraint WHERE contype = 'f'
), partition_data AS (
    -- Whether any leaf partition holds data, per partitioned table at the top of its tree (a
    -- join, not a subquery per table: that costs a second on 10,000 tables).
    SELECT pg_partition_root(c.oid) AS oid,
           bool_or(c.relpages > 0 OR c.reltuples <> 0) AS has_data
    FROM pg_class c
    WHERE c.relispartition AND c.relkind = 'r'
    GROUP BY 1
), facts AS (
    SELECT t.schema,
           t.table_name,
           COALESCE(c.column_count, 0)                                     AS column_count,
           COALESCE(c.non_pk_count, 0)                                     AS non_pk_count,
           COALESCE(c.all_non_pk_nullable, false) AND COALESCE(c.non_pk_count, 0) > 0
                                                                           AS all_non_pk_nullable,
           COALESCE(c.has_pk AND NOT c.pk_first, false)                    AS pk_not_first,
           c.first_column,
           COALESCE(c.pk_columns, '{}')                                    AS pk_columns,
           (SELECT i.inhparent::regclass::text FROM pg_inherits i
             WHERE i.inhrelid = t.oid AND t.relkind = 'r' ORDER BY i.inhseqno LIMIT 1)
                                                                           AS inherits_from,
           t.oid NOT IN (SELECT oid FROM linked)                           AS not_linked,
           COALESCE(inc.columns, '{}')                                     AS incrementing_columns,
           CASE WHEN t.relkind = 'p' THEN NOT COALESCE(pd.has_data, false)
           ELSE t.relpages = 0 AND t.reltuples = 0 END                     AS no_data
    FROM t
    LEFT JOIN cols c ON c.attrelid = t.oid
    LEFT JOIN incrementing inc ON inc.attrelid = t.oid
    LEFT JOIN partition_data pd ON pd.oid = t.oid
)
SELECT *
FROM facts
WHERE column_count <= 1
   OR all_non_pk_nullable
   OR pk_not_first
   OR inherits_from IS NOT NULL
   OR not_linked
   OR cardinality(incrementing_columns) > 0
   OR no_data
ORDER BY schema, table_name
