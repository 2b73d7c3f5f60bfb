-- Progress of an index build by one backend (PostgreSQL 12+). $1: backend pid.
/* dbdoctor */
SELECT /* dbdoctor */ phase, blocks_done, blocks_total
FROM pg_stat_progress_create_index
WHERE pid = $1
