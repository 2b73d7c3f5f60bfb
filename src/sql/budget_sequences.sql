-- Sequences a writing probe may advance, and where they stand (PostgreSQL 10+: pg_sequence).
-- Only those this role may both read and set back.
/* dbdoctor */
SELECT /* dbdoctor */ format('%I.%I', n.nspname, c.relname) AS name,
       pg_sequence_last_value(c.oid)                      AS last_value,
       s.seqstart                                         AS start_value,
       s.seqincrement                                     AS increment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relkind = 'S'
  AND NOT pg_is_other_temp_schema(n.oid)
  -- CASE: the privilege functions refuse relations that are not sequences, and the planner may
  -- test conditions in any order.
  AND CASE WHEN c.relkind = 'S'
           THEN has_sequence_privilege(c.oid, 'UPDATE')
                AND (has_sequence_privilege(c.oid, 'SELECT') OR has_sequence_privilege(c.oid, 'USAGE'))
           ELSE false END
ORDER BY 1
