-- Doctor: sequences with their own range and last value, and every column they feed (owned-by,
-- identity, or named in a column default) with that column's type.
-- last_value is NULL when the role has neither SELECT nor USAGE on the sequence (what the
-- pg_sequences view does), never an error.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text                                     AS schema,
       c.relname::text                                     AS name,
       format_type(s.seqtypid, NULL)                       AS data_type,
       s.seqmin                                            AS min_value,
       s.seqmax                                            AS max_value,
       s.seqincrement                                      AS increment,
       s.seqcycle                                          AS cycle,
       s.seqstart                                          AS start_value,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')
            THEN pg_sequence_last_value(c.oid) END         AS last_value,
       has_sequence_privilege(c.oid, 'SELECT,USAGE')       AS readable,
       (SELECT COALESCE(json_agg(f ORDER BY f.schema, f."table", f."column"), '[]') FROM (
             SELECT tn.nspname::text AS schema, tc.relname::text AS "table", a.attname::text AS "column",
                    format_type(a.atttypid, NULL) AS data_type
               FROM pg_depend d
               JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
               JOIN pg_class tc ON tc.oid = a.attrelid
               JOIN pg_namespace tn ON tn.oid = tc.relnamespace
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                AND d.deptype IN ('a', 'i')
             UNION
             SELECT tn.nspname::text, tc.relname::text, a.attname::text, format_type(a.atttypid, NULL)
               FROM pg_depend d
               JOIN pg_attrdef ad ON ad.oid = d.objid
               JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
               JOIN pg_class tc ON tc.oid = a.attrelid
               JOIN pg_namespace tn ON tn.oid = tc.relnamespace
              WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid = c.oid) f)                 AS fed_columns
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, c.relname
