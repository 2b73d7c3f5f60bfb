-- pg_stat_statements rows, extension version 1.8 (PostgreSQL 13): execution and planning times
-- split, WAL columns.
-- Columns are chosen by the installed extension version, never the server version. Every variant
-- returns the same columns (NULL where this version lacks one). {pgss} is replaced by the
-- schema-qualified, quoted view name. $1: true for every database, false for the current one.
-- dbdoctor's own statements are left out: their text starts with the /* dbdoctor */ tag, or
-- (PostgreSQL 18 drops leading comments from the stored text) carries it after the first keyword.
/* dbdoctor */
SELECT /* dbdoctor */
    s.userid::int8        AS userid,
    s.dbid::int8          AS dbid,
    r.rolname::text       AS role,
    d.datname::text       AS database,
    s.queryid             AS queryid,
    NULL::bool            AS toplevel,
    s.query               AS query,
    s.calls               AS calls,
    s.total_exec_time     AS total_exec_time,
    s.min_exec_time       AS min_exec_time,
    s.max_exec_time       AS max_exec_time,
    s.mean_exec_time      AS mean_exec_time,
    s.stddev_exec_time    AS stddev_exec_time,
    s.plans               AS plans,
    s.total_plan_time     AS total_plan_time,
    s.rows                AS rows,
    s.shared_blks_hit     AS shared_blks_hit,
    s.shared_blks_read    AS shared_blks_read,
    s.shared_blks_dirtied AS shared_blks_dirtied,
    s.shared_blks_written AS shared_blks_written,
    s.local_blks_hit      AS local_blks_hit,
    s.local_blks_read     AS local_blks_read,
    s.local_blks_dirtied  AS local_blks_dirtied,
    s.local_blks_written  AS local_blks_written,
    s.temp_blks_read      AS temp_blks_read,
    s.temp_blks_written   AS temp_blks_written,
    s.blk_read_time       AS shared_blk_read_time,
    s.blk_write_time      AS shared_blk_write_time,
    NULL::float8          AS local_blk_read_time,
    NULL::float8          AS local_blk_write_time,
    NULL::float8          AS temp_blk_read_time,
    NULL::float8          AS temp_blk_write_time,
    s.wal_records         AS wal_records,
    s.wal_fpi             AS wal_fpi,
    s.wal_bytes::int8     AS wal_bytes,
    NULL::int8            AS jit_functions,
    NULL::float8          AS jit_time,
    NULL::timestamptz     AS stats_since,
    NULL::timestamptz     AS minmax_stats_since
FROM {pgss} s
LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
WHERE ($1::bool OR s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
  AND COALESCE(s.query, '') !~ '^\s*(--[^\n]*\n\s*)*([A-Za-z]+\s+)?/\* dbdoctor \*/'
