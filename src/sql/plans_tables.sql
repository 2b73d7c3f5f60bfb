-- Plans: the tables the collected plans read, with the rows modified since their last ANALYZE
-- and their analyze threshold (per-table autovacuum settings first, then the server's).
-- $1: schema names, $2: table names (same length). Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text                                   AS schema,
       c.relname::text                                                  AS name,
       c.reltuples::float8                                              AS reltuples,
       coalesce(s.n_mod_since_analyze, 0)::int8                         AS n_mod_since_analyze,
       (coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) o
                   WHERE o.option_name = 'autovacuum_analyze_threshold'),
                 current_setting('autovacuum_analyze_threshold'))::float8
        + coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) o
                    WHERE o.option_name = 'autovacuum_analyze_scale_factor'),
                   current_setting('autovacuum_analyze_scale_factor'))::float8
          * greatest(c.reltuples, 0))::float8                           AS analyze_threshold,
       greatest(s.last_analyze, s.last_autoanalyze)                     AS last_analyze
FROM unnest($1::text[], $2::text[]) AS r(schema_name, table_name)
JOIN pg_namespace n ON n.nspname = r.schema_name
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = r.table_name
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
ORDER BY 1, 2
