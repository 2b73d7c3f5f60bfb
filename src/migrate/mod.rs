//! Migrations: source files, plan, lint rules, the executor and the tracking table.
