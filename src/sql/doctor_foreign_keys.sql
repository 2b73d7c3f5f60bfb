-- Doctor: foreign keys of user tables, with the referencing columns (attribute numbers, in key
-- order) and the referenced table.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ con.oid::int8                                       AS oid,
       con.conrelid::int8                                  AS table_oid,
       n.nspname::text                                     AS schema,
       t.relname::text                                     AS table_name,
       con.conname::text                                   AS name,
       con.conkey                                          AS attnums,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS columns,
       rn.nspname::text                                    AS ref_schema,
       r.relname::text                                     AS ref_table,
       con.convalidated                                    AS validated
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class r ON r.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE con.contype = 'f'
  AND con.conparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, t.relname, con.conname
