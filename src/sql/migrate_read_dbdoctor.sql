-- Every row of dbdoctor's extra record. Any version.
/* dbdoctor */
SELECT /* dbdoctor */ version, statements_applied, statements_total, success, error, error_statement,
       backup_location, applied_by, marked_applied
FROM _dbdoctor_migrations
ORDER BY version
