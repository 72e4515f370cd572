//! API tokens for scripts and agents: their kinds, scopes, record and the text
//! format of the secret itself.
//!
//! # The format
//!
//! A token reads `adk_pat_<32 base62 characters><6 base62 characters>` for a
//! personal access token and `adk_svc_…` for a workspace service token:
//!
//! | part | length | what |
//! |---|---|---|
//! | prefix | 8 | `adk_pat_` or `adk_svc_`: the kind, readable by people and scanners |
//! | secret | 32 | base62 characters drawn uniformly at random (≈ 190 bits) |
//! | checksum | 6 | CRC32 of prefix and secret, in base62, zero-padded |
//!
//! This is the layout GitHub chose for its tokens, for the same two reasons.
//! A typed prefix lets secret scanners (GitHub's push protection, gitleaks,
//! trufflehog) recognise a leaked token with one pattern, and the checksum
//! lets them tell a real token from a random string of the same shape offline,
//! without asking this server. The server itself uses the checksum to refuse
//! a mistyped or made-up token before any database lookup ([`parse_token`]).
//!
//! The checksum is not a secret and proves nothing about who made the token:
//! anyone can compute a CRC. What makes a token valid is its SHA-256 digest
//! being stored; the clear text is shown once, when it is created, and never
//! stored.
//!
//! Nothing here draws randomness or hashes: [`generate_token`] takes the
//! random source as an argument, so this module stays pure and its tests
//! deterministic.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every token starts with this; the bearer extractor tells API tokens from JWTs by it.
pub const TOKEN_MARKER: &str = "adk_";
/// Characters of the random part.
pub const SECRET_CHARS: usize = 32;
/// Characters of the checksum.
pub const CHECKSUM_CHARS: usize = 6;
/// Characters of a whole token (prefix, secret, checksum).
pub const TOKEN_CHARS: usize = 8 + SECRET_CHARS + CHECKSUM_CHARS;
/// Characters of the secret shown in lists after the prefix (`adk_pat_AbC1…`).
pub const DISPLAY_SECRET_CHARS: usize = 4;

/// The base62 digits, in value order.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Random bytes at or above this are redrawn, so each of the 62 digits is equally likely (248 = 4 × 62).
const UNBIASED_LIMIT: u8 = 248;

/// Who a token acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Acts as the account that made it, with its current role in one workspace.
    Personal,
    /// Acts as role `service` in one workspace; made by an owner or admin.
    Service,
}

impl TokenKind {
    /// Both kinds.
    pub const ALL: [TokenKind; 2] = [TokenKind::Personal, TokenKind::Service];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Service => "service",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The token text's prefix: `adk_pat_` or `adk_svc_`.
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Personal => "adk_pat_",
            TokenKind::Service => "adk_svc_",
        }
    }
}

/// One thing a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `GET` and `HEAD` on `/api/*`.
    Read,
    /// Every other method on `/api/*` (`POST /api/ask` included).
    Write,
    /// The A2A agents (`/a2a/*`) and the sync socket (`/api/sync`, `/api/ws-ticket`).
    Agents,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Agents];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Agents => "agents",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Write => 2,
            Scope::Agents => 4,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A set of scopes; serialized as a list in canonical order (`["read", "write"]`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// No scope at all (a token needs at least one).
    pub const NONE: Scopes = Scopes(0);

    /// Every scope.
    pub fn all() -> Scopes {
        Scope::ALL.into_iter().collect()
    }

    /// Whether the set holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes held, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |scope| self.contains(*scope))
    }

    /// Stored form: the names joined by commas, canonical order (`read,write`).
    pub fn to_stored(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// Reads the stored form; `None` if a name is unknown.
    pub fn from_stored(text: &str) -> Option<Scopes> {
        if text.is_empty() {
            return Some(Scopes::NONE);
        }
        text.split(',').map(Scope::parse).collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        Scopes(scopes.into_iter().fold(0, |bits, scope| bits | scope.bit()))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Scope>::deserialize(deserializer)?.into_iter().collect())
    }
}

/// A stored API token, as lists show it: never the token text nor its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    /// Token id (uuid v7).
    pub id: Uuid,
    /// Personal or service.
    pub kind: TokenKind,
    /// The workspace the token acts in (fixed at creation).
    pub workspace_id: Uuid,
    /// The account a personal token acts as; `None` for a service token.
    pub account_id: Option<Uuid>,
    /// Name given by its creator, to tell tokens apart (1–200 characters).
    pub name: String,
    /// What it may be used for.
    #[schema(value_type = Vec<Scope>)]
    pub scopes: Scopes,
    /// The start of the token, for recognising it: `adk_pat_AbC1…`.
    pub prefix: String,
    /// Who created it (the creator's subject: an account id, or a JWT's subject).
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was last used (kept to within a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; revoked tokens are refused and left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token may be used at `now`: not revoked and not expired.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// Why a text is not a well-formed API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// Neither `adk_pat_` nor `adk_svc_`.
    #[error("the token does not start with adk_pat_ or adk_svc_")]
    UnknownPrefix,
    /// Too short or too long.
    #[error("the token is not {TOKEN_CHARS} characters long")]
    Length,
    /// A character outside `0-9A-Za-z` after the prefix.
    #[error("the token holds a character that is not a letter or digit")]
    Character,
    /// The checksum does not match: mistyped, truncated or made up.
    #[error("the token's checksum does not match (mistyped or not a real token)")]
    Checksum,
}

/// What a well-formed token says about itself before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedToken {
    /// The kind its prefix names.
    pub kind: TokenKind,
}

/// Makes a new token of `kind`, drawing random bytes from `fill` (the OS's
/// generator in production) until 32 unbiased base62 characters are found.
pub fn generate_token<E>(kind: TokenKind, mut fill: impl FnMut(&mut [u8]) -> Result<(), E>) -> Result<String, E> {
    let mut token = String::with_capacity(TOKEN_CHARS);
    token.push_str(kind.prefix());
    let mut drawn = 0;
    // Each byte is kept with probability 248/256, so one buffer almost always suffices.
    let mut buffer = [0u8; 64];
    while drawn < SECRET_CHARS {
        fill(&mut buffer)?;
        for byte in buffer {
            if drawn == SECRET_CHARS {
                break;
            }
            if byte < UNBIASED_LIMIT {
                token.push(char::from(BASE62[usize::from(byte % 62)]));
                drawn += 1;
            }
        }
    }
    token.push_str(&checksum(&token));
    Ok(token)
}

/// Checks a token's shape and checksum (no lookup, constant work): prefix,
/// length, characters, then the CRC32 of everything before the checksum.
pub fn parse_token(token: &str) -> Result<ParsedToken, TokenFormatError> {
    let kind = TokenKind::ALL
        .into_iter()
        .find(|kind| token.starts_with(kind.prefix()))
        .ok_or(TokenFormatError::UnknownPrefix)?;
    if token.len() != TOKEN_CHARS {
        return Err(TokenFormatError::Length);
    }
    let rest = &token.as_bytes()[kind.prefix().len()..];
    if !rest.iter().all(u8::is_ascii_alphanumeric) {
        return Err(TokenFormatError::Character);
    }
    // All ASCII from here on, so byte offsets are character offsets.
    let (body, sum) = token.split_at(TOKEN_CHARS - CHECKSUM_CHARS);
    if checksum(body) != sum {
        return Err(TokenFormatError::Checksum);
    }
    Ok(ParsedToken { kind })
}

/// The prefix lists show: kind prefix, the first characters of the secret, an ellipsis.
pub fn display_prefix(token: &str) -> String {
    let shown: String = token.chars().take(8 + DISPLAY_SECRET_CHARS).collect();
    format!("{shown}…")
}

/// The CRC32 (IEEE) of `body` as 6 base62 digits, most significant first.
fn checksum(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    // 62^6 > 2^32, so nothing is left over; the digits are ASCII.
    digits.iter().map(|&byte| char::from(byte)).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A deterministic "random" source: a counter, so tests repeat.
    fn counter(start: u8) -> impl FnMut(&mut [u8]) -> Result<(), ()> {
        let mut next = start;
        move |buffer: &mut [u8]| {
            for byte in buffer.iter_mut() {
                *byte = next;
                next = next.wrapping_add(1);
            }
            Ok(())
        }
    }

    fn from_seed(seed: Vec<u8>) -> impl FnMut(&mut [u8]) -> Result<(), ()> {
        let mut index = 0usize;
        move |buffer: &mut [u8]| {
            for byte in buffer.iter_mut() {
                *byte = seed[index % seed.len()].wrapping_add((index / seed.len()) as u8);
                index += 1;
            }
            Ok(())
        }
    }

    #[test]
    fn a_token_has_the_documented_shape() {
        let token = generate_token(TokenKind::Personal, counter(0)).unwrap();
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(token.starts_with("adk_pat_"));
        assert_eq!(&token[8..12], "0123", "bytes below 62 are their own digit");
        assert_eq!(parse_token(&token), Ok(ParsedToken { kind: TokenKind::Personal }));
        let service = generate_token(TokenKind::Service, counter(7)).unwrap();
        assert_eq!(parse_token(&service), Ok(ParsedToken { kind: TokenKind::Service }));
        assert_eq!(display_prefix(&token), "adk_pat_0123…");
    }

    #[test]
    fn biased_bytes_are_redrawn() {
        // Only bytes ≥ 248 at first: none may be used, so the generator must ask again.
        let mut calls = 0;
        let token = generate_token(TokenKind::Service, |buffer: &mut [u8]| {
            calls += 1;
            buffer.fill(if calls == 1 { 250 } else { 61 });
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(&token[8..40], "z".repeat(32));
    }

    #[test]
    fn a_failing_source_is_reported() {
        assert_eq!(generate_token(TokenKind::Personal, |_: &mut [u8]| Err("no entropy")), Err("no entropy"));
    }

    #[test]
    fn malformed_tokens_name_what_is_wrong() {
        let token = generate_token(TokenKind::Personal, counter(3)).unwrap();
        assert_eq!(parse_token("eyJhbGciOiJIUzI1NiJ9.e30.x"), Err(TokenFormatError::UnknownPrefix));
        assert_eq!(parse_token("adk_xyz_0123"), Err(TokenFormatError::UnknownPrefix));
        assert_eq!(parse_token(&token[..TOKEN_CHARS - 1]), Err(TokenFormatError::Length));
        assert_eq!(parse_token(&format!("{token}0")), Err(TokenFormatError::Length));
        let mut bad = token.clone();
        bad.replace_range(10..11, "-");
        assert_eq!(parse_token(&bad), Err(TokenFormatError::Character));
        // A multi-byte character of the right byte length is a bad character, not a panic.
        let mut wide = token[..TOKEN_CHARS - 2].to_owned();
        wide.push('é');
        assert_eq!(parse_token(&wide), Err(TokenFormatError::Character));
    }

    #[test]
    fn scopes_round_trip_through_storage_and_json() {
        let scopes: Scopes = [Scope::Agents, Scope::Read].into_iter().collect();
        assert_eq!(scopes.to_stored(), "read,agents");
        assert_eq!(Scopes::from_stored("read,agents"), Some(scopes));
        assert_eq!(Scopes::from_stored(""), Some(Scopes::NONE));
        assert_eq!(Scopes::from_stored("read,admin"), None);
        assert_eq!(serde_json::to_value(scopes).unwrap(), serde_json::json!(["read", "agents"]));
        let parsed: Scopes = serde_json::from_value(serde_json::json!(["write", "write"])).unwrap();
        assert_eq!(parsed.iter().collect::<Vec<_>>(), vec![Scope::Write]);
        assert!(serde_json::from_value::<Scopes>(serde_json::json!(["root"])).is_err());
        assert!(Scopes::all().contains(Scope::Agents) && !Scopes::NONE.contains(Scope::Read));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in TokenKind::ALL {
            assert_eq!(TokenKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TokenKind::parse("admin"), None);
    }

    proptest! {
        #[test]
        fn every_generated_token_parses_as_its_kind(seed in proptest::collection::vec(any::<u8>(), 1..80), service in any::<bool>()) {
            let kind = if service { TokenKind::Service } else { TokenKind::Personal };
            let token = generate_token(kind, from_seed(seed)).unwrap();
            prop_assert_eq!(token.len(), TOKEN_CHARS);
            prop_assert_eq!(parse_token(&token), Ok(ParsedToken { kind }));
        }

        #[test]
        fn any_single_character_change_is_caught(
            seed in proptest::collection::vec(any::<u8>(), 1..80),
            position in 8..TOKEN_CHARS,
            replacement in 0usize..62,
        ) {
            let token = generate_token(TokenKind::Personal, from_seed(seed)).unwrap();
            let replacement = char::from(BASE62[replacement]);
            let original = token.as_bytes()[position];
            prop_assume!(char::from(original) != replacement);
            let mut changed = token.clone();
            changed.replace_range(position..=position, &replacement.to_string());
            // CRC32 detects every single-symbol change of a message this short.
            prop_assert_eq!(parse_token(&changed), Err(TokenFormatError::Checksum));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
            let _ = parse_token(&text);
        }
    }
}
