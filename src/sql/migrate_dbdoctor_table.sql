-- dbdoctor's extra record per migration, beside sqlx's table (sqlx never reads it).
CREATE TABLE IF NOT EXISTS {table} (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    statements_applied INT NOT NULL,
    statements_total INT NOT NULL,
    success BOOLEAN NOT NULL,
    error TEXT,
    error_statement TEXT,
    backup_location TEXT,
    data_backup TEXT,
    applied_by TEXT NOT NULL,
    marked_applied BOOLEAN NOT NULL DEFAULT false,
    dbdoctor_version TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
)
