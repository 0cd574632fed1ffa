//! The time, as Kabinet reads it.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, to the microsecond: both databases keep microseconds, so a time read back equals
/// the time written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
