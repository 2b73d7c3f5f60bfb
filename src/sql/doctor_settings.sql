-- Doctor: server settings the checks need (autovacuum thresholds, freeze limits, block size,
-- connection reserves), as numbers where they are numbers. Readable by any role.
-- Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ current_setting('block_size')::int4                              AS block_size,
       current_setting('autovacuum') = 'on'                             AS autovacuum,
       current_setting('autovacuum_vacuum_threshold')::int8             AS autovacuum_vacuum_threshold,
       current_setting('autovacuum_vacuum_scale_factor')::float8        AS autovacuum_vacuum_scale_factor,
       current_setting('autovacuum_freeze_max_age')::int8               AS autovacuum_freeze_max_age,
       current_setting('autovacuum_multixact_freeze_max_age')::int8     AS autovacuum_multixact_freeze_max_age,
       current_setting('superuser_reserved_connections')::int4          AS superuser_reserved_connections,
       current_setting('track_counts') = 'on'                           AS track_counts
