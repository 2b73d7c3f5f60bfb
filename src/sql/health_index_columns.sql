-- Health checks: the key columns of every index of a user table with their type, type category
-- (A array, B boolean, ...), NOT NULL flag and whether its operator class is the type's
-- default, and the input type of that operator class (what an expression column holds); for
-- partial indexes also the table's NOT NULL columns, which tell a WHERE clause that is always
-- true. Joined to doctor_indexes by index oid.
-- Catalog only (no statistics, no sizes): cheap on 10,000 tables.
-- Minimum version: PostgreSQL 13. Needs no special privilege. Read-only.
-- $1: schemas to keep (text[]), NULL for all non-system schemas.
/* dbdoctor */
SELECT /* dbdoctor */ i.indexrelid::int8                                  AS oid,
       ARRAY(SELECT COALESCE(format_type(a.atttypid, a.atttypmod), '')
               FROM unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:i.indnkeyatts])
                    WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS key_types,
       ARRAY(SELECT COALESCE(ty.typcategory::text, '')
               FROM unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:i.indnkeyatts])
                    WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
               LEFT JOIN pg_type ty ON ty.oid = a.atttypid
              ORDER BY k.ord)                              AS key_categories,
       ARRAY(SELECT COALESCE(a.attnotnull, false)
               FROM unnest((string_to_array(i.indkey::text, ' ')::int2[])[1:i.indnkeyatts])
                    WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              ORDER BY k.ord)                              AS key_not_null,
       ARRAY(SELECT COALESCE(opc.opcdefault, false)
               FROM unnest(string_to_array(i.indclass::text, ' ')::oid[]) WITH ORDINALITY k(opc, ord)
               LEFT JOIN pg_opclass opc ON opc.oid = k.opc
              ORDER BY k.ord)                              AS key_default_opclass,
       ARRAY(SELECT COALESCE(format_type(opc.opcintype, NULL), '')
               FROM unnest(string_to_array(i.indclass::text, ' ')::oid[]) WITH ORDINALITY k(opc, ord)
               LEFT JOIN pg_opclass opc ON opc.oid = k.opc
              ORDER BY k.ord)                              AS key_opclass_types,
       CASE WHEN i.indpred IS NOT NULL THEN
            ARRAY(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND a.attnotnull
                     AND NOT a.attisdropped ORDER BY a.attnum)
       END                                                 AS table_not_null_columns
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE t.relkind IN ('r', 'p', 'm')
  AND t.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
  AND n.nspname !~ '^pg_temp_'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))
ORDER BY i.indexrelid
