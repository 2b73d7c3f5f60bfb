-- Doctor: client sessions of the whole server (ours excluded) with state, ages, wait, the lock
-- a waiting session wants (any lock type) and the sessions blocking it (pg_blocking_pids).
-- Without pg_read_all_stats, other roles' sessions show no state or query (still counted).
-- Minimum version: PostgreSQL 13. Needs no special privilege.
/* dbdoctor */
SELECT /* dbdoctor */ a.pid                                                  AS pid,
       a.datname::text                                        AS database,
       a.usename::text                                        AS usename,
       a.application_name                                     AS application_name,
       a.state                                                AS state,
       a.wait_event_type                                      AS wait_event_type,
       a.wait_event                                           AS wait_event,
       (extract(epoch FROM (now() - a.backend_start)) * 1000)::float8 AS backend_ms,
       (extract(epoch FROM (now() - a.xact_start)) * 1000)::float8    AS xact_ms,
       (extract(epoch FROM (now() - a.query_start)) * 1000)::float8   AS query_ms,
       (extract(epoch FROM (now() - a.state_change)) * 1000)::float8  AS state_ms,
       left(a.query, 2000)                                    AS query,
       age(a.backend_xmin)::int8                              AS xmin_age,
       CASE WHEN a.wait_event_type = 'Lock'
            THEN pg_blocking_pids(a.pid) ELSE '{}'::int4[] END AS blocked_by,
       (SELECT format('%s %s%s', l.locktype, l.mode,
                      CASE WHEN l.relation IS NOT NULL THEN ' on ' || l.relation::regclass::text ELSE '' END)
          FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) AS waiting_for
FROM pg_stat_activity a
WHERE a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
ORDER BY a.pid
