-- Every row of sqlx's tracking table ({table}: its quoted name). Any version.
/* dbdoctor */
SELECT /* dbdoctor */ version, description, installed_on, success, checksum, execution_time
FROM {table}
ORDER BY version
