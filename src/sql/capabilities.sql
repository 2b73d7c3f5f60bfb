-- Capabilities probe: server version, replica status, role privileges and key settings.
-- Minimum version: PostgreSQL 13. Readable by any role (superuser-only settings come back NULL).
/* dbdoctor */
SELECT /* dbdoctor */
    current_setting('server_version_num')::int4                         AS server_version_num,
    current_setting('server_version')                                   AS server_version,
    pg_is_in_recovery()                                                 AS is_replica,
    current_database()::text                                            AS database,
    current_user::text                                                  AS role,
    r.rolsuper                                                          AS superuser,
    pg_has_role(current_user, 'pg_monitor', 'USAGE')                    AS pg_monitor,
    pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')             AS pg_read_all_stats,
    pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')          AS pg_read_all_settings,
    (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS shared_preload_libraries,
    EXISTS (SELECT 1 FROM pg_settings WHERE name LIKE 'pg\_stat\_statements.%') AS pgss_loaded,
    (SELECT setting FROM pg_settings WHERE name = 'pg_stat_statements.track') AS pgss_track,
    current_setting('track_io_timing') = 'on'                           AS track_io_timing,
    current_setting('max_connections')::int4                            AS max_connections,
    (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset,
    pg_postmaster_start_time()                                          AS server_started,
    now()                                                               AS server_now,
    -- Replicas only: WAL received but not yet replayed, and the age of the last replayed
    -- transaction (0 when nothing is waiting to be replayed).
    CASE WHEN pg_is_in_recovery() THEN
        pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::int8
    END                                                                 AS replay_lag_bytes,
    CASE WHEN pg_is_in_recovery() THEN
        CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END
    END                                                                 AS replay_lag_seconds
FROM pg_roles r
WHERE r.rolname = current_user
