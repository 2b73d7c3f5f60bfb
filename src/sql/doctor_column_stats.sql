-- Doctor: null fraction and average width of every analysed column of user tables, read from
-- pg_stats once; table and index bloat are estimated from these in the analysis.
-- pg_stats shows only columns the role may SELECT: a table with missing columns gets no
-- estimate rather than a wrong one.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ s.schemaname::text       AS schema,
       s.tablename::text        AS table_name,
       s.attname::text          AS column_name,
       s.null_frac::float8      AS null_frac,
       s.avg_width::int4        AS avg_width
FROM pg_stats s
WHERE NOT s.inherited
  AND s.schemaname NOT IN ('pg_catalog', 'information_schema')
  AND s.schemaname !~ '^pg_toast'
  AND s.schemaname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR s.schemaname = ANY ($1::text[]))
