//! Performance budgets: budgets.toml, classification, probes and verdicts.
