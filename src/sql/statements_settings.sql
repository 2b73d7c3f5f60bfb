-- Settings and clock the pg_stat_statements collector needs: block size (to turn blocks into
-- bytes), the entry limit and whether planning is tracked (NULL when the library is not loaded).
-- Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ clock_timestamp()                            AS taken_at,
       current_database()::text                                           AS database,
       current_setting('block_size')::int8                                AS block_size,
       current_setting('pg_stat_statements.max', true)::int8              AS max_entries,
       current_setting('pg_stat_statements.track_planning', true) = 'on'  AS track_planning
