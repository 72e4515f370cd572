//! Password hashing: Argon2id with OWASP's parameters, stored as PHC strings.
//!
//! # Parameters
//!
//! OWASP's Password Storage Cheat Sheet recommends Argon2id with at least
//! m = 19 MiB (19456 KiB), t = 2 iterations, p = 1 lane; this is its first
//! listed configuration, and the one that costs the least memory per sign-in
//! (about 19 MiB for ~tens of milliseconds on one core), so a burst of sign-ins
//! cannot exhaust the server's memory. The PHC string records the algorithm,
//! version, parameters and the random 16-byte salt next to the hash
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so a stored hash stays
//! verifiable after the parameters change.
//!
//! Hashing is deliberately slow CPU work, so it runs on tokio's blocking pool
//! (`spawn_blocking`), never on an async worker.
//!
//! # Unknown emails
//!
//! A sign-in for an email with no account must take as long as one with a wrong
//! password, or the timing tells which emails have accounts. [`verify_against_dummy`]
//! verifies the password against a fixed hash made with the same parameters,
//! doing the same work, and always answers "no".

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, try_generate_salt};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB (19 MiB; OWASP).
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations (OWASP).
pub const ITERATIONS: u32 = 2;
/// Degree of parallelism (OWASP).
pub const PARALLELISM: u32 = 1;

/// The parameters every new hash is made with (checked when the crate compiles).
const PARAMS: Params = match Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid Argon2 parameters"),
};

/// What [`verify_against_dummy`] checks a password against: a PHC string with
/// [`PARAMS`] whose salt and output are random bytes, so no password matches it.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$MrYd95UNKFubCXxK3AkW+A$KySSB9VZWyw/rChPVOn7eFvpwx8Wx8GVOeTaGA/yQGg";

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The stored hash is not a PHC string this crate can verify.
    #[error("the stored password hash is malformed")]
    MalformedHash,
    /// The operating system's random source failed (no salt).
    #[error("no random salt available: {0}")]
    Random(String),
    /// Argon2 refused the input (cannot happen with checked parameters and passwords).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The blocking task running the hash panicked or was cancelled.
    #[error("password hashing task failed")]
    Task,
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

/// Hashes a password with a fresh random salt; returns the PHC string.
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(|_| PasswordError::Task)?
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = try_generate_salt().map_err(|error| PasswordError::Random(error.to_string()))?;
    let hash = hasher()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|error| PasswordError::Hashing(error.to_string()))?;
    Ok(hash.to_string())
}

/// Tells whether `password` matches the PHC string `hash` (with the parameters
/// the hash names); a hash that does not parse is [`PasswordError::MalformedHash`].
pub async fn verify_password(password: String, hash: String) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || verify_blocking(&password, &hash)).await.map_err(|_| PasswordError::Task)?
}

fn verify_blocking(password: &str, hash: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(hash).map_err(|_| PasswordError::MalformedHash)?;
    match hasher().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        // The hash parsed but names an algorithm, version or parameters Argon2 refuses.
        Err(_) => Err(PasswordError::MalformedHash),
    }
}

/// Does the work of a verification against a fixed hash and answers `false`:
/// called for an unknown email so that it takes as long as a wrong password.
pub async fn verify_against_dummy(password: String) -> bool {
    // The outcome is ignored on purpose: nobody knows the dummy's password, and
    // an error here must not make the unknown email fail differently.
    let _ = verify_password(password, DUMMY_HASH.to_owned()).await;
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "correct horse battery";

    #[tokio::test]
    async fn hash_verifies_its_own_password_only() {
        let hash = hash_password(PASSWORD.into()).await.unwrap();
        assert!(!hash.contains(PASSWORD));
        assert!(verify_password(PASSWORD.into(), hash.clone()).await.unwrap());
        assert!(!verify_password("correct horse battery!".into(), hash.clone()).await.unwrap());
        assert!(!verify_password(String::new(), hash).await.unwrap());
    }

    #[tokio::test]
    async fn hash_is_a_phc_string_naming_argon2id_and_the_owasp_parameters() {
        let hash = hash_password(PASSWORD.into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        let parsed = PasswordHash::new(&hash).unwrap();
        assert_eq!(parsed.salt.map(|salt| salt.len()), Some(16), "a 16-byte salt");
        assert_eq!(parsed.hash.map(|output| output.len()), Some(32), "a 32-byte hash");
    }

    #[tokio::test]
    async fn each_hash_has_its_own_salt() {
        let first = hash_password(PASSWORD.into()).await.unwrap();
        let second = hash_password(PASSWORD.into()).await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_malformed_hash_is_an_error_not_a_panic() {
        for bad in [
            "",
            "plain text",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=1,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
            "$md5$x$y",
        ] {
            let result = verify_password(PASSWORD.into(), bad.into()).await;
            assert!(matches!(result, Err(PasswordError::MalformedHash)), "{bad:?}: {result:?}");
        }
    }

    #[tokio::test]
    async fn the_dummy_uses_the_current_parameters_and_never_matches() {
        // Same parameters as new hashes, or the unknown-email path would be faster (or slower).
        let current = hash_password(PASSWORD.into()).await.unwrap();
        let prefix = |hash: &str| hash.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(prefix(DUMMY_HASH), prefix(&current));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_against_dummy(PASSWORD.into()).await);
        assert!(!verify_against_dummy(String::new()).await);
    }
}
