//! `CheckId`: the stable id of every doctor check, one enum variant each. The ids are an API
//! (JSON `check`, `--checks`, `--skip-checks`, DB_PERF.md): the string of a variant never
//! changes; add variants, never rename them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! check_ids {
    ($($variant:ident = $id:literal,)*) => {
        /// A doctor check's id. Ordered by its string, like the ids always were.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CheckId {
            $($variant,)*
        }

        impl CheckId {
            /// Every id, in declaration order.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant,)*];

            /// The id as printed and serialized, e.g. `fk_without_index`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)*
                }
            }
        }
    };
}

check_ids! {
    // The doctor checks (src/checks/<id>.rs), in the order `--checks` errors list them.
    UnusedIndex = "unused_index",
    DuplicateIndex = "duplicate_index",
    RedundantIndex = "redundant_index",
    InvalidIndex = "invalid_index",
    FkWithoutIndex = "fk_without_index",
    MissingIndex = "missing_index",
    IndexBloat = "index_bloat",
    TableBloat = "table_bloat",
    DeadTuples = "dead_tuples",
    TableWithoutPk = "table_without_pk",
    SequenceOverflow = "sequence_overflow",
    XidWraparound = "xid_wraparound",
    LongRunningQuery = "long_running_query",
    IdleInTransaction = "idle_in_transaction",
    BlockingLocks = "blocking_locks",
    ConnectionsUsage = "connections_usage",
    CacheHitRatio = "cache_hit_ratio",
    HostCpu = "host_cpu",
    HostMemory = "host_memory",
    SlowQuery = "slow_query",
    SelectStar = "select_star",
    UnboundedResult = "unbounded_result",
    ImplicitJoin = "implicit_join",
    BtreeIndexOnArray = "btree_index_on_array",
    IndexWithBoolean = "index_with_boolean",
    IndexMostlyNull = "index_mostly_null",
    PartialIndexAlwaysTrue = "partial_index_always_true",
    RedundantHashIndex = "redundant_hash_index",
    DuplicateForeignKey = "duplicate_foreign_key",
    IntersectedForeignKey = "intersected_foreign_key",
    FkTypeMismatch = "fk_type_mismatch",
    NotValidConstraint = "not_valid_constraint",
    IntegerPrimaryKey = "integer_primary_key",
    JsonColumn = "json_column",
    SequenceNearMax = "sequence_near_max",
    DominantWait = "dominant_wait",
    MoneyColumn = "money_column",
    CharColumn = "char_column",
    FixedLengthVarchar = "fixed_length_varchar",
    TimestampOrTimetzColumn = "timestamp_or_timetz_column",
    BlobColumn = "blob_column",
    SerialColumnNotPk = "serial_column_not_pk",
    InconsistentColumnType = "inconsistent_column_type",
    TableWithZeroOrOneColumn = "table_with_zero_or_one_column",
    AllColumnsNullableExceptPk = "all_columns_nullable_except_pk",
    PrimaryKeyColumnsNotFirst = "primary_key_columns_not_first",
    TableWithInheritance = "table_with_inheritance",
    TableNotLinkedToOthers = "table_not_linked_to_others",
    TableWithIncrementingColumns = "table_with_incrementing_columns",
    TableWithNoData = "table_with_no_data",
    ForeignKeyWithNullValues = "foreign_key_with_null_values",
    SelfReferencedForeignKey = "self_referenced_foreign_key",
    IndexWithTimestampInTheMiddle = "index_with_timestamp_in_the_middle",
    PrimaryKeyWithVarchar = "primary_key_with_varchar",
    PossibleObjectNameOverflow = "possible_object_name_overflow",
    // Self-checks of pg_stat_statements (src/analyze/statements.rs).
    PgStatStatementsMissing = "pg_stat_statements_missing",
    PgStatStatementsNotPreloaded = "pg_stat_statements_not_preloaded",
    PgStatStatementsOutdated = "pg_stat_statements_outdated",
    PgStatStatementsEvicted = "pg_stat_statements_evicted",
    TrackIoTimingOff = "track_io_timing_off",
    PgStatStatementsTrackNone = "pg_stat_statements_track_none",
    StatsRecentlyReset = "stats_recently_reset",
    InsufficientPrivilegeStatements = "insufficient_privilege_statements",
    // Plan insights (src/plans/insights.rs).
    PlanSeqScanSelective = "plan_seq_scan_selective",
    PlanSpillWorkMem = "plan_spill_work_mem",
    PlanNestedLoopLargeOuter = "plan_nested_loop_large_outer",
    PlanIndexFilterInefficient = "plan_index_filter_inefficient",
    PlanLargeOffset = "plan_large_offset",
    PlanStaleStatistics = "plan_stale_statistics",
    PlanRowMisestimate = "plan_row_misestimate",
    PlanSrfDefaultRows = "plan_srf_default_rows",
}

impl CheckId {
    /// The id that `s` names, if any.
    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not a check id (the message names it; callers add the known ids and a hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheckId(pub String);

impl fmt::Display for UnknownCheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown check id '{}'", self.0)
    }
}

impl std::error::Error for UnknownCheckId {}

impl FromStr for CheckId {
    type Err = UnknownCheckId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckId::parse(s).ok_or_else(|| UnknownCheckId(s.to_string()))
    }
}

impl PartialOrd for CheckId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CheckId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant name in snake_case is the id, so the two can never drift apart.
    #[test]
    fn ids_are_the_variants_in_snake_case() {
        for id in CheckId::ALL {
            let name = format!("{id:?}");
            let mut snake = String::new();
            for (i, ch) in name.chars().enumerate() {
                if ch.is_ascii_uppercase() {
                    if i > 0 {
                        snake.push('_');
                    }
                    snake.push(ch.to_ascii_lowercase());
                } else {
                    snake.push(ch);
                }
            }
            assert_eq!(snake, id.as_str());
        }
    }

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let mut seen = std::collections::BTreeSet::new();
        for id in CheckId::ALL {
            assert!(seen.insert(id.as_str()), "duplicate id {id}");
            assert_eq!(id.to_string().parse::<CheckId>(), Ok(*id));
            let j = serde_json::to_string(id).unwrap();
            assert_eq!(j, format!("\"{id}\""));
            assert_eq!(serde_json::from_str::<CheckId>(&j).unwrap(), *id);
        }
        assert_eq!(
            "fk_without_indx".parse::<CheckId>(),
            Err(UnknownCheckId("fk_without_indx".into()))
        );
        assert!(serde_json::from_str::<CheckId>("\"nope\"").is_err());
    }

    #[test]
    fn ids_order_like_their_text() {
        let mut ids = CheckId::ALL.to_vec();
        ids.sort();
        let mut text: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        text.sort_unstable();
        assert_eq!(ids.iter().map(|c| c.as_str()).collect::<Vec<_>>(), text);
    }
}
