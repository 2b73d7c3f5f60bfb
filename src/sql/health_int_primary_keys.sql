-- Health checks: single-column smallint/integer primary keys fed by a sequence (serial or
-- identity), and bigint ones fed by a serial's sequence (bigserial), with the sequence's last value, the rows inserted since the statistics were reset
-- (the growth rate) and the foreign keys that point at the key (they must widen with it).
-- last_value is NULL when the sequence was never called or the role may not read it.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ n.nspname::text                                     AS schema,
       t.relname::text                                     AS table_name,
       a.attname::text                                     AS column_name,
       format_type(a.atttypid, NULL)                       AS data_type,
       d.deptype = 'a'                                     AS serial,
       sn.nspname::text                                    AS sequence_schema,
       sc.relname::text                                    AS sequence_name,
       CASE WHEN has_sequence_privilege(sc.oid, 'SELECT,USAGE')
            THEN pg_sequence_last_value(sc.oid) END        AS last_value,
       pg_stat_get_tuples_inserted(t.oid)                  AS inserted,
       (SELECT COALESCE(json_agg(json_build_object(
                   'schema', fn.nspname::text, 'table', ft.relname::text,
                   'column', fa.attname::text, 'data_type', format_type(fa.atttypid, NULL))
                   ORDER BY fn.nspname, ft.relname, fa.attname), '[]')
          FROM pg_constraint f
          JOIN pg_class ft ON ft.oid = f.conrelid
          JOIN pg_namespace fn ON fn.oid = ft.relnamespace
          JOIN pg_attribute fa ON fa.attrelid = f.conrelid AND fa.attnum = f.conkey[1]
         WHERE f.contype = 'f' AND f.confrelid = t.oid AND f.conparentid = 0
           AND cardinality(f.confkey) = 1 AND f.confkey[1] = a.attnum) AS referencing
FROM pg_constraint pk
JOIN pg_class t ON t.oid = pk.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = pk.conkey[1]
JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid
                AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass
                AND d.deptype IN ('a', 'i')
JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = sc.relnamespace
WHERE pk.contype = 'p'
  AND cardinality(pk.conkey) = 1
  AND (a.atttypid IN ('int2'::regtype, 'int4'::regtype)
       OR (a.atttypid = 'int8'::regtype AND d.deptype = 'a'))
  AND t.relkind IN ('r', 'p')
  AND NOT t.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, t.relname
