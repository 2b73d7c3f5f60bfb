-- Every row of dbdoctor's extra record. Any version.
/* dbdoctor */
SELECT /* dbdoctor */ version, statements_applied, statements_total, success, error, error_statement,
       backup_location, applied_by, marked_applied,
       to_jsonb(m) ->> 'data_backup' AS data_backup  -- absent in tables created before it existed
FROM {table} m
ORDER BY version
