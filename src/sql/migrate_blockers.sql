-- Sessions holding a granted lock on a relation (who blocks a migration statement). Any version.
-- $1: relation name as written in the statement.
/* dbdoctor */
SELECT /* dbdoctor */ a.pid,
       coalesce(a.application_name, '') AS application_name,
       coalesce(a.state, '') AS state,
       left(coalesce(a.query, ''), 120) AS query,
       l.mode
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted
  AND l.relation = to_regclass($1)
  AND l.pid <> pg_backend_pid()
ORDER BY a.pid
