-- Doctor: exact sizes of the largest indexes (doctor_indexes.sql estimates every index from
-- relpages). The size function takes an ACCESS SHARE lock: under our lock_timeout an index
-- locked by another session makes this query fail, and the estimates are kept.
-- Minimum version: PostgreSQL 13. Needs no special privilege.
-- $1: index oids (int8[]).
/* dbdoctor */
SELECT /* dbdoctor */ c.oid::int8                                         AS oid,
       pg_relation_size(c.oid)                             AS bytes
FROM pg_class c
WHERE c.oid = ANY ($1::int8[]::oid[])
