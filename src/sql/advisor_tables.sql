-- Index advisor: resolve the tables statements name (through this session's search_path) and read
-- their size, row estimate and write counts. $1: schema names ('' = unqualified), $2: table
-- names, as written in the statements. Minimum version: PostgreSQL 13.
/* dbdoctor */
WITH /* dbdoctor */ wanted AS (
    SELECT w.schema_name, w.table_name,
           CASE WHEN w.schema_name = '' THEN to_regclass(quote_ident(w.table_name))
                ELSE to_regclass(quote_ident(w.schema_name) || '.' || quote_ident(w.table_name))
           END AS oid
    FROM unnest($1::text[], $2::text[]) AS w(schema_name, table_name)
), window_start AS (
    SELECT coalesce((SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
                    pg_postmaster_start_time()) AS since
)
SELECT w.schema_name                                   AS wanted_schema,
       w.table_name                                    AS wanted_name,
       c.oid::int8                                     AS oid,
       n.nspname::text                                 AS schema,
       c.relname::text                                 AS name,
       c.relkind::text                                 AS relkind,
       CASE WHEN c.reltuples < 0 THEN coalesce(s.n_live_tup, 0)::float8
            ELSE c.reltuples::float8 END               AS rows,
       pg_total_relation_size(c.oid)::int8             AS total_bytes,
       (coalesce(s.n_tup_ins, 0) + coalesce(s.n_tup_upd, 0) + coalesce(s.n_tup_del, 0))::int8
                                                       AS writes,
       extract(epoch FROM now() - ws.since)::float8    AS window_seconds,
       (c.reltuples >= 0 OR s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL)
                                                       AS analyzed
FROM wanted w
JOIN pg_class c ON c.oid = w.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
CROSS JOIN window_start ws
