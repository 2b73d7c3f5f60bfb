-- Doctor: exact sizes (heap + TOAST + maps, and TOAST alone) of the tables the report lists.
-- The size functions take an ACCESS SHARE lock: under our lock_timeout a table locked by
-- another session makes this query fail, and the relpages estimates are kept.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: table oids (int8[]).
/* dbdoctor */
SELECT /* dbdoctor */ c.oid::int8                                         AS oid,
       pg_table_size(c.oid)                                AS table_bytes,
       CASE WHEN c.reltoastrelid = 0 THEN 0::int8
            ELSE pg_total_relation_size(c.reltoastrelid) END AS toast_bytes
FROM pg_class c
WHERE c.oid = ANY ($1::int8[]::oid[])
