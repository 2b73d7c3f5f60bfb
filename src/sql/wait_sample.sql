-- One sample of the sessions that are running a statement, for the wait profile of
-- `doctor --window`: what each waits on (none: on CPU) and which statement it runs.
-- Sessions of the current database only, dbdoctor's own left out; at most $1 rows. PostgreSQL 14+ (query_id).
SELECT a.wait_event_type::text AS wait_event_type,
       a.wait_event::text AS wait_event,
       a.query_id::int8 AS queryid,
       left(a.query, 1000) AS query
FROM pg_stat_activity a
WHERE a.state = 'active'
  AND a.datname = current_database()
  AND a.pid <> pg_backend_pid()
  AND a.application_name IS DISTINCT FROM 'dbdoctor'
LIMIT $1
