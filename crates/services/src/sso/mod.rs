//! Single sign-on with OpenID Connect: the authorization code flow with PKCE,
//! `state` and `nonce`, and how a provider's answer becomes an account.
//!
//! # The flow
//!
//! 1. [`Sso::start`] makes a random `state`, a PKCE verifier (S256) and a
//!    `nonce`, stores them as a [`PendingOidcLogin`] in the records store (the
//!    `state` only as its SHA-256 digest) for [`PENDING_LOGIN_TTL`], and returns
//!    the provider's authorization URL. The edge also puts the clear `state` in
//!    a short-lived cookie, which binds the login to this browser.
//! 2. The provider sends the browser back to `{public_url}/api/auth/oidc/{id}/callback`
//!    with `code` and `state`. [`Sso::finish`] takes the pending login by the
//!    digest of `state` (one take only, on any node: it lives in the shared
//!    store), exchanges the code with the PKCE verifier, and verifies the ID
//!    token: signature against the provider's keys, issuer, audience (our client
//!    id), expiry and the `nonce`.
//! 3. The identity (issuer, subject) decides, see [`Resolution`]: an identity
//!    linked before signs in its account; a login started by a signed-in person
//!    to link links to that account; a provider with `link_verified_email` links
//!    to the account with that email only when the provider says the email is
//!    verified. Anything else is refused. An email alone never signs anyone in.
//!
//! # Providers that are down
//!
//! Each provider's discovery document (endpoints and signing keys) is fetched
//! at startup with a timeout ([`Sso::discover_all`]). A provider that does not
//! answer is logged and left undiscovered; the first login through it tries
//! again (at most once per [`RETRY_DISCOVERY_AFTER`]), so a provider being down
//! never stops the server, and one coming back is used without a restart.
//! Documents are refreshed after [`DISCOVERY_TTL`], which also picks up
//! rotated signing keys.

pub mod http;

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentdeck_domain::records::{
    Account, Identity, MAX_IDENTITY_TEXT_BYTES, PendingOidcLogin, normalize_email, stored_precision,
};
use agentdeck_storage::{StoreError, Stores};
use chrono::Utc;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use uuid::Uuid;

use self::http::ProviderHttp;
use crate::outbound::{OutboundHttp, error_chain};

/// How long a started login may take before its callback is refused.
pub const PENDING_LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a discovery document (endpoints, signing keys) is used before it is fetched again.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);
/// Shortest time between two attempts to discover a provider that failed.
pub const RETRY_DISCOVERY_AFTER: Duration = Duration::from_secs(10);
/// Longest answer time of a provider (each discovery, key, token or user info call).
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// One configured provider.
#[derive(Clone)]
pub struct ProviderConfig {
    /// URL-safe id, unique: the path segment of its routes and `oidc:<id>` in the auth log.
    pub id: String,
    /// Name shown on the sign-in button.
    pub name: String,
    /// Issuer URL; discovery reads `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret registered at the provider (`None`: a public client, PKCE only).
    pub client_secret: Option<String>,
    /// Scopes asked for (`openid` is always added).
    pub scopes: Vec<String>,
    /// Link an unknown identity to the account with its email when the provider says it is verified.
    pub link_verified_email: bool,
}

// By hand, so that the client secret never reaches a log line.
impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("scopes", &self.scopes)
            .field("link_verified_email", &self.link_verified_email)
            .finish()
    }
}

/// A provider as the sign-in page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSummary {
    /// Provider id (the path segment of its routes).
    pub id: String,
    /// Name shown on the button.
    pub name: String,
}

/// Why a single sign-on step failed. [`SsoError::code`] is what the page shows.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// No provider has this id.
    #[error("no sign-in provider has the id {0:?}")]
    UnknownProvider(String),
    /// The callback's `state` names no pending login: never issued, used already, or expired.
    #[error("the sign-in is unknown, used already or expired")]
    UnknownState,
    /// The callback's `state` is not the one this browser started.
    #[error("the sign-in was started in another browser or tab")]
    StateMismatch,
    /// The provider answered the authorization with an error (e.g. `access_denied`).
    #[error("the provider refused the sign-in: {0}")]
    ProviderRefused(String),
    /// The provider could not be reached or discovered, or answered the token request wrongly.
    #[error("the provider is unavailable: {0}")]
    ProviderUnavailable(String),
    /// The ID token failed verification (signature, issuer, audience, expiry, nonce) or is missing.
    #[error("the provider's ID token was refused: {0}")]
    InvalidToken(String),
    /// The identity is linked to no account, and none may be linked now.
    #[error("no account is linked to this identity")]
    NoAccount,
    /// The identity is linked to another account than the one linking it.
    #[error("this identity is linked to another account")]
    IdentityTaken,
    /// The account is disabled.
    #[error("the account is disabled")]
    AccountDisabled,
    /// The account has as many identities as it may have.
    #[error("the account has too many linked identities")]
    TooManyIdentities,
    /// The records store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SsoError {
    /// The short code the page shows a message for (`/#sso-error=<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::UnknownProvider(_) => "unknown_provider",
            SsoError::UnknownState => "expired",
            SsoError::StateMismatch => "state_mismatch",
            SsoError::ProviderRefused(_) => "access_denied",
            SsoError::ProviderUnavailable(_) => "provider_unavailable",
            SsoError::InvalidToken(_) => "invalid_token",
            SsoError::NoAccount => "no_account",
            SsoError::IdentityTaken => "identity_taken",
            SsoError::AccountDisabled => "account_disabled",
            SsoError::TooManyIdentities => "too_many_identities",
            SsoError::Store(_) => "unavailable",
        }
    }
}

/// A started login: where to send the browser, and the `state` to bind to it.
#[derive(Debug)]
pub struct StartedLogin {
    /// The provider's authorization URL.
    pub authorize_url: url::Url,
    /// The clear `state` (the store keeps its digest only).
    pub state: String,
}

/// What the callback's identity turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// An identity linked before: sign in its account.
    SignIn,
    /// Linked now to the signed-in account that started the login (no sign-in).
    Linked,
    /// Linked now by a verified email (`link_verified_email`), then signed in.
    LinkedByEmail,
}

/// The end of a successful callback.
#[derive(Debug, Clone)]
pub struct FinishedLogin {
    /// What happened.
    pub resolution: Resolution,
    /// The account signed in to or linked.
    pub account: Account,
    /// The identity used.
    pub identity: Identity,
    /// Where the page goes now.
    pub return_path: String,
}

/// The parameters a provider sends to the callback.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// `code`: the authorization code.
    pub code: Option<String>,
    /// `state`: names the pending login.
    pub state: Option<String>,
    /// `error`: the provider refused (e.g. `access_denied`).
    pub error: Option<String>,
}

/// A provider's discovery document, with when it was fetched.
struct Discovered {
    metadata: CoreProviderMetadata,
    at: Instant,
}

/// One provider and what is known of it.
struct Provider {
    config: ProviderConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    discovered: RwLock<Option<Discovered>>,
    /// When discovery last failed (spaces out retries).
    failed_at: RwLock<Option<Instant>>,
}

/// Single sign-on through the configured providers (cheap to clone).
#[derive(Clone)]
pub struct Sso {
    providers: Arc<Vec<Arc<Provider>>>,
    http: ProviderHttp,
    stores: Stores,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.providers.iter().map(|provider| provider.config.id.as_str()).collect();
        formatter.debug_struct("Sso").field("providers", &ids).finish()
    }
}

/// Why the providers' settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SsoConfigError {
    /// The issuer is not a URL.
    #[error("provider {id}: issuer {issuer:?} is not a URL")]
    Issuer {
        /// The provider.
        id: String,
        /// The issuer given.
        issuer: String,
    },
    /// The callback URL built from the public URL is not a URL.
    #[error("provider {id}: the callback URL {url:?} is not a URL (check public_url)")]
    Redirect {
        /// The provider.
        id: String,
        /// The URL built.
        url: String,
    },
    /// The HTTP client could not be built.
    #[error("the providers' HTTP client: {0}")]
    Http(#[from] http::ProviderHttpError),
}

impl Sso {
    /// The providers of `configs`; each one's callback is `{public_url}/api/auth/oidc/{id}/callback`.
    /// Nothing is fetched yet (see [`Sso::discover_all`]).
    pub fn new(
        configs: Vec<ProviderConfig>,
        public_url: &str,
        outbound: &OutboundHttp,
        stores: Stores,
    ) -> Result<Self, SsoConfigError> {
        let base = public_url.trim_end_matches('/');
        let mut providers = Vec::with_capacity(configs.len());
        for config in configs {
            let issuer = IssuerUrl::new(config.issuer.clone())
                .map_err(|_| SsoConfigError::Issuer { id: config.id.clone(), issuer: config.issuer.clone() })?;
            let url = format!("{base}/api/auth/oidc/{}/callback", config.id);
            let redirect =
                RedirectUrl::new(url.clone()).map_err(|_| SsoConfigError::Redirect { id: config.id.clone(), url })?;
            providers.push(Arc::new(Provider {
                config,
                issuer,
                redirect,
                discovered: RwLock::new(None),
                failed_at: RwLock::new(None),
            }));
        }
        Ok(Self { providers: Arc::new(providers), http: ProviderHttp::new(outbound, PROVIDER_TIMEOUT)?, stores })
    }

    /// The providers, in configuration order.
    pub fn providers(&self) -> Vec<ProviderSummary> {
        self.providers
            .iter()
            .map(|provider| ProviderSummary { id: provider.config.id.clone(), name: provider.config.name.clone() })
            .collect()
    }

    /// Whether any provider is configured.
    pub fn is_enabled(&self) -> bool {
        !self.providers.is_empty()
    }

    /// Discovers every provider at once, each within [`PROVIDER_TIMEOUT`]; a
    /// failure is logged and retried on first use. Returns the ids that failed.
    pub async fn discover_all(&self) -> Vec<String> {
        let attempts = self.providers.iter().map(|provider| async move {
            match self.discover(provider).await {
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(provider = %provider.config.id, error = %error,
                        "sign-in provider not discovered; will retry on first use");
                    Some(provider.config.id.clone())
                }
            }
        });
        futures::future::join_all(attempts).await.into_iter().flatten().collect()
    }

    /// Each provider's state for `/ready`: `Ok` when discovered, else why not (no network call).
    pub async fn status(&self) -> Vec<(String, Result<(), String>)> {
        let mut status = Vec::with_capacity(self.providers.len());
        for provider in self.providers.iter() {
            let known = provider.discovered.read().await.is_some();
            let state = if known { Ok(()) } else { Err("not discovered yet (unreachable at its last try)".to_owned()) };
            status.push((provider.config.id.clone(), state));
        }
        status
    }

    fn provider(&self, id: &str) -> Result<&Arc<Provider>, SsoError> {
        self.providers
            .iter()
            .find(|provider| provider.config.id == id)
            .ok_or_else(|| SsoError::UnknownProvider(id.chars().take(64).collect()))
    }

    /// The provider's discovery document: the one known if fresh, else fetched now.
    async fn discover(&self, provider: &Provider) -> Result<CoreProviderMetadata, SsoError> {
        if let Some(known) = provider.discovered.read().await.as_ref()
            && known.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(known.metadata.clone());
        }
        let stale = provider.discovered.read().await.as_ref().map(|known| known.metadata.clone());
        if let Some(failed_at) = *provider.failed_at.read().await
            && failed_at.elapsed() < RETRY_DISCOVERY_AFTER
        {
            // Failed a moment ago: use what is known, if anything, rather than hammer a provider that is down.
            return stale.ok_or_else(|| SsoError::ProviderUnavailable("discovery failed moments ago".into()));
        }
        match CoreProviderMetadata::discover_async(provider.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                *provider.discovered.write().await =
                    Some(Discovered { metadata: metadata.clone(), at: Instant::now() });
                *provider.failed_at.write().await = None;
                tracing::info!(provider = %provider.config.id, issuer = %provider.config.issuer, "discovered sign-in provider");
                Ok(metadata)
            }
            Err(error) => {
                *provider.failed_at.write().await = Some(Instant::now());
                let why = error_chain(&error);
                match stale {
                    // Keys that were good an hour ago beat no sign-in at all while the provider is down.
                    Some(metadata) => {
                        tracing::warn!(provider = %provider.config.id, error = %why, "refreshing the provider failed; using the last document");
                        Ok(metadata)
                    }
                    None => Err(SsoError::ProviderUnavailable(why)),
                }
            }
        }
    }

    fn client(provider: &Provider, metadata: CoreProviderMetadata) -> CoreClientFromMetadata {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(provider.config.client_id.clone()),
            provider.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(provider.redirect.clone())
    }

    /// Starts a login at provider `id`: `link_account` set when a signed-in
    /// account links an identity, `return_path` where the page goes afterwards
    /// (a path of this server; anything else becomes `/`).
    pub async fn start(
        &self,
        id: &str,
        link_account: Option<Uuid>,
        return_path: &str,
    ) -> Result<StartedLogin, SsoError> {
        let provider = self.provider(id)?;
        let metadata = self.discover(provider).await?;
        let client = Self::client(provider, metadata);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in &provider.config.scopes {
            if scope != "openid" {
                request = request.add_scope(Scope::new(scope.clone()));
            }
        }
        let (authorize_url, state, nonce) = request.url();
        let now = stored_precision(Utc::now());
        let ttl = chrono::Duration::from_std(PENDING_LOGIN_TTL).unwrap_or_else(|_| chrono::Duration::minutes(10));
        let login = PendingOidcLogin {
            state_digest: digest(state.secret()),
            provider: provider.config.id.clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            link_account_id: link_account,
            return_path: safe_return_path(return_path).to_owned(),
            created_at: now,
            expires_at: now + ttl,
        };
        self.stores.identities.insert_oidc_login(&login).await?;
        Ok(StartedLogin { authorize_url, state: state.secret().clone() })
    }

    /// Finishes a login at provider `id` from the callback's parameters;
    /// `browser_state` is the `state` the browser's cookie holds.
    pub async fn finish(
        &self,
        id: &str,
        callback: Callback,
        browser_state: Option<&str>,
    ) -> Result<FinishedLogin, SsoError> {
        let provider = self.provider(id)?;
        let state = callback.state.as_deref().filter(|state| !state.is_empty()).ok_or(SsoError::UnknownState)?;
        // The login is consumed before anything else, so a refused or replayed callback cannot be retried.
        let pending = self
            .stores
            .identities
            .take_oidc_login(&digest(state), stored_precision(Utc::now()))
            .await?
            .ok_or(SsoError::UnknownState)?;
        // Compared as digests: equal length, no early exit on the secret's bytes.
        if browser_state.map(digest) != Some(pending.state_digest.clone()) {
            return Err(SsoError::StateMismatch);
        }
        if pending.provider != provider.config.id {
            return Err(SsoError::UnknownState);
        }
        if let Some(error) = callback.error {
            return Err(SsoError::ProviderRefused(error.chars().take(64).collect()));
        }
        let code = callback.code.filter(|code| !code.is_empty()).ok_or(SsoError::InvalidToken("no code".into()))?;
        let claims = self.verified_claims(provider, &pending, code).await?;
        self.resolve(provider, pending, claims).await
    }

    /// Exchanges the code and verifies the ID token; reads the user info when
    /// the ID token lacks an email that linking by email would need.
    async fn verified_claims(
        &self,
        provider: &Provider,
        pending: &PendingOidcLogin,
        code: String,
    ) -> Result<VerifiedClaims, SsoError> {
        let metadata = self.discover(provider).await?;
        let client = Self::client(provider, metadata);
        let unavailable = |error: &dyn std::error::Error| SsoError::ProviderUnavailable(error_chain(error));
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| unavailable(&error))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| unavailable(&error))?;
        let id_token = token.id_token().ok_or_else(|| SsoError::InvalidToken("no ID token in the answer".into()))?;
        let verifier = client.id_token_verifier();
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = id_token.claims(&verifier, &nonce).map_err(|error| SsoError::InvalidToken(error_chain(&error)))?;
        let mut verified = VerifiedClaims {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|email| email.as_str().to_owned()),
            email_verified: claims.email_verified(),
        };
        if verified.issuer.len() > MAX_IDENTITY_TEXT_BYTES || verified.subject.len() > MAX_IDENTITY_TEXT_BYTES {
            return Err(SsoError::InvalidToken("issuer or subject too long".into()));
        }
        let needs_user_info = provider.config.link_verified_email
            && pending.link_account_id.is_none()
            && (verified.email.is_none() || verified.email_verified.is_none());
        if needs_user_info
            && let Ok(request) = client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        {
            match request.request_async::<_, _, _>(&self.http).await {
                Ok(info) => {
                    let info: CoreUserInfoClaims = info;
                    // The user info's subject was checked against the ID token's by the request.
                    if verified.email.is_none() {
                        verified.email = info.email().map(|email| email.as_str().to_owned());
                        verified.email_verified = info.email_verified();
                    } else if verified.email_verified.is_none()
                        && info.email().map(|email| email.as_str()) == verified.email.as_deref()
                    {
                        verified.email_verified = info.email_verified();
                    }
                }
                Err(error) => {
                    tracing::warn!(provider = %provider.config.id, error = %error_chain(&error), "user info not read")
                }
            }
        }
        Ok(verified)
    }

    /// Turns a verified identity into an account (see [`Resolution`]).
    async fn resolve(
        &self,
        provider: &Provider,
        pending: PendingOidcLogin,
        claims: VerifiedClaims,
    ) -> Result<FinishedLogin, SsoError> {
        let stores = &self.stores;
        let now = stored_precision(Utc::now());
        let return_path = pending.return_path.clone();
        if let Some(identity) = stores.identities.find_identity(&claims.issuer, &claims.subject).await? {
            let account = stores.accounts.get_account(identity.account_id).await?.ok_or(SsoError::NoAccount)?;
            if let Some(linking) = pending.link_account_id {
                if linking != account.id {
                    return Err(SsoError::IdentityTaken);
                }
                return Ok(FinishedLogin { resolution: Resolution::Linked, account, identity, return_path });
            }
            if account.disabled {
                return Err(SsoError::AccountDisabled);
            }
            stores.identities.mark_identity_used(identity.id, now).await?;
            let identity = Identity { last_used_at: Some(now), ..identity };
            return Ok(FinishedLogin { resolution: Resolution::SignIn, account, identity, return_path });
        }
        let email = claims.email.as_deref().and_then(|email| normalize_email(email).ok());
        let (account, resolution) = if let Some(linking) = pending.link_account_id {
            let account = stores.accounts.get_account(linking).await?.ok_or(SsoError::NoAccount)?;
            (account, Resolution::Linked)
        } else if provider.config.link_verified_email
            && claims.email_verified == Some(true)
            && let Some(email) = email.as_deref()
            && let Some(account) = stores.accounts.find_account_by_email(email).await?
        {
            (account, Resolution::LinkedByEmail)
        } else {
            return Err(SsoError::NoAccount);
        };
        if account.disabled {
            return Err(SsoError::AccountDisabled);
        }
        let identity = Identity {
            id: Uuid::now_v7(),
            account_id: account.id,
            provider: provider.config.id.clone(),
            issuer: claims.issuer,
            subject: claims.subject,
            email,
            created_at: now,
            last_used_at: (resolution == Resolution::LinkedByEmail).then_some(now),
        };
        match stores.identities.insert_identity(&identity).await {
            Ok(()) => {}
            // Linked by a concurrent callback for the same identity a moment ago.
            Err(StoreError::Duplicate { path }) if path == "/subject" => return Err(SsoError::IdentityTaken),
            Err(StoreError::Duplicate { .. }) => return Err(SsoError::TooManyIdentities),
            Err(StoreError::Conflict) => return Err(SsoError::NoAccount),
            Err(other) => return Err(other.into()),
        }
        Ok(FinishedLogin { resolution, account, identity, return_path })
    }
}

/// The client `from_provider_metadata` makes (its endpoint states spelled out once).
type CoreClientFromMetadata = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// What a verified ID token (and the user info) says of the person.
#[derive(Debug)]
struct VerifiedClaims {
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: Option<bool>,
}

/// SHA-256 of a secret, hex: what the store keeps of a `state`.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `path` when it is a path of this server (`/…`, not `//host` or `/\host`,
/// no control characters, at most 512 bytes), else `/`: a return path must never
/// send the browser to another site (open redirect).
pub fn safe_return_path(path: &str) -> &str {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 512
        && !path.chars().any(|character| character.is_control() || character == '\\');
    if local { path } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_this_server() {
        assert_eq!(safe_return_path("/"), "/");
        assert_eq!(safe_return_path("/#members"), "/#members");
        assert_eq!(safe_return_path("/projects?x=1"), "/projects?x=1");
        for foreign in ["https://evil.example", "//evil.example", "/\\evil.example", "evil", "", "/a\nb", "/a\\b"] {
            assert_eq!(safe_return_path(foreign), "/", "{foreign:?}");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(600))), "/");
    }

    #[test]
    fn state_digests_are_sha256_hex() {
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn every_error_has_a_page_code() {
        assert_eq!(SsoError::NoAccount.code(), "no_account");
        assert_eq!(SsoError::ProviderRefused("access_denied".into()).code(), "access_denied");
        assert_eq!(SsoError::UnknownState.code(), "expired");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = ProviderConfig {
            id: "corp".into(),
            name: "Corp".into(),
            issuer: "https://id.example.org".into(),
            client_id: "agentdeck".into(),
            client_secret: Some("s3cr3t-value".into()),
            scopes: vec![],
            link_verified_email: false,
        };
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }
}
