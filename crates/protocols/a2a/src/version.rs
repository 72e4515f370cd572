//! The `A2A-Version` service parameter (spec §3.6).
//!
//! Versions are negotiated by `Major.Minor`. This server serves 1.0 only. A
//! request without the header (or with an empty one) is a 0.3 request by the
//! spec's rule, and 0.3 is not served: it gets `VersionNotSupportedError`
//! with a message that says to send `A2A-Version: 1.0`. Serving 0.3 side by
//! side would double every wire shape for peers that are upgrading anyway;
//! our client still reads 0.3 answers from others.

use crate::A2aError;

/// The header name (case-insensitive on the wire).
pub const HEADER: &str = "A2A-Version";
/// The version served.
pub const SERVED: &str = "1.0";

/// Checks the requested version (header or `A2A-Version` query parameter).
pub fn negotiate(requested: Option<&str>) -> Result<(), A2aError> {
    let requested = requested.map(str::trim).unwrap_or_default();
    if requested.is_empty() {
        return Err(A2aError::VersionNotSupported(
            "A2A version 0.3 is not supported (a request without an A2A-Version header is 0.3); send `A2A-Version: 1.0`"
                .to_owned(),
        ));
    }
    let mut numbers = requested.split('.');
    let major = numbers.next();
    let minor = numbers.next().unwrap_or("0");
    if major == Some("1") && minor == "0" {
        return Ok(());
    }
    Err(A2aError::VersionNotSupported(format!(
        "A2A version {requested} is not supported; this server speaks {SERVED} (send `A2A-Version: {SERVED}`)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1_0_is_served_and_a_missing_version_means_0_3() {
        for accepted in ["1.0", " 1.0 ", "1", "1.0.1"] {
            assert!(negotiate(Some(accepted)).is_ok(), "{accepted}");
        }
        for refused in [None, Some(""), Some("0.3"), Some("1.1"), Some("2.0"), Some("abc")] {
            assert_eq!(negotiate(refused).map_err(|e| e.code()), Err(-32009), "{refused:?}");
        }
        assert!(negotiate(None).is_err_and(|e| e.to_string().contains("0.3")));
    }
}
