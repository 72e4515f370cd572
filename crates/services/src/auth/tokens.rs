use std::time::Duration;

use agentdeck_domain::auth::{Principal, Role};
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::{KeyError, TokenKeys};

/// Clock skew tolerated between the node that minted a token and the one checking it.
const LEEWAY_SECONDS: u64 = 5;

/// The claims of an agentdeck bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the user id or service name.
    pub sub: String,
    /// The workspace the token is scoped to.
    pub workspace: Uuid,
    /// The role in that workspace (`owner`, `admin`, `member`, `service`).
    pub role: String,
    /// Issued at (seconds since the Unix epoch).
    pub iat: i64,
    /// Expires at (seconds since the Unix epoch).
    pub exp: i64,
}

/// Why a bearer token was refused; every variant is a 401 at the edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token")]
    Missing,
    /// Not a JWT, or its claims are not ours.
    #[error("malformed bearer token")]
    Malformed,
    /// Past its expiry.
    #[error("bearer token has expired")]
    Expired,
    /// Signed with another key, or altered.
    #[error("bearer token signature is invalid")]
    BadSignature,
    /// Signed with an algorithm this server does not accept.
    #[error("bearer token algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The token's workspace does not exist (any more).
    #[error("bearer token names an unknown workspace")]
    UnknownWorkspace,
    /// The token's workspace was disabled by an instance admin (`agentdeck workspace disable`).
    #[error("this workspace is disabled")]
    WorkspaceDisabled,
}

/// Issues and verifies bearer tokens with the configured keys.
#[derive(Debug, Clone)]
pub struct TokenService {
    keys: TokenKeys,
}

impl TokenService {
    /// Wraps the key material.
    pub fn new(keys: TokenKeys) -> Self {
        Self { keys }
    }

    /// Signs a token for `principal` valid for `ttl` from `now` (EdDSA when a
    /// private key is configured, HS256 otherwise).
    pub fn issue(&self, principal: &Principal, ttl: Duration, now: DateTime<Utc>) -> Result<String, KeyError> {
        let ttl_seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: principal.subject.clone(),
            workspace: principal.workspace_id,
            role: principal.role.as_str().to_owned(),
            iat: now.timestamp(),
            exp: now.timestamp().saturating_add(ttl_seconds),
        };
        let (algorithm, key) = match (&self.keys.eddsa_sign, &self.keys.hs256) {
            (Some(key), _) => (Algorithm::EdDSA, key),
            (None, Some((key, _))) => (Algorithm::HS256, key),
            (None, None) => return Err(KeyError::NoSigningKey),
        };
        jsonwebtoken::encode(&Header::new(algorithm), &claims, key)
            .map_err(|error| KeyError::InvalidPem { what: "signing key", source: error })
    }

    /// Checks signature, algorithm and expiry, and returns who the token is for.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.verify_with_expiry(token).map(|(principal, _)| principal)
    }

    /// [`TokenService::verify`], also answering when the token expires (its `exp`).
    pub fn verify_with_expiry(&self, token: &str) -> Result<(Principal, DateTime<Utc>), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        let key = match header.alg {
            Algorithm::HS256 => self.keys.hs256.as_ref().map(|(_, key)| key),
            Algorithm::EdDSA => self.keys.eddsa_verify.as_ref(),
            _ => None,
        }
        .ok_or(AuthError::UnsupportedAlgorithm)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|error| match error.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidAlgorithm => AuthError::UnsupportedAlgorithm,
            _ => AuthError::Malformed,
        })?;
        let claims = data.claims;
        let role = Role::parse(&claims.role).ok_or(AuthError::Malformed)?;
        if claims.sub.trim().is_empty() {
            return Err(AuthError::Malformed);
        }
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(AuthError::Malformed)?;
        Ok((Principal { subject: claims.sub, workspace_id: claims.workspace, role }, expires_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    // Ed25519 test key pair (RFC 8410 examples), used only by these tests.
    const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

    fn principal() -> Principal {
        Principal { subject: "ada".into(), workspace_id: Uuid::now_v7(), role: Role::Admin }
    }

    fn hs256() -> TokenService {
        TokenService::new(TokenKeys::default().with_hs256_secret(SECRET).unwrap())
    }

    #[test]
    fn issued_token_verifies_to_the_same_principal() {
        let service = hs256();
        let who = principal();
        let token = service.issue(&who, Duration::from_secs(60), Utc::now()).unwrap();
        assert_eq!(service.verify(&token), Ok(who));
    }

    #[test]
    fn expired_token_is_refused() {
        let service = hs256();
        let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
        let token = service.issue(&principal(), Duration::from_secs(60), an_hour_ago).unwrap();
        assert_eq!(service.verify(&token), Err(AuthError::Expired));
    }

    #[test]
    fn verification_tells_the_expiry() {
        let service = hs256();
        let now = Utc::now();
        let token = service.issue(&principal(), Duration::from_secs(90), now).unwrap();
        let (_, expires_at) = service.verify_with_expiry(&token).unwrap();
        assert_eq!(expires_at.timestamp(), now.timestamp() + 90);
    }

    #[test]
    fn other_secret_is_a_bad_signature() {
        let other = TokenService::new(TokenKeys::default().with_hs256_secret(&[7u8; 32]).unwrap());
        let token = other.issue(&principal(), Duration::from_secs(60), Utc::now()).unwrap();
        assert_eq!(hs256().verify(&token), Err(AuthError::BadSignature));
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.sig"] {
            assert!(matches!(hs256().verify(token), Err(AuthError::Malformed | AuthError::BadSignature)), "{token}");
        }
    }

    #[test]
    fn unsigned_token_is_refused() {
        // {"alg":"none"} with valid-looking claims must never be accepted.
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZGEiLCJ3b3Jrc3BhY2UiOiIwMTkzMDAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJyb2xlIjoib3duZXIiLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(hs256().verify(token).is_err());
    }

    #[test]
    fn eddsa_tokens_verify_with_the_public_key_only() {
        let signer = TokenService::new(TokenKeys::default().with_eddsa_private_pem(ED_PRIVATE.as_bytes()).unwrap());
        let verifier = TokenService::new(TokenKeys::default().with_eddsa_public_pem(ED_PUBLIC.as_bytes()).unwrap());
        let token = signer.issue(&principal(), Duration::from_secs(60), Utc::now()).unwrap();
        assert_eq!(verifier.verify(&token).unwrap().subject, "ada");
        // An HS256-only server does not accept EdDSA tokens.
        assert_eq!(hs256().verify(&token), Err(AuthError::UnsupportedAlgorithm));
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(matches!(TokenKeys::default().with_hs256_secret(b"short"), Err(KeyError::SecretTooShort)));
    }
}
