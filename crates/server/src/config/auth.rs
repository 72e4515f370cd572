//! `[auth]`: token keys and sign-in, and how strong a production secret must be.
//!
//! Tokens are verified with an HS256 secret, an Ed25519 public key, or both. Dev
//! mode without a configured key generates a random secret once and keeps it in
//! the data dir, so `agentdeck token` and `agentdeck serve` agree. Production
//! refuses secrets that look like placeholders ([`secret_weakness`]).

use std::path::Path;
use std::time::Duration;

use agentdeck_services::auth::{KeyError, MIN_SECRET_BYTES, TokenKeys};
use serde::{Deserialize, Serialize};

use super::{ConfigError, DEV_SECRET_FILE, Mode, Settings, env_var};

/// Fewest bits of Shannon entropy per byte a production secret may show: English
/// words repeated score about 2.75, hex digits about 3.7, base64 about 4.5.
pub const MIN_SECRET_BITS_PER_BYTE: f64 = 3.0;
/// Fewest estimated bits (length × bits per byte) a production secret may hold:
/// `openssl rand -hex 16` scores about 115, `openssl rand -hex 32` about 240.
pub const MIN_SECRET_ESTIMATED_BITS: f64 = 100.0;

/// Tokens and sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 secret (≥ 32 bytes). Dev mode generates one in the data dir when empty.
    pub jwt_secret: String,
    /// Path to an Ed25519 public key (PEM) accepted for EdDSA tokens.
    pub jwt_public_key: String,
    /// Path to an Ed25519 private key (PEM) `agentdeck token` signs with.
    pub jwt_private_key: String,
    /// Lifetime of tokens the server issues (dev login), in seconds.
    pub token_ttl_secs: u64,
    /// `POST /api/dev/login`; defaults to on in dev mode, refused in production.
    pub dev_login: Option<bool>,
    /// Seed the demo workspace on first start; defaults to on in dev mode.
    pub seed_demo: Option<bool>,
    /// `[[auth.oidc]]`: OpenID Connect providers people may sign in with.
    pub oidc: Vec<super::oidc::OidcProviderSettings>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: String::new(),
            jwt_public_key: String::new(),
            jwt_private_key: String::new(),
            token_ttl_secs: 12 * 60 * 60,
            dev_login: None,
            seed_demo: None,
            oidc: Vec::new(),
        }
    }
}

impl Settings {
    /// Whether `POST /api/dev/login` is served.
    pub fn dev_login_enabled(&self) -> bool {
        self.auth.dev_login.unwrap_or(self.mode == Mode::Dev)
    }

    /// Whether the demo workspace is seeded on first start.
    pub fn seed_demo_enabled(&self) -> bool {
        self.auth.seed_demo.unwrap_or(self.mode == Mode::Dev)
    }

    /// Lifetime of tokens the server issues.
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.token_ttl_secs)
    }

    /// Builds the token keys; in dev mode without a configured key, uses (and on
    /// first use creates) a random secret kept in the data dir, so `agentdeck
    /// token` and `agentdeck serve` with the same data dir agree.
    pub fn token_keys(&self) -> Result<TokenKeys, ConfigError> {
        let auth = &self.auth;
        let mut keys = TokenKeys::default();
        if !auth.jwt_secret.is_empty() {
            keys = keys.with_hs256_secret(auth.jwt_secret.as_bytes()).map_err(key_error("auth.jwt_secret"))?;
        }
        if !auth.jwt_public_key.is_empty() {
            let pem = read_setting_file("auth.jwt_public_key", &auth.jwt_public_key)?;
            keys = keys.with_eddsa_public_pem(&pem).map_err(key_error("auth.jwt_public_key"))?;
        }
        if !auth.jwt_private_key.is_empty() {
            let pem = read_setting_file("auth.jwt_private_key", &auth.jwt_private_key)?;
            keys = keys.with_eddsa_private_pem(&pem).map_err(key_error("auth.jwt_private_key"))?;
        }
        if !keys.can_verify() && self.mode == Mode::Dev {
            keys = keys.with_hs256_secret(dev_secret(&self.data_dir)?.as_bytes())?;
        }
        if !keys.can_verify() {
            return Err(KeyError::NoVerificationKey.into());
        }
        Ok(keys)
    }
}

/// Why `secret` is too weak for production, or `None` when it will do.
///
/// The rule: at least [`MIN_SECRET_BYTES`] bytes, at least
/// [`MIN_SECRET_BITS_PER_BYTE`] bits of Shannon entropy per byte (its byte
/// frequencies), and at least [`MIN_SECRET_ESTIMATED_BITS`] bits in all. It catches
/// placeholders (`xxxx…`, `changeme` repeated); it cannot prove a secret random.
/// Hand-written: the estimate is five lines, a password-strength crate would
/// bring dictionaries for a check that only needs byte counts.
pub fn secret_weakness(secret: &[u8]) -> Option<String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Some(format!("is shorter than {MIN_SECRET_BYTES} bytes"));
    }
    let bits_per_byte = shannon_bits_per_byte(secret);
    let estimated_bits = bits_per_byte * secret.len() as f64;
    if bits_per_byte < MIN_SECRET_BITS_PER_BYTE || estimated_bits < MIN_SECRET_ESTIMATED_BITS {
        return Some(format!(
            "looks like a placeholder, not a random secret (about {estimated_bits:.0} bits, \
             {bits_per_byte:.1} per byte; at least {MIN_SECRET_ESTIMATED_BITS:.0} and \
             {MIN_SECRET_BITS_PER_BYTE:.0} are needed): generate one with `openssl rand -hex 32`"
        ));
    }
    None
}

/// Shannon entropy of the byte frequencies of `bytes`, in bits per byte.
fn shannon_bits_per_byte(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &byte in bytes {
        counts[usize::from(byte)] += 1;
    }
    let total = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = count as f64 / total;
            -share * share.log2()
        })
        .sum()
}

/// Maps a key error to one naming the setting that holds the key.
fn key_error(setting: &'static str) -> impl FnOnce(KeyError) -> ConfigError {
    move |source| ConfigError::SettingKey { setting, env: env_var(setting), source }
}

/// Reads the file a setting names; an error names the setting and its variable.
fn read_setting_file(setting: &'static str, path: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::SettingFile {
        setting,
        env: env_var(setting),
        path: path.into(),
        source,
    })
}

/// Reads the dev secret from the data dir, creating both on first use.
fn dev_secret(data_dir: &Path) -> Result<String, ConfigError> {
    let path = data_dir.join(DEV_SECRET_FILE);
    let io_error =
        |source| ConfigError::SettingFile { setting: "data_dir", env: env_var("data_dir"), path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= MIN_SECRET_BYTES => {
            return Ok(secret.trim().to_owned());
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(error)),
    }
    std::fs::create_dir_all(data_dir).map_err(io_error)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| io_error(std::io::Error::other(error.to_string())))?;
    let secret: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    write_private_file(&path, &secret).map_err(io_error)?;
    Ok(secret)
}

/// Writes a file only its owner may read.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_weak_and_generated_secrets_are_not() {
        for weak in ["x".repeat(32), "ab".repeat(16), "changeme".repeat(4), "password".repeat(8), "short".into()] {
            assert!(secret_weakness(weak.as_bytes()).is_some(), "{weak} passed");
        }
        let hex_32 = "7c029c598b6cc7a0dc8e02c95a0e8a9ba67f7e9b82230ad504817a7e2e309c7a";
        let hex_16 = "50fa311911a7844e47004b3d18756c7d";
        let base64 = "tzQm52lzlE3rwPAivQU8LH1VNEG25bS9";
        for strong in [hex_32, hex_16, base64, "super-secret-value-that-is-long-enough"] {
            assert_eq!(secret_weakness(strong.as_bytes()), None, "{strong} refused");
        }
    }

    #[test]
    fn entropy_of_uniform_and_constant_bytes() {
        assert_eq!(shannon_bits_per_byte(b"aaaa"), 0.0);
        assert!((shannon_bits_per_byte(b"abcd") - 2.0).abs() < 1e-9);
        let every_byte: Vec<u8> = (0..=255).collect();
        assert!((shannon_bits_per_byte(&every_byte) - 8.0).abs() < 1e-9);
    }
}
