-- Plans: the memory settings plan insights compare sorts and hashes with, in bytes.
-- Minimum version: PostgreSQL 13 (hash_mem_multiplier).
/* dbdoctor */
SELECT /* dbdoctor */ pg_size_bytes(current_setting('work_mem'))::int8   AS work_mem_bytes,
       current_setting('hash_mem_multiplier')::float8                   AS hash_mem_multiplier
