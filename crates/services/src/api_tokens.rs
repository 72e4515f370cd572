//! API tokens for scripts and agents: creating them (the text shown once),
//! and turning a presented token into the principal it acts as.
//!
//! # Two kinds
//!
//! - A **personal access token** acts as the account that made it, in the
//!   workspace that was the account's current one then. Its role is read from
//!   the account's member record on every request, so a role change applies at
//!   once, and a removed member or a disabled account is refused at once.
//! - A **service token** of a workspace acts as role `service` there, with
//!   the subject `svc:<token id>`; owners and admins make them for agents and
//!   integrations that should outlive any one person's membership.
//!
//! # Checking a token, step by step ([`authenticate`])
//!
//! 1. The text's shape and checksum ([`agentdeck_domain::api_tokens::parse_token`]):
//!    a mistyped or made-up token is refused before the database is asked, so
//!    guessing costs the server nothing but a CRC.
//! 2. Its SHA-256 digest is looked up (one indexed query). Only digests are
//!    stored; a leaked database holds no usable token. A plain digest suffices
//!    (no Argon2 as for passwords): the secret has ~190 random bits, so there is
//!    nothing to guess from a digest.
//! 3. Revoked and expired tokens are refused. No node caches the answer, so a
//!    revocation takes effect on the next request on every node.
//! 4. A personal token's account must be enabled and still a member of the
//!    token's workspace; the principal takes the member's current role.
//! 5. The last use is written at most once per [`LAST_USED_INTERVAL`] (the
//!    store's condition keeps that true across nodes too).
//!
//! Scopes (read, write, agents) are enforced by the HTTP edge, which knows the
//! method and route; this module only reports them.

use std::time::Duration;

use agentdeck_domain::api_tokens::{
    ApiToken, Scopes, TokenFormatError, TokenKind, display_prefix, generate_token, parse_token,
};
use agentdeck_domain::auth::{Principal, Role};
use agentdeck_domain::records::{AuthEventKind, MAX_NAME_CHARS, stored_precision};
use agentdeck_domain::validation::{ValidationErrors, Validator};
use agentdeck_storage::{StoreError, Stores, TokenOwner};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::accounts::sessions::{ClientInfo, event, log_event};

/// A use of a token is written at most this often.
pub const LAST_USED_INTERVAL: Duration = Duration::from_secs(60);
/// Most usable (unrevoked, unexpired) tokens one account, or one workspace's services, may hold.
pub const MAX_USABLE_TOKENS: u64 = 100;

/// How long tokens may live, from the `[tokens]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    /// The longest lifetime a token may be given, in days.
    pub max_days: u32,
    /// The lifetime of a token created without `expiresInDays` (capped at `max_days`).
    pub default_days: u32,
}

/// Why a token was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a well-formed token (refused without a lookup).
    #[error("malformed API token: {0}")]
    Malformed(#[from] TokenFormatError),
    /// No token has this text, or it was revoked.
    #[error("the API token is unknown or revoked")]
    Unknown,
    /// Past its expiry.
    #[error("the API token has expired")]
    Expired,
    /// The account of a personal token is disabled or gone.
    #[error("the API token's account is disabled")]
    AccountDisabled,
    /// The account of a personal token is no longer a member of its workspace.
    #[error("the API token's account is no longer a member of its workspace")]
    NotAMember,
    /// The caller may not make this token.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The input breaks a rule (name, scopes).
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// `expiresInDays` is 0 or above the configured maximum.
    #[error("expiresInDays must be between 1 and {max_days} (tokens.max_lifetime_days)")]
    Lifetime {
        /// The configured maximum.
        max_days: u32,
    },
    /// The owner already holds the most usable tokens allowed.
    #[error("at most {limit} usable tokens are allowed here; revoke one first")]
    TooMany {
        /// The limit.
        limit: u64,
    },
    /// The operating system gave no randomness.
    #[error("no randomness for a new token: {0}")]
    NoRandomness(String),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a new token is asked to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Name to tell it apart (1–200 characters, trimmed).
    pub name: String,
    /// What it may be used for (at least one).
    pub scopes: Scopes,
    /// Days until it expires (1 to the maximum); `None` for the default.
    pub expires_in_days: Option<u32>,
}

/// A token just made: its text (shown this once) and its record.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    /// The token text; not stored anywhere.
    pub token: String,
    /// What lists show of it.
    pub record: ApiToken,
}

/// Who a presented token acts as.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    /// The principal: the account with its current role, or `svc:<id>` as `service`.
    pub principal: Principal,
    /// The token's record (id, kind, scopes).
    pub token: ApiToken,
}

/// The stored form of a token: the hex SHA-256 digest of its text.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Makes a personal access token for `account_id` acting in `workspace_id`
/// (which the account must be a member of). The caller (the HTTP edge) has
/// made sure the request comes from that person, not from another token.
pub async fn create_personal(
    stores: &Stores,
    lifetimes: TokenLifetimes,
    account_id: Uuid,
    workspace_id: Uuid,
    input: NewApiToken,
    client: &ClientInfo,
) -> Result<CreatedToken, TokenError> {
    let now = stored_precision(Utc::now());
    let expires_at = check_input(&input, lifetimes, now)?;
    let account = stores.accounts.get_account(account_id).await?;
    if account.is_none_or(|account| account.disabled) {
        return Err(TokenError::Forbidden("only an enabled account may create personal access tokens"));
    }
    let account_text = account_id.to_string();
    if stores.members.find_member_by_user(workspace_id, &account_text).await?.is_none() {
        return Err(TokenError::Forbidden("only a member of the workspace may create a token for it"));
    }
    let owner = TokenOwner::Account(account_id);
    let created = create(
        stores,
        owner,
        TokenKind::Personal,
        workspace_id,
        Some(account_id),
        account_text,
        input,
        now,
        expires_at,
    )
    .await?;
    audit(stores, AuthEventKind::TokenCreated, &created.record, Some(account_id), client, now).await;
    Ok(created)
}

/// Makes a service token of the creator's workspace; only its owners and admins may.
pub async fn create_service(
    stores: &Stores,
    lifetimes: TokenLifetimes,
    creator: &Principal,
    input: NewApiToken,
    client: &ClientInfo,
) -> Result<CreatedToken, TokenError> {
    require_token_manager(creator)?;
    let now = stored_precision(Utc::now());
    let expires_at = check_input(&input, lifetimes, now)?;
    let workspace_id = creator.workspace_id;
    let owner = TokenOwner::WorkspaceServices(workspace_id);
    let created_by = creator.subject.clone();
    let created =
        create(stores, owner, TokenKind::Service, workspace_id, None, created_by, input, now, expires_at).await?;
    let actor = Uuid::parse_str(&creator.subject).ok();
    audit(stores, AuthEventKind::TokenCreated, &created.record, actor, client, now).await;
    Ok(created)
}

/// Writes a token's creation or revocation to the auth log (detail: kind, id and
/// scopes, never the text). The token is made or revoked already, so a failed
/// write is logged rather than turned into a failed request.
async fn audit(
    stores: &Stores,
    kind: AuthEventKind,
    token: &ApiToken,
    actor: Option<Uuid>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) {
    let mut entry = event(kind, client, now);
    entry.account_id = actor;
    entry.workspace_id = Some(token.workspace_id);
    entry.detail = Some(format!("{} {} {}", token.kind.as_str(), token.id, token.scopes.to_stored()));
    if let Err(error) = log_event(stores, entry).await {
        tracing::warn!(token = %token.id, error = %error, "could not write the auth log entry of an API token");
    }
}

/// Refuses callers other than the workspace's owners and admins.
pub fn require_token_manager(principal: &Principal) -> Result<(), TokenError> {
    if matches!(principal.role, Role::Owner | Role::Admin) {
        Ok(())
    } else {
        Err(TokenError::Forbidden("only owners and admins may manage service tokens"))
    }
}

/// Checks name, scopes and lifetime; returns the expiry.
fn check_input(
    input: &NewApiToken,
    lifetimes: TokenLifetimes,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, TokenError> {
    let max_days = lifetimes.max_days.max(1);
    let days = input.expires_in_days.unwrap_or(lifetimes.default_days.clamp(1, max_days));
    if days == 0 || days > max_days {
        return Err(TokenError::Lifetime { max_days });
    }
    let mut validator = Validator::new();
    validator.text("/name", &input.name, 1, MAX_NAME_CHARS);
    if input.scopes.is_empty() {
        validator.error("/scopes", "must name at least one of read, write, agents");
    }
    validator.finish()?;
    Ok(now + chrono::Duration::days(i64::from(days)))
}

/// Counts, generates and stores a token.
#[allow(clippy::too_many_arguments)] // one private step shared by both kinds
async fn create(
    stores: &Stores,
    owner: TokenOwner,
    kind: TokenKind,
    workspace_id: Uuid,
    account_id: Option<Uuid>,
    created_by: String,
    input: NewApiToken,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<CreatedToken, TokenError> {
    if stores.api_tokens.count_usable_api_tokens(owner, now).await? >= MAX_USABLE_TOKENS {
        return Err(TokenError::TooMany { limit: MAX_USABLE_TOKENS });
    }
    let token = generate_token(kind, getrandom::fill).map_err(|error| TokenError::NoRandomness(error.to_string()))?;
    let record = ApiToken {
        id: Uuid::now_v7(),
        kind,
        workspace_id,
        account_id,
        name: input.name.trim().to_owned(),
        scopes: input.scopes,
        prefix: display_prefix(&token),
        created_by,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    stores.api_tokens.insert_api_token(&record, &digest(&token)).await?;
    Ok(CreatedToken { token, record })
}

/// Revokes one of the owner's tokens; another owner's token or an unknown id
/// is [`StoreError::NotFound`] (404 at the edge, as for any foreign id).
pub async fn revoke(
    stores: &Stores,
    owner: TokenOwner,
    id: Uuid,
    revoked_by: &str,
    client: &ClientInfo,
) -> Result<ApiToken, TokenError> {
    let now = stored_precision(Utc::now());
    let token = stores.api_tokens.revoke_api_token(owner, id, now).await?;
    let actor = Uuid::parse_str(revoked_by).ok();
    audit(stores, AuthEventKind::TokenRevoked, &token, actor, client, now).await;
    Ok(token)
}

/// Checks a presented token (see the module doc for the steps) and returns who it acts as.
pub async fn authenticate(stores: &Stores, text: &str, now: DateTime<Utc>) -> Result<TokenCaller, TokenError> {
    let parsed = parse_token(text)?;
    let token = stores.api_tokens.find_api_token_by_digest(&digest(text)).await?.ok_or(TokenError::Unknown)?;
    // The digest covers the prefix, so the kinds agree unless a row was written wrongly; refuse rather than guess.
    if token.kind != parsed.kind {
        return Err(TokenError::Unknown);
    }
    let principal = principal_of(stores, &token, now).await?;
    let stale = token
        .last_used_at
        .is_none_or(|last| now - last >= chrono::Duration::from_std(LAST_USED_INTERVAL).unwrap_or_default());
    if stale {
        // A failed write of the last use must not refuse a valid request.
        if let Err(error) = stores.api_tokens.touch_api_token(token.id, stored_precision(now), LAST_USED_INTERVAL).await
        {
            tracing::warn!(token = %token.id, error = %error, "could not record the API token's last use");
        }
    }
    Ok(TokenCaller { principal, token })
}

/// Checks again, by the digest of its text, a token that authenticated earlier
/// (what an open sync socket re-checks): steps 3 and 4 of the module doc, no
/// use recorded. Answers the principal it acts as now.
pub async fn recheck(stores: &Stores, digest: &str, now: DateTime<Utc>) -> Result<Principal, TokenError> {
    let token = stores.api_tokens.find_api_token_by_digest(digest).await?.ok_or(TokenError::Unknown)?;
    principal_of(stores, &token, now).await
}

/// Whom a stored token acts as at `now`: refused when revoked, expired, or for
/// a personal token whose account is disabled or no longer a member.
async fn principal_of(stores: &Stores, token: &ApiToken, now: DateTime<Utc>) -> Result<Principal, TokenError> {
    if token.revoked_at.is_some() {
        return Err(TokenError::Unknown);
    }
    if now >= token.expires_at {
        return Err(TokenError::Expired);
    }
    let principal = match (token.kind, token.account_id) {
        (TokenKind::Service, _) => {
            Principal { subject: format!("svc:{}", token.id), workspace_id: token.workspace_id, role: Role::Service }
        }
        (TokenKind::Personal, None) => return Err(TokenError::AccountDisabled),
        (TokenKind::Personal, Some(account_id)) => {
            let account = stores.accounts.get_account(account_id).await?;
            if account.is_none_or(|account| account.disabled) {
                return Err(TokenError::AccountDisabled);
            }
            let subject = account_id.to_string();
            let member = stores
                .members
                .find_member_by_user(token.workspace_id, &subject)
                .await?
                .ok_or(TokenError::NotAMember)?;
            Principal { subject, workspace_id: token.workspace_id, role: member.role.into() }
        }
    };
    Ok(principal)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on a broken fixture")]

    use agentdeck_domain::api_tokens::TOKEN_CHARS;
    use agentdeck_storage::testing::TestDatabase;
    use agentdeck_storage::{ConnectOptions, connect};

    use super::*;

    #[tokio::test]
    async fn a_bad_checksum_is_refused_without_a_store_lookup() {
        // A database that was never migrated: any lookup fails with a store error (no such table),
        // so an answer other than a store error proves no query ran.
        let database = TestDatabase::sqlite().unwrap();
        let stores = connect(&database.url, &ConnectOptions::default()).await.unwrap();
        let token = generate_token(TokenKind::Personal, getrandom::fill).unwrap();

        let result = authenticate(&stores, &token, Utc::now()).await;
        assert!(matches!(result, Err(TokenError::Store(_))), "a well-formed token is looked up: {result:?}");

        let last = token.chars().last().unwrap();
        let flipped = if last == '0' { '1' } else { '0' };
        let mistyped = format!("{}{flipped}", &token[..TOKEN_CHARS - 1]);
        let result = authenticate(&stores, &mistyped, Utc::now()).await;
        assert!(matches!(result, Err(TokenError::Malformed(TokenFormatError::Checksum))), "{result:?}");
        let result = authenticate(&stores, "adk_pat_short", Utc::now()).await;
        assert!(matches!(result, Err(TokenError::Malformed(TokenFormatError::Length))), "{result:?}");
    }

    #[test]
    fn lifetimes_are_checked_against_the_maximum() {
        let lifetimes = TokenLifetimes { max_days: 30, default_days: 90 };
        let now = stored_precision(Utc::now());
        let input = |days| NewApiToken { name: "ci".into(), scopes: Scopes::all(), expires_in_days: days };
        assert_eq!(
            check_input(&input(None), lifetimes, now).unwrap(),
            now + chrono::Duration::days(30),
            "default capped"
        );
        assert_eq!(check_input(&input(Some(7)), lifetimes, now).unwrap(), now + chrono::Duration::days(7));
        assert!(matches!(check_input(&input(Some(31)), lifetimes, now), Err(TokenError::Lifetime { max_days: 30 })));
        assert!(matches!(check_input(&input(Some(0)), lifetimes, now), Err(TokenError::Lifetime { .. })));
        let unnamed = NewApiToken { name: "  ".into(), scopes: Scopes::NONE, expires_in_days: None };
        let Err(TokenError::Invalid(errors)) = check_input(&unnamed, lifetimes, now) else { panic!("invalid") };
        let paths: Vec<_> = errors.0.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["/name", "/scopes"]);
    }

    #[test]
    fn digests_are_hex_sha256() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
