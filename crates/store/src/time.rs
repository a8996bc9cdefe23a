//! Times are stored as UTC `TIMESTAMP`s (no zone) on both backends.

use chrono::{DateTime, NaiveDateTime, Utc};

/// A UTC time as stored.
pub(crate) fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

/// A stored time as UTC.
pub(crate) fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
