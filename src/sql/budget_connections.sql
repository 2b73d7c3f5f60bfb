-- Connections in use against max_connections, for the `connections_max_pct` budget.
-- Counts client backends only (not autovacuum, WAL senders or background workers).
-- Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::bigint AS used,
       current_setting('max_connections')::bigint                                             AS max_connections
