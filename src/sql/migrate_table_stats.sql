-- Size, estimated rows and writes since the stats reset of one relation (validate's lock notes).
-- Any version. $1: relation name as written in the statement.
/* dbdoctor */
SELECT /* dbdoctor */ c.reltuples::bigint AS rows_estimate,
       pg_total_relation_size(c.oid) AS total_bytes,
       coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0)::bigint AS writes,
       extract(epoch FROM now() - coalesce(st.stats_reset, pg_postmaster_start_time()))::float8 AS seconds
FROM pg_class c
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
LEFT JOIN pg_stat_database st ON st.datname = current_database()
WHERE c.oid = to_regclass($1)
