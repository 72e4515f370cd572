//! Bearer tokens minted here with the server's HS256 secret (the claims of
//! `agentdeck_services::auth::Claims`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use uuid::Uuid;

/// The workspace the server seeds in dev mode.
pub const DEMO_WORKSPACE: &str = "00000000-0000-7000-8000-000000000001";
/// Shortest secret the server accepts.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    workspace: Uuid,
    role: &'a str,
    iat: i64,
    exp: i64,
}

/// Signs tokens for the load users of one workspace.
#[derive(Clone)]
pub struct TokenMinter {
    key: EncodingKey,
    workspace: Uuid,
    role: String,
    ttl: Duration,
}

impl TokenMinter {
    /// A minter for `workspace` with the server's secret (at least 32 bytes); tokens carry role `member`.
    pub fn new(secret: &[u8], workspace: Uuid) -> Result<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            bail!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes (the server refuses shorter ones)");
        }
        let key = EncodingKey::from_secret(secret);
        Ok(Self { key, workspace, role: "member".to_owned(), ttl: Duration::from_secs(3600) })
    }

    /// A minter for the dev-mode demo workspace.
    pub fn for_demo(secret: &[u8]) -> Result<Self> {
        Self::new(secret, Uuid::parse_str(DEMO_WORKSPACE)?)
    }

    /// A signed token for `user`.
    pub fn mint(&self, user: &str) -> Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).context("clock before 1970")?.as_secs();
        let iat = i64::try_from(now)?;
        let exp = iat.saturating_add(i64::try_from(self.ttl.as_secs())?);
        let claims = Claims { sub: user, workspace: self.workspace, role: &self.role, iat, exp };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).context("signing a token")
    }
}
