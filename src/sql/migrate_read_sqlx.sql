-- Every row of sqlx's tracking table. Any version.
/* dbdoctor */
SELECT /* dbdoctor */ version, description, installed_on, success, checksum, execution_time
FROM _sqlx_migrations
ORDER BY version
