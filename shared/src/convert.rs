//! Proto well-known types <-> domain values that both services convert the same way.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// Earliest instant a `google.protobuf.Timestamp` may hold (0001-01-01T00:00:00Z).
const MIN_SECONDS: i64 = -62_135_596_800;
/// Latest instant a `google.protobuf.Timestamp` may hold (9999-12-31T23:59:59Z).
const MAX_SECONDS: i64 = 253_402_300_799;

/// A domain instant as a proto `Timestamp`.
pub fn timestamp(time: DateTime<Utc>) -> Timestamp {
    let nanos = i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(999_999_999);
    Timestamp { seconds: time.timestamp(), nanos }
}

/// A proto `Timestamp` as a domain instant, refusing values outside the `Timestamp` range.
pub fn parse_timestamp(ts: &Timestamp) -> Result<DateTime<Utc>, String> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&ts.seconds) {
        return Err(format!("seconds {} is outside 0001-01-01..9999-12-31", ts.seconds));
    }
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| format!("nanos {} is outside 0..999999999", ts.nanos))?;
    DateTime::from_timestamp(ts.seconds, nanos).ok_or_else(|| format!("{}s is not a valid time", ts.seconds))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_round_trip_and_out_of_range_values_are_refused() {
        let time = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap() + chrono::Duration::nanoseconds(5);
        assert_eq!(parse_timestamp(&timestamp(time)), Ok(time));
        assert!(parse_timestamp(&Timestamp { seconds: 0, nanos: -1 }).is_err());
        assert!(parse_timestamp(&Timestamp { seconds: 0, nanos: 1_000_000_000 }).is_err());
        assert!(parse_timestamp(&Timestamp { seconds: MAX_SECONDS + 1, nanos: 0 }).is_err());
    }
}
