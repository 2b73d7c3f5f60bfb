//! `migrate plan`: turns doctor's index findings into migration files.
