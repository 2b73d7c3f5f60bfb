-- Health checks: columns of user tables that a column check reports, in one pass over
-- pg_attribute: types better avoided (money, char(n), varchar(n), timestamp without time zone,
-- timetz, oid/lo large-object handles), serial columns that are not a single-column primary
-- key (or are one and a foreign key too), and names that carry other types elsewhere in the
-- same schema. Partitions are left out: they repeat their parent's columns.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only, catalog only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
WITH /* dbdoctor */ cols AS (
    SELECT n.nspname::text                                 AS schema,
           t.relname::text                                 AS table_name,
           t.oid                                           AS relid,
           a.attname::text                                 AS column_name,
           a.attnum,
           a.atttypid,
           a.atttypmod,
           a.attnotnull,
           a.atthasdef AND a.attidentity = ''
               AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                                                           AS may_be_serial
    FROM pg_attribute a
    JOIN pg_class t ON t.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE a.attnum > 0
      AND NOT a.attisdropped
      AND t.relkind IN ('r', 'p')
      AND NOT t.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND n.nspname !~ '^pg_temp_'
      AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
), mixed AS (
    SELECT schema, column_name
    FROM cols
    GROUP BY schema, column_name
    HAVING count(DISTINCT atttypid) > 1
), serial AS (
    SELECT c.relid, c.attnum, s.oid::regclass::text AS sequence
    FROM cols c
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = c.relid
                    AND d.refobjsubid = c.attnum AND d.classid = 'pg_class'::regclass
                    AND d.deptype = 'a'
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_attrdef ad ON ad.adrelid = c.relid AND ad.adnum = c.attnum
    WHERE c.may_be_serial
      AND pg_get_expr(ad.adbin, ad.adrelid) = 'nextval(''' || s.oid::regclass::text || '''::regclass)'
      AND (NOT EXISTS (SELECT 1 FROM pg_constraint p
                        WHERE p.conrelid = c.relid AND p.contype = 'p'
                          AND p.conkey = ARRAY[c.attnum])
           OR EXISTS (SELECT 1 FROM pg_constraint f
                       WHERE f.conrelid = c.relid AND f.contype = 'f'
                         AND f.conkey = ARRAY[c.attnum]))
)
SELECT c.schema,
       c.table_name,
       c.column_name,
       format_type(c.atttypid, c.atttypmod)                AS data_type,
       ty.typname::text                                    AS type_name,
       c.attnotnull                                        AS not_null,
       s.sequence                                          AS serial_sequence,
       m.column_name IS NOT NULL                           AS inconsistent
FROM cols c
JOIN pg_type ty ON ty.oid = c.atttypid
LEFT JOIN serial s ON s.relid = c.relid AND s.attnum = c.attnum
LEFT JOIN mixed m ON m.schema = c.schema AND m.column_name = c.column_name
WHERE c.atttypid IN ('money'::regtype, 'timestamp'::regtype, 'timetz'::regtype, 'oid'::regtype)
   OR (c.atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND c.atttypmod > 0)
   OR (ty.typname = 'lo' AND ty.typtype = 'd')
   OR s.sequence IS NOT NULL
   OR m.column_name IS NOT NULL
ORDER BY c.schema, c.table_name, c.attnum
