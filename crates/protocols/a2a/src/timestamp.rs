//! Timestamps as A2A sends them: ISO 8601 in UTC with a `Z` and milliseconds.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// The current time, truncated to whole milliseconds (what the wire carries).
pub fn now_millis() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// Formats a time as `2026-12-01T13:45:00.123Z`.
pub fn format_timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serde for `Option<DateTime<Utc>>` in the wire form; any RFC 3339 offset is accepted on input.
pub(crate) mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(at) => serializer.serialize_str(&format_timestamp(at)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        if text.is_empty() {
            return Ok(None);
        }
        DateTime::parse_from_rfc3339(&text)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|error| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T15:45:00.123456+02:00").map(|t| t.with_timezone(&Utc));
        assert_eq!(at.map(|t| format_timestamp(&t)).ok().as_deref(), Some("2026-12-01T13:45:00.123Z"));
        assert_eq!(now_millis().timestamp_subsec_nanos() % 1_000_000, 0);
    }
}
