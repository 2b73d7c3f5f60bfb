-- Doctor: the current database's size, cache and transaction counters, and its oldest
-- transaction ID and multixact ages.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
/* dbdoctor */
SELECT /* dbdoctor */ d.datname::text                          AS name,
       pg_database_size(d.oid)                  AS size_bytes,
       age(d.datfrozenxid)::int8                AS xid_age,
       mxid_age(d.datminmxid)::int8             AS mxid_age,
       s.numbackends::int4                      AS backends,
       s.xact_commit                            AS xact_commit,
       s.xact_rollback                          AS xact_rollback,
       s.blks_read                              AS blks_read,
       s.blks_hit                               AS blks_hit,
       s.temp_files                             AS temp_files,
       s.temp_bytes                             AS temp_bytes,
       s.deadlocks                              AS deadlocks,
       s.stats_reset                            AS stats_reset
FROM pg_database d
JOIN pg_stat_database s ON s.datid = d.oid
WHERE d.datname = current_database()
