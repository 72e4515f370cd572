//! The `A2A-Version` service parameter (spec §3.6): which protocol a request speaks.
//!
//! Versions are negotiated by `Major.Minor`. This server speaks 1.0 and 0.3
//! on the same endpoints, as the reference SDK does with its 0.3
//! compatibility on. A request without the header (or with an empty one) is
//! a 0.3 request by the spec's rule — 0.3 clients never send it — so it is
//! answered in 0.3. Any other version gets `VersionNotSupportedError`
//! (-32009) naming the two that are served.

use crate::A2aError;

/// The header name (case-insensitive on the wire).
pub const HEADER: &str = "A2A-Version";
/// The current version, sent by our client to 1.0 agents.
pub const SERVED: &str = "1.0";
/// The legacy version, as 0.3 cards write it in `protocolVersion`.
pub const LEGACY_CARD_VERSION: &str = "0.3.0";

/// A protocol version this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// A2A 0.3: slash method names, `kind`-tagged objects, lowercase enums.
    V0_3,
    /// A2A 1.0: PascalCase methods, ProtoJSON oneofs and enum names.
    V1_0,
}

impl ProtocolVersion {
    /// `Major.Minor`, as the header carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_3 => "0.3",
            Self::V1_0 => SERVED,
        }
    }

    /// Reads a `protocolVersion` of a card interface (`1.0`, `0.3.0`, `1`); `None` for others.
    pub fn of_card(text: &str) -> Option<Self> {
        let mut numbers = text.trim().split('.');
        match (numbers.next(), numbers.next().unwrap_or("0")) {
            (Some("1"), "0") => Some(Self::V1_0),
            (Some("0"), "3") => Some(Self::V0_3),
            _ => None,
        }
    }
}

/// Picks the version of a request from its header (or `A2A-Version` query parameter).
pub fn negotiate(requested: Option<&str>) -> Result<ProtocolVersion, A2aError> {
    let requested = requested.map(str::trim).unwrap_or_default();
    if requested.is_empty() {
        return Ok(ProtocolVersion::V0_3);
    }
    ProtocolVersion::of_card(requested).ok_or_else(|| A2aError::VersionNotSupported(unsupported_message(requested)))
}

/// The message of the -32009 answer to a version this server does not speak.
pub fn unsupported_message(requested: &str) -> String {
    format!(
        "A2A version {requested} is not supported: this server speaks 1.0 and 0.3 \
         (send `A2A-Version: 1.0`, or `A2A-Version: 0.3` or no header for 0.3)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_version_means_0_3_and_only_1_0_and_0_3_are_served() {
        for (requested, wanted) in [
            (None, ProtocolVersion::V0_3),
            (Some(""), ProtocolVersion::V0_3),
            (Some(" "), ProtocolVersion::V0_3),
            (Some("0.3"), ProtocolVersion::V0_3),
            (Some("0.3.0"), ProtocolVersion::V0_3),
            (Some("1.0"), ProtocolVersion::V1_0),
            (Some(" 1.0 "), ProtocolVersion::V1_0),
            (Some("1"), ProtocolVersion::V1_0),
            (Some("1.0.1"), ProtocolVersion::V1_0),
        ] {
            assert_eq!(negotiate(requested), Ok(wanted), "{requested:?}");
        }
        for refused in ["0.2", "1.1", "2.0", "abc"] {
            let error = negotiate(Some(refused)).err();
            assert_eq!(error.as_ref().map(A2aError::code), Some(-32009), "{refused}");
            assert_eq!(error.map(|e| e.to_string()), Some(unsupported_message(refused)));
        }
        assert_eq!(
            unsupported_message("2.0"),
            "A2A version 2.0 is not supported: this server speaks 1.0 and 0.3 \
             (send `A2A-Version: 1.0`, or `A2A-Version: 0.3` or no header for 0.3)"
        );
    }
}
