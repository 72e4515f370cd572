//! `[[auth.oidc]]`: the OpenID Connect providers people may sign in with.
//!
//! Each entry is one provider; its callback URL is
//! `{public_url}/api/auth/oidc/{id}/callback`, which must be registered at the
//! provider. Checked at startup in every mode ([`Settings::check_oidc`]): ids
//! are URL-safe and unique, names and client ids present, issuers URLs.
//! Production also refuses a plain-`http` issuer that is not loopback (the
//! discovery document and its signing keys would travel unauthenticated) and a
//! provider without a client secret.

use std::net::IpAddr;

use agentdeck_services::sso::ProviderConfig;
use serde::{Deserialize, Serialize};

use super::{ConfigError, Mode, Settings};

/// Longest provider id.
pub const MAX_PROVIDER_ID_CHARS: usize = 32;

/// One OpenID Connect provider (`[[auth.oidc]]`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderSettings {
    /// URL-safe id (`a-z`, `0-9`, `-`, `_`), unique: the path segment of its routes.
    pub id: String,
    /// Name shown on the sign-in button ("Sign in with <name>").
    pub name: String,
    /// Issuer URL, e.g. `https://accounts.google.com`.
    pub issuer: String,
    /// Client id registered at the provider.
    pub client_id: String,
    /// Client secret; or use `client_secret_file`.
    #[serde(default)]
    pub client_secret: String,
    /// File holding the client secret (its first line).
    #[serde(default)]
    pub client_secret_file: String,
    /// Scopes asked for; `openid` is always included.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Link an unknown identity to the account with the same email, when the provider says it is verified.
    #[serde(default)]
    pub link_verified_email: bool,
}

// By hand, so that the secret never reaches a log line.
impl std::fmt::Debug for OidcProviderSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OidcProviderSettings")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &if self.client_secret.is_empty() { "" } else { "<redacted>" })
            .field("client_secret_file", &self.client_secret_file)
            .field("scopes", &self.scopes)
            .field("link_verified_email", &self.link_verified_email)
            .finish()
    }
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(str::to_owned).to_vec()
}

/// Whether `issuer` is plain `http` to a host other than loopback.
fn insecure_issuer(issuer: &str) -> bool {
    let Ok(url) = url::Url::parse(issuer) else { return false };
    if url.scheme() != "http" {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(domain)) => !domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => !IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => !IpAddr::V6(ip).is_loopback(),
        None => true,
    }
}

impl Settings {
    /// Checks every `[[auth.oidc]]` entry (all modes); lists every problem at once.
    pub fn check_oidc(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (index, provider) in self.auth.oidc.iter().enumerate() {
            let at = format!("auth.oidc[{index}]");
            let id = &provider.id;
            let url_safe = !id.is_empty()
                && id.len() <= MAX_PROVIDER_ID_CHARS
                && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !url_safe {
                problems.push(format!(
                    "{at}.id {id:?} must be 1-{MAX_PROVIDER_ID_CHARS} characters of a-z, 0-9, '-' and '_'"
                ));
            } else if !seen.insert(id.as_str()) {
                problems.push(format!("{at}.id {id:?} is used by another provider"));
            }
            if provider.name.trim().is_empty() || provider.name.chars().count() > 100 {
                problems.push(format!("{at}.name must be 1-100 characters (shown on the sign-in button)"));
            }
            if provider.client_id.trim().is_empty() {
                problems.push(format!("{at}.client_id must be set (the id registered at the provider)"));
            }
            match url::Url::parse(&provider.issuer) {
                Ok(url) if matches!(url.scheme(), "https" | "http") => {}
                _ => problems.push(format!("{at}.issuer {:?} must be an http(s) URL", provider.issuer)),
            }
            if !provider.client_secret.is_empty() && !provider.client_secret_file.is_empty() {
                problems.push(format!("{at}: set client_secret or client_secret_file, not both"));
            }
            if self.mode == Mode::Production {
                if insecure_issuer(&provider.issuer) {
                    problems.push(format!(
                        "{at}.issuer {:?} is plain http: its keys and tokens would travel unauthenticated; use https",
                        provider.issuer
                    ));
                }
                if provider.client_secret.is_empty() && provider.client_secret_file.is_empty() {
                    problems.push(format!(
                        "{at} ({id}) has no client secret: set client_secret_file (or client_secret) to the secret \
                         registered at the provider"
                    ));
                }
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError::Oidc(problems)) }
    }

    /// The providers as the sign-in service takes them, secrets read from their files.
    pub fn oidc_providers(&self) -> Result<Vec<ProviderConfig>, ConfigError> {
        self.auth
            .oidc
            .iter()
            .enumerate()
            .map(|(index, provider)| {
                let secret = if provider.client_secret_file.is_empty() {
                    Some(provider.client_secret.clone()).filter(|secret| !secret.is_empty())
                } else {
                    let text = std::fs::read_to_string(&provider.client_secret_file).map_err(|source| {
                        ConfigError::Oidc(vec![format!(
                            "auth.oidc[{index}].client_secret_file: cannot read {}: {source}",
                            provider.client_secret_file
                        )])
                    })?;
                    Some(text.lines().next().unwrap_or_default().trim().to_owned()).filter(|secret| !secret.is_empty())
                };
                Ok(ProviderConfig {
                    id: provider.id.clone(),
                    name: provider.name.trim().to_owned(),
                    issuer: provider.issuer.clone(),
                    client_id: provider.client_id.clone(),
                    client_secret: secret,
                    scopes: provider.scopes.clone(),
                    link_verified_email: provider.link_verified_email,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: &str, issuer: &str) -> OidcProviderSettings {
        OidcProviderSettings {
            id: id.into(),
            name: "Corp".into(),
            issuer: issuer.into(),
            client_id: "agentdeck".into(),
            client_secret: String::new(),
            client_secret_file: String::new(),
            scopes: default_scopes(),
            link_verified_email: false,
        }
    }

    fn problems(settings: &Settings) -> Vec<String> {
        match settings.check_oidc() {
            Ok(()) => vec![],
            Err(ConfigError::Oidc(problems)) => problems,
            Err(other) => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn ids_are_url_safe_and_unique() {
        let mut settings = Settings::default();
        settings.auth.oidc =
            vec![provider("corp", "https://id.example.org"), provider("corp", "https://b.example.org")];
        settings.auth.oidc.push(provider("Bad/Id", "https://c.example.org"));
        settings.auth.oidc.push(provider("ok", "not a url"));
        let found = problems(&settings);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("used by another provider"), "{found:?}");
        assert!(found[1].contains("a-z, 0-9"), "{found:?}");
        assert!(found[2].contains("must be an http(s) URL"), "{found:?}");
    }

    #[test]
    fn production_refuses_plain_http_issuers_and_missing_secrets() {
        let mut settings = Settings { mode: Mode::Production, ..Settings::default() };
        let mut remote = provider("corp", "http://id.example.org");
        remote.client_secret = "secret".into();
        let local = provider("local", "http://127.0.0.1:9000");
        settings.auth.oidc = vec![remote, local];
        let found = problems(&settings);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("plain http"), "{found:?}");
        assert!(found[1].contains("no client secret"), "{found:?}");
        // Dev mode lets both through (a laptop's test provider).
        settings.mode = Mode::Dev;
        assert_eq!(problems(&settings), Vec::<String>::new());
    }

    #[test]
    fn loopback_issuers_are_not_insecure() {
        assert!(!insecure_issuer("http://localhost:8080/realms/x"));
        assert!(!insecure_issuer("http://[::1]:8080"));
        assert!(!insecure_issuer("https://id.example.org"));
        assert!(insecure_issuer("http://10.0.0.1"));
    }

    #[test]
    fn the_secret_file_is_read_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cr3t-from-file\n").unwrap();
        let mut settings = Settings::default();
        let mut corp = provider("corp", "https://id.example.org");
        corp.client_secret_file = file.display().to_string();
        settings.auth.oidc = vec![corp];
        let providers = settings.oidc_providers().unwrap();
        assert_eq!(providers[0].client_secret.as_deref(), Some("s3cr3t-from-file"));
        settings.auth.oidc[0].client_secret = "inline-s3cr3t".into();
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }

    #[test]
    fn providers_read_from_toml_with_defaults() {
        let toml = r#"
            [[auth.oidc]]
            id = "corp"
            name = "Corp SSO"
            issuer = "https://id.example.org"
            client_id = "agentdeck"
            client_secret = "x"
        "#;
        let settings: Settings = figment::Figment::from(figment::providers::Serialized::defaults(Settings::default()))
            .merge(<figment::providers::Toml as figment::providers::Format>::string(toml))
            .extract()
            .unwrap();
        assert_eq!(settings.auth.oidc.len(), 1);
        assert_eq!(settings.auth.oidc[0].scopes, ["openid", "email", "profile"]);
        assert!(!settings.auth.oidc[0].link_verified_email);
    }
}
