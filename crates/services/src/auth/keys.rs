use jsonwebtoken::{DecodingKey, EncodingKey};

/// The shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Why key material could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The HS256 secret is too short to be safe.
    #[error("jwt secret must be at least {MIN_SECRET_BYTES} bytes")]
    SecretTooShort,
    /// A PEM file did not hold an Ed25519 key of the expected kind.
    #[error("{what} is not a valid Ed25519 PEM key: {source}")]
    InvalidPem {
        /// Which key (public or private).
        what: &'static str,
        /// The parser's complaint.
        source: jsonwebtoken::errors::Error,
    },
    /// No key that can sign was configured.
    #[error("no signing key configured (set auth.jwt_secret or auth.jwt_private_key)")]
    NoSigningKey,
    /// No key that can verify was configured.
    #[error("no verification key configured (set auth.jwt_secret or auth.jwt_public_key)")]
    NoVerificationKey,
}

/// The key material tokens are signed and verified with.
#[derive(Clone, Default)]
pub struct TokenKeys {
    pub(crate) hs256: Option<(EncodingKey, DecodingKey)>,
    pub(crate) eddsa_sign: Option<EncodingKey>,
    pub(crate) eddsa_verify: Option<DecodingKey>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TokenKeys")
            .field("hs256", &self.hs256.is_some())
            .field("eddsa_sign", &self.eddsa_sign.is_some())
            .field("eddsa_verify", &self.eddsa_verify.is_some())
            .finish()
    }
}

impl TokenKeys {
    /// Adds an HS256 shared secret (signs and verifies).
    pub fn with_hs256_secret(mut self, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort);
        }
        self.hs256 = Some((EncodingKey::from_secret(secret), DecodingKey::from_secret(secret)));
        Ok(self)
    }

    /// Adds an Ed25519 public key in PEM form (verifies EdDSA tokens).
    pub fn with_eddsa_public_pem(mut self, pem: &[u8]) -> Result<Self, KeyError> {
        let key =
            DecodingKey::from_ed_pem(pem).map_err(|source| KeyError::InvalidPem { what: "jwt public key", source })?;
        self.eddsa_verify = Some(key);
        Ok(self)
    }

    /// Adds an Ed25519 private key in PEM form (signs EdDSA tokens).
    pub fn with_eddsa_private_pem(mut self, pem: &[u8]) -> Result<Self, KeyError> {
        let key =
            EncodingKey::from_ed_pem(pem).map_err(|source| KeyError::InvalidPem { what: "jwt private key", source })?;
        self.eddsa_sign = Some(key);
        Ok(self)
    }

    /// Whether any key can verify tokens.
    pub fn can_verify(&self) -> bool {
        self.hs256.is_some() || self.eddsa_verify.is_some()
    }
}
