//! Sign-in and sessions of people, apart from HTTP: checking a password with
//! the lockout, starting, finding, switching and ending sessions, and writing
//! the auth log.
//!
//! # Sessions
//!
//! A session's secret is 32 random bytes from the operating system, written as
//! unpadded base64url (43 characters) into the cookie; the store keeps only its
//! SHA-256 digest ([`digest_of`]), so neither a database dump nor a log line can
//! be replayed as a cookie. A session acts in one workspace with the role of the
//! account's member record there, read at every request, so a role change or a
//! removal applies at once; so does disabling the account. It ends after
//! [`SessionPolicy::idle_timeout`] without use, after
//! [`SessionPolicy::absolute_timeout`] whatever the use, on sign-out, and with
//! every other session of its account on "sign out everywhere". Starting one
//! deletes the session the browser had (rotation: a session id planted before
//! sign-in is worthless after it). Use is written back at most once per
//! [`TOUCH_INTERVAL`], so busy pages do not turn every read into a write.
//!
//! The CSRF token of a session ([`csrf_token_of`]) is derived from the secret
//! with a separate hash, so it needs no column, cannot be turned back into the
//! secret, and is known only to a page that was told it (`GET /api/me`).
//!
//! # Sign-in, enumeration and brute force
//!
//! [`sign_in`] answers [`SessionError::SignInRefused`] for an unknown email, a
//! wrong password, an account without a password and a disabled account alike,
//! and does the same work for each: an unknown email is verified against a
//! dummy hash ([`password::verify_against_dummy`]). Only the auth log tells them
//! apart (`detail`), never the client.
//!
//! The per-account lockout counts the `sign_in_failed` entries of the
//! normalised email in the auth log, so every node sees the same count and an
//! email without an account is locked exactly like one with. After
//! [`SessionPolicy::max_failures`] failures within
//! [`SessionPolicy::failure_window`] (and since the email's last success),
//! further attempts are refused with [`SessionError::Locked`] **before** the
//! password is looked at, until the oldest of those failures leaves the window.
//! The failure that reaches the limit writes one `locked` entry. Parallel
//! attempts that all pass the check before any failure is written can exceed
//! the limit by their number; the per-address rate limit of the HTTP edge bounds that.

use std::time::Duration;

use agentdeck_domain::auth::Role;
use agentdeck_domain::records::{
    Account, AuthEvent, AuthEventKind, MAX_AUTH_DETAIL_CHARS, MAX_PASSWORD_BYTES, MAX_USER_AGENT_CHARS, Membership,
    Session, normalize_email, stored_precision,
};
use agentdeck_storage::{StoreError, Stores};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::password::{self, PasswordError};

/// Random bytes in a session secret.
pub const SECRET_BYTES: usize = 32;
/// Characters of a session secret as the cookie carries it (unpadded base64url of [`SECRET_BYTES`]).
pub const SECRET_CHARS: usize = 43;
/// Longest time between two writes of a session's `last_seen_at`.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);
/// Longest client address an auth-log entry keeps, in characters.
const MAX_ADDRESS_CHARS: usize = 64;
/// Separates the CSRF token's hash from the digest's, so one never equals the other.
const CSRF_CONTEXT: &[u8] = b"agentdeck csrf token v1\0";

/// How sessions and sign-in behave (the `[sessions]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after it started, whatever its use.
    pub absolute_timeout: Duration,
    /// Failed sign-ins of one email within [`SessionPolicy::failure_window`] that lock it.
    pub max_failures: u32,
    /// The window the failures are counted in, and the longest a lock lasts.
    pub failure_window: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(8 * 3600),
            absolute_timeout: Duration::from_secs(7 * 24 * 3600),
            max_failures: 5,
            failure_window: Duration::from_secs(900),
        }
    }
}

/// Who is asking, for the auth log: the client's address and user agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address (as the HTTP edge determined it).
    pub address: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// Why a sign-in or session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Unknown email, wrong password, no password or disabled account: one answer for all.
    #[error("the email or password is wrong")]
    SignInRefused,
    /// Too many failed sign-ins for this email; nothing was checked.
    #[error("too many failed sign-ins for this email; retry in {} s", retry_after.as_secs().max(1))]
    Locked {
        /// Until the lock lifts.
        retry_after: Duration,
    },
    /// No session has this secret, or it ended (timed out, signed out, account disabled, membership gone).
    #[error("the session has ended; sign in again")]
    NoSession,
    /// The account is not a member of the workspace asked for (or it does not exist).
    #[error("no workspace with this id has the account as a member")]
    NotAMember,
    /// The workspace asked for is disabled.
    #[error("this workspace is disabled")]
    WorkspaceDisabled,
    /// The account is a member of no workspace that can be used.
    #[error("this account is not a member of any usable workspace")]
    NoUsableWorkspace,
    /// The operating system's random source failed.
    #[error("no randomness for a session secret: {0}")]
    Random(String),
    /// Hashing failed, or a stored hash is malformed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A session secret and the digest stored for it.
pub struct SessionSecret {
    /// The cookie's value (shown once; never stored).
    pub secret: String,
    /// Hex SHA-256 of the secret.
    pub digest: String,
}

// By hand, so that the secret never reaches a log line.
impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SessionSecret").field("digest", &self.digest).finish_non_exhaustive()
    }
}

/// Makes a new random session secret.
pub fn new_secret() -> Result<SessionSecret, SessionError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| SessionError::Random(error.to_string()))?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let digest = digest_of(&secret);
    Ok(SessionSecret { secret, digest })
}

/// The stored digest of a secret: hex SHA-256 of its text.
pub fn digest_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The CSRF token of the session with this secret (unpadded base64url of a separate SHA-256).
pub fn csrf_token_of(secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CSRF_CONTEXT);
    hasher.update(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// Compares two tokens in time that depends only on their lengths.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// Whether `value` has the shape of a secret (43 base64url characters), checked before any query.
pub fn is_secret_shaped(value: &str) -> bool {
    value.len() == SECRET_CHARS && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
}

/// Text fit for the auth log: one line (every control character dropped), at most `max` characters.
fn loggable(text: &str, max: usize) -> String {
    text.chars().filter(|character| !character.is_control()).take(max).collect()
}

/// An auth-log entry of `kind` for the client, with its text cleaned and bounded.
pub fn event(kind: AuthEventKind, client: &ClientInfo, now: DateTime<Utc>) -> AuthEvent {
    AuthEvent {
        client_address: client.address.as_deref().map(|address| loggable(address, MAX_ADDRESS_CHARS)),
        user_agent: client.user_agent.as_deref().map(|agent| loggable(agent, MAX_USER_AGENT_CHARS)),
        ..AuthEvent::new(kind, stored_precision(now))
    }
}

/// Appends an entry to the auth log and emits it as a `tracing` event (warn for `locked`, info otherwise).
pub async fn log_event(stores: &Stores, mut event: AuthEvent) -> Result<(), StoreError> {
    event.detail = event.detail.map(|detail| loggable(&detail, MAX_AUTH_DETAIL_CHARS));
    let account = event.account_id.map(|id| id.to_string()).unwrap_or_default();
    let workspace = event.workspace_id.map(|id| id.to_string()).unwrap_or_default();
    let (email, address) = (event.email.as_deref().unwrap_or(""), event.client_address.as_deref().unwrap_or(""));
    let detail = event.detail.as_deref().unwrap_or("");
    if event.kind == AuthEventKind::Locked {
        tracing::warn!(kind = %event.kind, account, workspace, email, client = address, detail, "auth event");
    } else {
        tracing::info!(kind = %event.kind, account, workspace, email, client = address, detail, "auth event");
    }
    stores.auth_log.append_auth_event(&event).await
}

/// Checks an email and password (see the module doc for what is refused and
/// how); returns the account on success. Failures and locks are logged here;
/// the success is logged by [`start`] with the session it makes.
pub async fn sign_in(
    stores: &Stores,
    policy: &SessionPolicy,
    email: &str,
    password: String,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<Account, SessionError> {
    let Ok(email) = normalize_email(email) else {
        // Not an address: no account can have it, and there is nothing to lock.
        let mut entry = event(AuthEventKind::SignInFailed, client, now);
        entry.detail = Some("invalid_email".into());
        log_event(stores, entry).await?;
        return Err(SessionError::SignInRefused);
    };
    let max_failures = policy.max_failures.max(1);
    let window = chrono::Duration::from_std(policy.failure_window).unwrap_or(chrono::Duration::MAX);
    let since = now.checked_sub_signed(window).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let failures = stores.auth_log.recent_sign_in_failures(&email, since, max_failures).await?;
    if let Some(oldest_counted) = failures.get(max_failures as usize - 1) {
        let unlocks = oldest_counted.checked_add_signed(window).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let retry_after = (unlocks - now).to_std().unwrap_or(Duration::ZERO).max(Duration::from_secs(1));
        tracing::info!(email, retry_after_secs = retry_after.as_secs(), "sign-in refused: locked");
        return Err(SessionError::Locked { retry_after });
    }

    let account = stores.accounts.find_account_by_email(&email).await?;
    let outcome = match &account {
        None => {
            password::verify_against_dummy(password).await;
            Err("unknown_email")
        }
        Some(account) => match &account.password_hash {
            None => {
                password::verify_against_dummy(password).await;
                Err("no_password")
            }
            // Longer than any password the policy accepts: it cannot match, and it is not worth hashing.
            Some(_) if password.len() > MAX_PASSWORD_BYTES => {
                password::verify_against_dummy(String::new()).await;
                Err("wrong_password")
            }
            Some(hash) => match password::verify_password(password, hash.clone()).await? {
                false => Err("wrong_password"),
                true if account.disabled => Err("disabled"),
                true => Ok(()),
            },
        },
    };
    match (outcome, account) {
        (Ok(()), Some(account)) => Ok(account),
        (outcome, account) => {
            let mut entry = event(AuthEventKind::SignInFailed, client, now);
            entry.account_id = account.as_ref().map(|account| account.id);
            entry.email = Some(email.clone());
            entry.detail = outcome.err().map(str::to_owned);
            log_event(stores, entry.clone()).await?;
            if failures.len() + 1 >= max_failures as usize {
                let locked = AuthEvent {
                    id: Uuid::now_v7(),
                    kind: AuthEventKind::Locked,
                    detail: Some(format!(
                        "{max_failures} failed sign-ins within {} s",
                        policy.failure_window.as_secs()
                    )),
                    ..entry
                };
                log_event(stores, locked).await?;
            }
            Err(SessionError::SignInRefused)
        }
    }
}

/// A session just started, with its secret (for the cookie) and where it acts.
#[derive(Debug)]
pub struct StartedSession {
    /// The cookie's value and its digest.
    pub secret: SessionSecret,
    /// The stored session.
    pub session: Session,
    /// The workspace it acts in, with the account's role there.
    pub membership: Membership,
}

/// The membership a session in `workspace_id` would use: that workspace (a
/// member of it, enabled), or with `None` the most recently joined usable one.
pub async fn pick_workspace(
    stores: &Stores,
    account_id: Uuid,
    workspace_id: Option<Uuid>,
) -> Result<Membership, SessionError> {
    let memberships = stores.sessions.list_memberships(account_id).await?;
    match workspace_id {
        Some(id) => {
            let membership = memberships
                .into_iter()
                .find(|membership| membership.workspace_id == id)
                .ok_or(SessionError::NotAMember)?;
            if membership.workspace_disabled {
                return Err(SessionError::WorkspaceDisabled);
            }
            Ok(membership)
        }
        None => memberships
            .into_iter()
            .find(|membership| !membership.workspace_disabled)
            .ok_or(SessionError::NoUsableWorkspace),
    }
}

/// What [`start`] starts.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// Whose session.
    pub account: &'a Account,
    /// The workspace to act in; `None`: the most recently joined usable one.
    pub workspace_id: Option<Uuid>,
    /// The digest of the session the request's cookie named, ended in the same write (rotation).
    pub replaces: Option<&'a str>,
    /// How the person signed in, for the auth log: `password`, `invitation`, `oidc:<provider>`.
    pub method: &'a str,
}

/// Starts a session for the account in its workspace (see [`pick_workspace`]),
/// ending the session it replaces in the same write, and logs `sign_in` with
/// the method as its detail.
pub async fn start(
    stores: &Stores,
    policy: &SessionPolicy,
    new: NewSession<'_>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<StartedSession, SessionError> {
    let NewSession { account, workspace_id, replaces, method } = new;
    if account.disabled {
        return Err(SessionError::SignInRefused);
    }
    let membership = pick_workspace(stores, account.id, workspace_id).await?;
    let now = stored_precision(now);
    let lifetime = chrono::Duration::from_std(policy.absolute_timeout).unwrap_or(chrono::Duration::MAX);
    let expires_at = now.checked_add_signed(lifetime).unwrap_or(DateTime::<Utc>::MAX_UTC);
    let secret = new_secret()?;
    let session = Session {
        id: Uuid::now_v7(),
        digest: secret.digest.clone(),
        account_id: account.id,
        workspace_id: membership.workspace_id,
        created_at: now,
        last_seen_at: now,
        expires_at: stored_precision(expires_at),
    };
    stores.sessions.insert_session(&session, replaces).await?;
    let mut entry = event(AuthEventKind::SignIn, client, now);
    entry.account_id = Some(account.id);
    entry.workspace_id = Some(membership.workspace_id);
    entry.email = Some(account.email.clone());
    entry.detail = Some(method.to_owned());
    log_event(stores, entry).await?;
    Ok(StartedSession { secret, session, membership })
}

/// A session that may act now, with the role its account has in its workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSession {
    /// The session.
    pub session: Session,
    /// The account's role in the session's workspace, read now.
    pub role: Role,
}

/// The live session of a cookie's secret: refused ([`SessionError::NoSession`])
/// when unknown, timed out (then deleted), its account disabled or no longer a
/// member of its workspace. Records its use at most once per [`TOUCH_INTERVAL`].
pub async fn authenticate(
    stores: &Stores,
    policy: &SessionPolicy,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<ActiveSession, SessionError> {
    if !is_secret_shaped(secret) {
        return Err(SessionError::NoSession);
    }
    authenticate_digest(stores, policy, &digest_of(secret), now).await
}

/// [`authenticate`] for the session whose secret has `digest`: what an open
/// sync socket re-checks. Counts as use like a request does, so a page whose
/// socket is open keeps its session from the idle timeout (not from the absolute one).
pub async fn authenticate_digest(
    stores: &Stores,
    policy: &SessionPolicy,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<ActiveSession, SessionError> {
    let lookup = stores.sessions.find_session(digest).await?.ok_or(SessionError::NoSession)?;
    let session = lookup.session;
    let idle = chrono::Duration::from_std(policy.idle_timeout).unwrap_or(chrono::Duration::MAX);
    let idle_ends = session.last_seen_at.checked_add_signed(idle).unwrap_or(DateTime::<Utc>::MAX_UTC);
    if now >= session.expires_at || now >= idle_ends {
        stores.sessions.delete_session(session.id).await?;
        return Err(SessionError::NoSession);
    }
    if lookup.account_disabled {
        return Err(SessionError::NoSession);
    }
    let role = lookup.role.ok_or(SessionError::NoSession)?.into();
    let interval = chrono::Duration::from_std(TOUCH_INTERVAL).unwrap_or(chrono::Duration::MAX);
    if let Some(not_before) = now.checked_sub_signed(interval)
        && session.last_seen_at < not_before
    {
        stores.sessions.touch_session(session.id, stored_precision(now), not_before).await?;
    }
    Ok(ActiveSession { session, role })
}

/// Ends one session and logs `sign_out`.
pub async fn sign_out(
    stores: &Stores,
    session: &Session,
    account: Option<&Account>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), SessionError> {
    stores.sessions.delete_session(session.id).await?;
    let mut entry = event(AuthEventKind::SignOut, client, now);
    entry.account_id = Some(session.account_id);
    entry.workspace_id = Some(session.workspace_id);
    entry.email = account.map(|account| account.email.clone());
    log_event(stores, entry).await?;
    Ok(())
}

/// Ends every session of the account and logs `sign_out_all`; returns how many ended.
pub async fn sign_out_everywhere(
    stores: &Stores,
    account: &Account,
    workspace_id: Option<Uuid>,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<u64, SessionError> {
    let ended = stores.sessions.delete_account_sessions(account.id).await?;
    let mut entry = event(AuthEventKind::SignOutAll, client, now);
    entry.account_id = Some(account.id);
    entry.workspace_id = workspace_id;
    entry.email = Some(account.email.clone());
    entry.detail = Some(format!("{ended} sessions ended"));
    log_event(stores, entry).await?;
    Ok(ended)
}

/// Moves a session to another workspace of its account: a new session (new
/// secret, same start and absolute end) replaces it, and `workspace_switch` is logged.
pub async fn switch_workspace(
    stores: &Stores,
    current: &Session,
    account: &Account,
    workspace_id: Uuid,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<StartedSession, SessionError> {
    let membership = pick_workspace(stores, account.id, Some(workspace_id)).await?;
    let secret = new_secret()?;
    let session = Session {
        id: Uuid::now_v7(),
        digest: secret.digest.clone(),
        workspace_id: membership.workspace_id,
        last_seen_at: stored_precision(now),
        ..current.clone()
    };
    stores.sessions.insert_session(&session, Some(&current.digest)).await?;
    let mut entry = event(AuthEventKind::WorkspaceSwitch, client, now);
    entry.account_id = Some(account.id);
    entry.workspace_id = Some(membership.workspace_id);
    entry.email = Some(account.email.clone());
    entry.detail = Some(format!("from {}", current.workspace_id));
    log_event(stores, entry).await?;
    Ok(StartedSession { secret, session, membership })
}

/// Deletes sessions past their absolute or idle timeout; returns how many.
pub async fn purge_ended(stores: &Stores, policy: &SessionPolicy, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let idle = chrono::Duration::from_std(policy.idle_timeout).unwrap_or(chrono::Duration::MAX);
    let idle_before = now.checked_sub_signed(idle).unwrap_or(DateTime::<Utc>::MIN_UTC);
    stores.sessions.purge_sessions(now, idle_before).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on a broken fixture")]

    use agentdeck_storage::testing::TestDatabase;
    use agentdeck_storage::{ConnectOptions, connect};

    use super::*;
    use crate::accounts::{NewWorkspace, create_workspace};

    const PASSWORD: &str = "a long enough passphrase";

    async fn stores(database: &TestDatabase) -> Stores {
        let stores = connect(&database.url, &ConnectOptions::default()).await.unwrap();
        stores.database.migrate().await.unwrap();
        stores
    }

    #[test]
    fn secrets_are_random_shaped_and_only_their_digest_is_kept() {
        let first = new_secret().unwrap();
        let second = new_secret().unwrap();
        assert_ne!(first.secret, second.secret);
        assert!(is_secret_shaped(&first.secret), "{}", first.secret);
        assert_eq!(first.digest, digest_of(&first.secret));
        assert_eq!(first.digest.len(), 64);
        assert!(!format!("{first:?}").contains(&first.secret), "Debug hides the secret");
        let csrf = csrf_token_of(&first.secret);
        assert_ne!(csrf, first.secret);
        assert_ne!(csrf, csrf_token_of(&second.secret));
        assert!(!first.digest.contains(&csrf) && !hex::encode(csrf.as_bytes()).contains(&first.digest));
        for bad in ["", "short", &"a".repeat(44), &format!("{}=", &first.secret[..42]), &"é".repeat(22)] {
            assert!(!is_secret_shaped(bad), "{bad}");
        }
    }

    #[test]
    fn token_comparison_needs_equal_text() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("ab", "abc"));
        assert!(!tokens_match("", "abc"));
    }

    #[test]
    fn log_text_is_cleaned_and_bounded() {
        let client =
            ClientInfo { address: Some("1".repeat(100)), user_agent: Some(format!("a\u{1b}b{}", "x".repeat(300))) };
        let entry = event(AuthEventKind::SignIn, &client, Utc::now());
        assert_eq!(entry.client_address.map(|address| address.len()), Some(MAX_ADDRESS_CHARS));
        let agent = entry.user_agent.unwrap();
        assert!(agent.starts_with("abx") && agent.chars().count() == MAX_USER_AGENT_CHARS, "{agent}");
    }

    #[tokio::test]
    async fn sign_in_locks_after_the_limit_until_the_window_passes() {
        let database = TestDatabase::sqlite().unwrap();
        let stores = stores(&database).await;
        let input = NewWorkspace { name: "Acme".into(), owner_email: "ada@example.org".into(), owner_name: None };
        create_workspace(&stores, input, || Ok(PASSWORD.into())).await.unwrap();
        let policy = SessionPolicy { max_failures: 3, ..SessionPolicy::default() };
        let client = ClientInfo::default();
        let now = Utc::now();
        let attempt = |password: &str, at: DateTime<Utc>| {
            let stores = stores.clone();
            let password = password.to_owned();
            let client = client.clone();
            async move { sign_in(&stores, &policy, "ADA@example.org", password, &client, at).await }
        };

        assert!(matches!(attempt("wrong password!", now).await, Err(SessionError::SignInRefused)));
        assert!(attempt(PASSWORD, now).await.is_ok(), "one failure does not lock");
        // The success was not a session (start logs that), so the first failure still counts: 1 + 2 = 3.
        for _ in 0..2 {
            assert!(matches!(attempt("wrong password!", now).await, Err(SessionError::SignInRefused)));
        }
        let Err(SessionError::Locked { retry_after }) = attempt(PASSWORD, now).await else { panic!("not locked") };
        assert!(retry_after > Duration::from_secs(890) && retry_after <= Duration::from_secs(900), "{retry_after:?}");
        let later = now + chrono::Duration::seconds(901);
        assert!(attempt(PASSWORD, later).await.is_ok(), "the lock lifts when the failures leave the window");

        let kinds: Vec<_> = stores
            .auth_log
            .list_auth_events(agentdeck_domain::page::PageRequest::first(50))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|entry| entry.kind)
            .collect();
        let locked = kinds.iter().filter(|kind| **kind == AuthEventKind::Locked).count();
        assert_eq!(locked, 1, "one lock entry: {kinds:?}");
    }
}
