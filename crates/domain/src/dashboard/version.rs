//! Versions of the dashboard state and their HTTP form, the ETag.
//!
//! A state version is a pair (realtime-sync §3.1):
//!
//! - `epoch`: a random 64-bit id, written as 13 lowercase base32 characters,
//!   new whenever the room's log is (re)created — first use, lost history, a
//!   restore, a migration that rewrote the document. A client holding another
//!   epoch cannot replay deltas and must take a snapshot.
//! - `version`: `+1` per committed change, assigned only by the server.
//!
//! The same pair is the REST ETag, `"<epoch>.<version>"` (quotes included), so
//! a version read over the WebSocket can be sent in `If-Match` and vice versa.
//! [`Precondition`] parses `If-Match` / `If-None-Match` values — a list of
//! tags, each possibly weak (`W/"…"`), or `*` — and answers them with the
//! comparisons RFC 9110 §13.1 prescribes.

use serde::{Deserialize, Serialize};

/// The RFC 4648 base32 alphabet in lower case: URL-, header- and file-name-safe.
const BASE32_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Characters of an epoch made by [`new_epoch`]: 64 bits at 5 bits each, rounded up.
pub const EPOCH_CHARS: usize = 13;
/// Longest epoch accepted when parsing; leaves room for other generators.
const MAX_EPOCH_CHARS: usize = 32;
/// Most digits of a version accepted when parsing: every 19-digit number fits
/// a `u64`, so the pattern below can say exactly what parses.
const MAX_VERSION_DIGITS: usize = 19;

/// Every `If-Match` / `If-None-Match` value [`Precondition::parse`] accepts, as
/// a JSON Schema (ECMA-262) pattern for the API description: `*`, or a
/// comma-separated list of `"<epoch>.<version>"` tags, each possibly weak
/// (`W/`), with optional spaces, tabs and empty list items. A unit test holds
/// it and the parser to the same answers.
pub const PRECONDITION_PATTERN: &str =
    r#"^[ \t,]*(\*|(W/)?"[a-z0-9]{1,32}\.[0-9]{1,19}"([ \t]*,[ \t,]*(W/)?"[a-z0-9]{1,32}\.[0-9]{1,19}")*)[ \t,]*$"#;

/// Where a room's state stands: which log (`epoch`) and how far along it (`version`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StateVersion {
    /// Id of the room's current log.
    pub epoch: String,
    /// Committed changes in this log so far.
    pub version: u64,
}

/// A new random epoch: 64 bits from a v4 UUID, as 13 lowercase base32 characters.
pub fn new_epoch() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    // Bytes 6 and 8 carry the UUID's version and variant bits; bytes 0 and
    // 9..16 are purely random.
    let random =
        u64::from_be_bytes([bytes[0], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]]);
    (0..EPOCH_CHARS)
        .rev()
        .map(|position| {
            let index = (random >> (position * 5)) & 0x1f;
            char::from(BASE32_ALPHABET[index as usize])
        })
        .collect()
}

impl StateVersion {
    /// Version 0 of a new log with a fresh epoch: the state before any change.
    pub fn initial() -> Self {
        Self { epoch: new_epoch(), version: 0 }
    }

    /// The version after one more committed change in the same log.
    pub fn next(&self) -> Self {
        Self { epoch: self.epoch.clone(), version: self.version.saturating_add(1) }
    }

    /// The strong ETag, quotes included: `"<epoch>.<version>"`.
    pub fn etag(&self) -> String {
        format!("\"{}.{}\"", self.epoch, self.version)
    }

    /// Parses a strong ETag made by [`StateVersion::etag`].
    pub fn parse_etag(text: &str) -> Result<Self, EtagError> {
        let tag = EntityTag::parse(text.trim())?;
        if tag.weak {
            return Err(EtagError::Weak);
        }
        Ok(tag.version)
    }

    /// Reads `<epoch>.<version>`, the text between an ETag's quotes.
    fn parse_opaque(opaque: &str) -> Result<Self, EtagError> {
        let not_ours = || EtagError::NotOurs(opaque.chars().take(MAX_EPOCH_CHARS * 2).collect());
        let (epoch, version) = opaque.rsplit_once('.').ok_or_else(not_ours)?;
        let epoch_valid = (1..=MAX_EPOCH_CHARS).contains(&epoch.len())
            && epoch.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit());
        // `u64::from_str` also takes a leading `+`; a version is digits only.
        let version_valid =
            (1..=MAX_VERSION_DIGITS).contains(&version.len()) && version.bytes().all(|byte| byte.is_ascii_digit());
        if !epoch_valid || !version_valid {
            return Err(not_ours());
        }
        let version = version.parse().map_err(|_| not_ours())?;
        Ok(Self { epoch: epoch.to_owned(), version })
    }
}

impl std::fmt::Display for StateVersion {
    /// The ETag form, `"<epoch>.<version>"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.etag())
    }
}

/// An ETag or `If-Match` / `If-None-Match` value that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EtagError {
    /// The header is empty or only commas.
    #[error("the header holds no entity tag; send \"<epoch>.<version>\" or *")]
    Empty,
    /// Not `"…"`, `W/"…"` or `*`.
    #[error("{0:?} is not an entity tag; send it with its quotes, as in \"<epoch>.<version>\"")]
    Malformed(String),
    /// A well-formed tag that this server never issues.
    #[error("\"{0}\" is not a dashboard version; expected \"<epoch>.<version>\"")]
    NotOurs(String),
    /// A weak tag where a strong one is needed.
    #[error("a weak entity tag (W/\"…\") cannot name an exact version")]
    Weak,
    /// `*` mixed with tags, which RFC 9110 does not allow.
    #[error("* must be the whole header, not part of a list")]
    StarInList,
}

/// One entity tag of a conditional header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// Sent as `W/"…"`.
    pub weak: bool,
    /// The version it names.
    pub version: StateVersion,
}

impl EntityTag {
    /// Parses `"<epoch>.<version>"` or `W/"<epoch>.<version>"` (no surrounding spaces).
    fn parse(text: &str) -> Result<Self, EtagError> {
        let malformed = || EtagError::Malformed(text.chars().take(2 * MAX_EPOCH_CHARS).collect());
        let (weak, quoted) = match text.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let opaque = quoted.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).ok_or_else(malformed)?;
        // RFC 9110 etagc: visible ASCII except `"` (obs-text is never ours anyway).
        if !opaque.bytes().all(|byte| (0x21..=0x7e).contains(&byte) && byte != b'"') {
            return Err(malformed());
        }
        Ok(Self { weak, version: StateVersion::parse_opaque(opaque)? })
    }
}

/// A parsed `If-Match` or `If-None-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// A list of tags.
    Tags(Vec<EntityTag>),
}

impl Precondition {
    /// Parses a header value: `*`, or a comma-separated list of tags (empty list items are skipped, as RFC 9110 §5.6.1 asks).
    pub fn parse(header: &str) -> Result<Self, EtagError> {
        let items: Vec<&str> = header.split(',').map(str::trim).filter(|item| !item.is_empty()).collect();
        if items.is_empty() {
            return Err(EtagError::Empty);
        }
        if items.contains(&"*") {
            return if items.len() == 1 { Ok(Self::Any) } else { Err(EtagError::StarInList) };
        }
        items.into_iter().map(EntityTag::parse).collect::<Result<_, _>>().map(Self::Tags)
    }

    /// Whether an `If-Match` with this value lets a write proceed against
    /// `current` (`None` when there is no state yet). Strong comparison: a weak
    /// tag never matches.
    pub fn if_match_passes(&self, current: Option<&StateVersion>) -> bool {
        let Some(current) = current else { return false };
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| !tag.weak && tag.version == *current),
        }
    }

    /// Whether an `If-None-Match` with this value lets the request proceed:
    /// `false` means "not modified" for a read (304) or "already exists" for a
    /// create (412). Weak comparison: `W/` is ignored.
    pub fn if_none_match_passes(&self, current: Option<&StateVersion>) -> bool {
        let Some(current) = current else { return true };
        match self {
            Self::Any => false,
            Self::Tags(tags) => !tags.iter().any(|tag| tag.version == *current),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn version(epoch: &str, version: u64) -> StateVersion {
        StateVersion { epoch: epoch.to_owned(), version }
    }

    #[test]
    fn epochs_are_13_lowercase_base32_characters_and_differ() {
        let epochs: HashSet<String> = (0..200).map(|_| new_epoch()).collect();
        assert_eq!(epochs.len(), 200);
        for epoch in &epochs {
            assert_eq!(epoch.len(), EPOCH_CHARS, "{epoch}");
            assert!(epoch.bytes().all(|byte| BASE32_ALPHABET.contains(&byte)), "{epoch}");
        }
    }

    #[test]
    fn etags_round_trip() {
        let current = StateVersion::initial().next().next();
        assert_eq!(current.version, 2);
        let etag = current.etag();
        assert!(etag.starts_with('"') && etag.ends_with(".2\""), "{etag}");
        assert_eq!(StateVersion::parse_etag(&etag), Ok(current.clone()));
        assert_eq!(current.to_string(), etag);
        assert_eq!(StateVersion::parse_etag("W/\"abc.1\""), Err(EtagError::Weak));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let cases = [
            ("", EtagError::Empty),
            (" , ", EtagError::Empty),
            ("abc.1", EtagError::Malformed("abc.1".to_owned())),
            ("\"abc.1", EtagError::Malformed("\"abc.1".to_owned())),
            ("w/\"abc.1\"", EtagError::Malformed("w/\"abc.1\"".to_owned())),
            ("\"abc 1\"", EtagError::Malformed("\"abc 1\"".to_owned())),
            ("\"abc\"", EtagError::NotOurs("abc".to_owned())),
            ("\"ABC.1\"", EtagError::NotOurs("ABC.1".to_owned())),
            ("\"abc.+1\"", EtagError::NotOurs("abc.+1".to_owned())),
            ("\"abc.99999999999999999999\"", EtagError::NotOurs("abc.99999999999999999999".to_owned())),
            ("\".1\"", EtagError::NotOurs(".1".to_owned())),
            ("*, \"abc.1\"", EtagError::StarInList),
        ];
        for (header, expected) in cases {
            assert_eq!(Precondition::parse(header), Err(expected), "{header}");
        }
        assert!(EtagError::Malformed("abc.1".to_owned()).to_string().contains("quotes"));
    }

    #[test]
    fn if_match_is_strong_and_needs_a_current_version() {
        let current = version("abc", 7);
        let header = Precondition::parse(r#""abc.6", "abc.7""#).unwrap();
        assert!(header.if_match_passes(Some(&current)));
        assert!(!header.if_match_passes(Some(&version("abd", 7))));
        assert!(!header.if_match_passes(None));
        assert!(!Precondition::parse("W/\"abc.7\"").unwrap().if_match_passes(Some(&current)));
        assert!(Precondition::parse("*").unwrap().if_match_passes(Some(&current)));
        assert!(!Precondition::parse("*").unwrap().if_match_passes(None));
    }

    #[test]
    fn if_none_match_is_weak() {
        let current = version("abc", 7);
        let header = Precondition::parse("W/\"abc.7\",").unwrap();
        assert_eq!(header, Precondition::Tags(vec![EntityTag { weak: true, version: current.clone() }]));
        assert!(!header.if_none_match_passes(Some(&current)));
        assert!(header.if_none_match_passes(Some(&version("abc", 8))));
        assert!(header.if_none_match_passes(None));
        assert!(!Precondition::parse(" * ").unwrap().if_none_match_passes(Some(&current)));
        assert!(Precondition::parse("*").unwrap().if_none_match_passes(None));
    }

    #[test]
    fn the_pattern_admits_exactly_the_headers_that_parse() {
        let schema = serde_json::json!({"type": "string", "pattern": PRECONDITION_PATTERN});
        let pattern = jsonschema::validator_for(&schema).expect("a valid pattern");
        let ours = StateVersion::initial().next().etag();
        let headers = [
            ours.as_str(),
            "*",
            " * ",
            ",*,",
            "\t\"abc.7\" , W/\"abc.8\",,",
            "\"a.0\"",
            "\"abc.1234567890123456789\"",
            "\"abc.12345678901234567890\"",
            "\"abc.99999999999999999999\"",
            "\"0123456789abcdefghijklmnopqrstuv.1\"",
            "\"0123456789abcdefghijklmnopqrstuvw.1\"",
            "",
            " , ",
            "null",
            "abc.1",
            "\"abc.1",
            "w/\"abc.1\"",
            "\"abc 1\"",
            "\"abc\"",
            "\"ABC.1\"",
            "\"abc.+1\"",
            "\"a.b.1\"",
            "\".1\"",
            "*, \"abc.1\"",
            "**",
            "\"abc.1\" \"abc.2\"",
            "\"abc.1\"W/\"abc.2\"",
        ];
        for header in headers {
            let admitted = pattern.is_valid(&serde_json::json!(header));
            assert_eq!(admitted, Precondition::parse(header).is_ok(), "{header:?}");
        }
    }
}
