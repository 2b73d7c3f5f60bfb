-- Columns of one relation with their type, NOT NULL and default (validate's schema model).
-- Any version. $1: relation name as written in the statement.
/* dbdoctor */
SELECT /* dbdoctor */ a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       a.atthasdef AS has_default
FROM pg_attribute a
WHERE a.attrelid = to_regclass($1)
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
