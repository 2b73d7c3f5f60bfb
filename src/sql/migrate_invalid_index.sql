-- Whether an index exists and is invalid (left by a failed or killed CREATE INDEX CONCURRENTLY).
-- Any version. $1: index name as written in the statement.
/* dbdoctor */
SELECT /* dbdoctor */ NOT i.indisvalid
FROM pg_index i
WHERE i.indexrelid = to_regclass($1)
