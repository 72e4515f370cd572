//! Accounts of people: who may sign in, independent of any workspace.
//!
//! A person's membership in a workspace is a [`Member`](super::Member) record
//! whose `user_id` is the account id; an account holds only what is true of the
//! person everywhere: the email they sign in with, their name, their password
//! hash and the instance-wide flags.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::MAX_NAME_CHARS;
use crate::validation::{FieldError, ValidationErrors, Validator};

/// Longest email address, in characters (RFC 5321's path limit minus the angle brackets).
pub const MAX_ACCOUNT_EMAIL_CHARS: usize = 254;
/// Fewest characters of a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Most bytes of a password: long passphrases are fine, megabytes sent to the hasher are not.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A person who can sign in.
#[derive(Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Account id (uuid v7); the `userId` of the person's member records.
    pub id: Uuid,
    /// Normalised email address ([`normalize_email`]); unique.
    pub email: String,
    /// Name shown to people.
    pub display_name: String,
    /// Argon2id hash in PHC string format; `None` when the account cannot sign in
    /// with a password. Never serialized.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// May list and disable every workspace of the instance.
    pub instance_admin: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

// By hand, so that the password hash never reaches a log line.
impl std::fmt::Debug for Account {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Account")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "<redacted>"))
            .field("disabled", &self.disabled)
            .field("instance_admin", &self.instance_admin)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// Input to create an account (the password is checked and hashed by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// Email address as given; normalised on the way in.
    pub email: String,
    /// Name shown to people (1–200 characters).
    pub display_name: String,
}

impl NewAccount {
    /// Checks the input and builds the account it describes, with its password
    /// hash (already made from a password that passed [`check_password`]).
    pub fn into_account(self, password_hash: Option<String>, now: DateTime<Utc>) -> Result<Account, ValidationErrors> {
        let mut errors = Vec::new();
        let email = match normalize_email(&self.email) {
            Ok(email) => email,
            Err(error) => {
                errors.push(error);
                String::new()
            }
        };
        let display_name = self.display_name.trim().to_owned();
        let mut validator = Validator::new();
        validator.text("/displayName", &display_name, 1, MAX_NAME_CHARS);
        if let Err(ValidationErrors(more)) = validator.finish() {
            errors.extend(more);
        }
        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        Ok(Account {
            id: Uuid::now_v7(),
            email,
            display_name,
            password_hash,
            disabled: false,
            instance_admin: false,
            created_at: now,
            updated_at: now,
        })
    }
}

/// Normalises an email address for storage and lookup: trimmed and lowercased,
/// so `Ada@Example.org ` and `ada@example.org` are one account.
///
/// Lowercasing the local part goes beyond RFC 5321 (which lets a server tell
/// `Ada` from `ada`), but no mail provider in use does, and two accounts that
/// differ only in case are a support problem and an impersonation risk. The
/// check is deliberately loose (one `@`, something on each side, no spaces or
/// control characters, at most 254 characters): whether an address works is
/// proven by mail reaching it, not by a pattern.
pub fn normalize_email(email: &str) -> Result<String, FieldError> {
    const PATH: &str = "/email";
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(FieldError::new(PATH, "must not be empty"));
    }
    // Stricter than stored text (`has_forbidden_control`): no tab or line break either, nor C1 controls.
    if email.chars().any(char::is_control) {
        return Err(FieldError::new(PATH, "must not contain control characters"));
    }
    if email.chars().count() > MAX_ACCOUNT_EMAIL_CHARS {
        return Err(FieldError::new(PATH, format!("must be at most {MAX_ACCOUNT_EMAIL_CHARS} characters")));
    }
    if email.chars().any(char::is_whitespace) {
        return Err(FieldError::new(PATH, "must not contain spaces"));
    }
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => Ok(email),
        _ => Err(FieldError::new(PATH, "must be an email address like name@example.org")),
    }
}

/// Checks a new password against the policy.
///
/// The rules follow NIST SP 800-63B §5.1.1 and OWASP's Authentication Cheat
/// Sheet: length is what makes a password strong, so there is a minimum (12, what
/// OWASP's ASVS 4.0 asks for, V2.1.1) and no composition rules (no "one digit, one
/// symbol"), which push people to predictable patterns. Every character counts,
/// spaces and Unicode included, so passphrases work. The 1024-byte ceiling
/// only stops a huge input from being fed to the hasher; it is far above any real
/// passphrase. A run of one repeated character is refused as the one trivially
/// guessable long password a length check alone admits.
pub fn check_password(password: &str) -> Result<(), ValidationErrors> {
    const PATH: &str = "/password";
    let message = if password.chars().count() < MIN_PASSWORD_CHARS {
        format!("must be at least {MIN_PASSWORD_CHARS} characters")
    } else if password.len() > MAX_PASSWORD_BYTES {
        format!("must be at most {MAX_PASSWORD_BYTES} bytes")
    } else if password.chars().all(|character| password.starts_with(character)) {
        "must not be one character repeated".to_owned()
    } else {
        return Ok(());
    };
    Err(ValidationErrors(vec![FieldError::new(PATH, message)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(normalize_email("  Ada.Lovelace@Example.ORG \n").unwrap(), "ada.lovelace@example.org");
        // A dot-less local part or domain is an address all the same (e.g. an intranet host).
        assert_eq!(normalize_email("root@localhost").unwrap(), "root@localhost");
        assert_eq!(normalize_email("ÄDA@bücher.example").unwrap(), "äda@bücher.example");
    }

    #[test]
    fn malformed_emails_are_refused_at_the_email_field() {
        let long = format!("{}@example.org", "a".repeat(250));
        for bad in
            ["", "   ", "ada", "@example.org", "ada@", "ada@@example.org", "a@b@c", "ada @x.org", "ad\u{0}a@x.org"]
                .into_iter()
                .chain([long.as_str()])
        {
            let error = normalize_email(bad).unwrap_err();
            assert_eq!(error.path, "/email", "{bad:?}");
        }
        let exactly_254 = format!("{}@example.org", "a".repeat(254 - "@example.org".len()));
        assert!(normalize_email(&exactly_254).is_ok());
    }

    #[test]
    fn password_policy_counts_characters_and_refuses_repeats() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("ünïcødé pässwörd").is_ok());
        let messages = |password: &str| -> String { check_password(password).unwrap_err().0[0].message.clone() };
        assert_eq!(messages("short pass!"), "must be at least 12 characters");
        assert_eq!(messages("aaaaaaaaaaaaaaaa"), "must not be one character repeated");
        assert_eq!(messages(&"ab".repeat(513)), "must be at most 1024 bytes");
        assert!(check_password(&"ab".repeat(512)).is_ok(), "1024 bytes is the limit, included");
        // Eleven two-byte characters are 22 bytes but still too short: length is in characters.
        assert_eq!(messages(&"é".repeat(11)), "must be at least 12 characters");
    }

    #[test]
    fn new_account_is_normalised_and_validated() {
        let now = Utc::now();
        let account = NewAccount { email: " Ada@Example.org".into(), display_name: " Ada ".into() }
            .into_account(Some("$argon2id$…".into()), now)
            .unwrap();
        assert_eq!(account.email, "ada@example.org");
        assert_eq!(account.display_name, "Ada");
        assert!(!account.disabled && !account.instance_admin);
        assert_eq!(account.id.get_version_num(), 7);

        let errors = NewAccount { email: "nope".into(), display_name: " ".into() }.into_account(None, now).unwrap_err();
        let paths: Vec<_> = errors.0.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["/email", "/displayName"]);
    }

    #[test]
    fn password_hash_is_never_serialized_or_debug_printed() {
        let account = NewAccount { email: "ada@example.org".into(), display_name: "Ada".into() }
            .into_account(Some("$argon2id$v=19$secret".into()), Utc::now())
            .unwrap();
        let json = serde_json::to_string(&account).unwrap();
        assert!(!json.contains("argon2") && !json.contains("password"), "{json}");
        assert!(json.contains("\"instanceAdmin\":false"), "{json}");
        let debug = format!("{account:?}");
        assert!(!debug.contains("secret") && debug.contains("<redacted>"), "{debug}");
    }
}
