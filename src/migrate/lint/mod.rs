//! Safety and syntax rules for migration files (`migrate validate`), one module per rule.
