-- Installed extensions of the current database with their schema, plus the versions this server
-- could install (pg_available_extensions). Minimum version: PostgreSQL 13.
/* dbdoctor */
SELECT /* dbdoctor */ a.name::text                 AS name,
       e.extversion                 AS installed_version,
       n.nspname::text              AS schema,
       a.default_version            AS default_version
FROM pg_available_extensions a
LEFT JOIN pg_extension e ON e.extname = a.name
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.oid IS NOT NULL OR a.name IN ('pg_stat_statements', 'hypopg')
ORDER BY a.name
