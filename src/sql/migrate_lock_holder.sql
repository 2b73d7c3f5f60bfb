-- The session holding dbdoctor's (and sqlx's) migration advisory lock in this database. Any
-- version. $1: the 64-bit key, split by PostgreSQL into classid (high) and objid (low 32 bits).
/* dbdoctor */
SELECT /* dbdoctor */ pid
FROM pg_locks
WHERE locktype = 'advisory'
  AND granted
  AND objid::bigint = ($1 & 4294967295)
  AND classid::bigint = (($1 >> 32) & 4294967295)
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
LIMIT 1
