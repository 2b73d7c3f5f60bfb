-- Doctor, for a superuser: the rows of doctor_column_stats.sql read from pg_statistic itself.
-- pg_stats is pg_statistic filtered by has_column_privilege and row security, both always true
-- for a superuser; skipping them halves the cost on a catalog of 10,000 tables.
-- pg_statistic is readable by superusers only: other roles use doctor_column_stats.sql.
-- Minimum version: PostgreSQL 13. Needs superuser.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text          AS schema,
       c.relname::text          AS table_name,
       a.attname::text          AS column_name,
       s.stanullfrac::float8    AS null_frac,
       s.stawidth::int4         AS avg_width
FROM pg_statistic s
JOIN pg_class c ON c.oid = s.starelid
JOIN pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT s.stainherit
  AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
