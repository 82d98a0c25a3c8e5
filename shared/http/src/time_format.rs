use followup_domain::Timestamp;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `2026-11-24T05:00:00.123Z`. Out-of-range values (never produced by our clocks) fall
/// back to the epoch rather than failing a response.
pub fn rfc3339(at: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}
