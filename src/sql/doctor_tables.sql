-- Doctor: user tables (ordinary, partitioned, materialized views) with row estimates, sizes,
-- scan/tuple/vacuum counters, cache counters, autovacuum reloptions and freeze ages.
-- Counters are read with the pg_stat_get_* functions directly (what pg_stat_user_tables does,
-- without joining two views); the table's index scans are summed from the index query instead.
-- Sizes come from relpages (as of the last VACUUM/ANALYZE): no size function runs here, so the
-- query takes no lock and stays cheap on 10,000 tables. Exact sizes are read afterwards for the
-- tables the report lists (doctor_table_sizes.sql).
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ c.oid::int8                                         AS oid,
       n.nspname::text                                     AS schema,
       c.relname::text                                     AS name,
       c.relkind::text                                     AS kind,
       c.relispartition                                    AS is_partition,
       c.reltuples::float8                                 AS reltuples,
       c.relpages::int8                                    AS relpages,
       (SELECT count(*) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::int4 AS ncolumns,
       ((c.relpages::int8 + COALESCE(t.relpages, 0)::int8)
         * current_setting('block_size')::int8)            AS table_bytes,
       (COALESCE(t.relpages, 0)::int8 * current_setting('block_size')::int8) AS toast_bytes,
       COALESCE(c.reloptions, '{}'::text[])                AS reloptions,
       pg_stat_get_numscans(c.oid)                         AS seq_scan,
       pg_stat_get_tuples_returned(c.oid)                  AS seq_tup_read,
       pg_stat_get_tuples_inserted(c.oid)                  AS n_tup_ins,
       pg_stat_get_tuples_updated(c.oid)                   AS n_tup_upd,
       pg_stat_get_tuples_deleted(c.oid)                   AS n_tup_del,
       pg_stat_get_tuples_hot_updated(c.oid)               AS n_tup_hot_upd,
       pg_stat_get_live_tuples(c.oid)                      AS n_live_tup,
       pg_stat_get_dead_tuples(c.oid)                      AS n_dead_tup,
       pg_stat_get_mod_since_analyze(c.oid)                AS n_mod_since_analyze,
       pg_stat_get_ins_since_vacuum(c.oid)                 AS n_ins_since_vacuum,
       pg_stat_get_last_vacuum_time(c.oid)                 AS last_vacuum,
       pg_stat_get_last_autovacuum_time(c.oid)             AS last_autovacuum,
       pg_stat_get_last_analyze_time(c.oid)                AS last_analyze,
       pg_stat_get_last_autoanalyze_time(c.oid)            AS last_autoanalyze,
       pg_stat_get_vacuum_count(c.oid)                     AS vacuum_count,
       pg_stat_get_autovacuum_count(c.oid)                 AS autovacuum_count,
       pg_stat_get_blocks_hit(c.oid)                       AS heap_blks_hit,
       pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid) AS heap_blks_read,
       CASE WHEN c.relkind = 'p' THEN NULL
            ELSE greatest(age(c.relfrozenxid), age(t.relfrozenxid))::int8 END AS xid_age,
       CASE WHEN c.relkind = 'p' THEN NULL
            ELSE greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid))::int8 END AS mxid_age
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
WHERE c.relkind IN ('r', 'p', 'm')
  AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
