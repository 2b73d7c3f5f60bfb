-- pg_stat_statements_info: entries evicted (dealloc) and the time of the last full reset.
-- Minimum extension version 1.9 (PostgreSQL 14). {pgss_info} is replaced by the schema-qualified,
-- quoted view name.
/* dbdoctor */
SELECT /* dbdoctor */ dealloc, stats_reset FROM {pgss_info}
