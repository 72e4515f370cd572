//! `[smtp]`: the mail server invitations are sent through, and `[invitations]`:
//! how long their links stay valid.
//!
//! SMTP is off until `smtp.host` is set; without it an invitation's link is
//! handed back to the inviter to pass on. The password may come from a file
//! (`smtp.password_file`) so it stays out of the environment and the config file.

use std::net::IpAddr;
use std::time::Duration;

use agentdeck_services::accounts::invitations::InvitationOptions;
use agentdeck_services::mail::{MailError, Mailer, SmtpOptions, SmtpTls};
use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings, env_var};

/// Longest validity of an invitation link (30 days); longer settings are cut to it.
const MAX_TTL_HOURS: u64 = 30 * 24;

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTlsSetting {
    /// `STARTTLS` on a plain connection, required (port 587).
    #[default]
    Starttls,
    /// TLS from the start (port 465).
    Tls,
    /// No encryption (port 25); production allows it only for a loopback host.
    None,
}

impl From<SmtpTlsSetting> for SmtpTls {
    fn from(setting: SmtpTlsSetting) -> Self {
        match setting {
            SmtpTlsSetting::Starttls => SmtpTls::StartTls,
            SmtpTlsSetting::Tls => SmtpTls::Tls,
            SmtpTlsSetting::None => SmtpTls::None,
        }
    }
}

/// `[smtp]`: where invitation mails go out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// Host name of the SMTP server; empty: no mail (invitations hand back a link).
    pub host: String,
    /// Port; 0: the usual one for `tls` (587, 465 or 25).
    pub port: u16,
    /// User name for `AUTH`; empty: none.
    pub username: String,
    /// Password for `AUTH` (prefer `password_file`).
    pub password: String,
    /// A file whose first line is the password.
    pub password_file: String,
    /// The sender, e.g. `agentdeck <noreply@example.org>`; required with `host`.
    pub from: String,
    /// `starttls`, `tls` or `none`.
    pub tls: SmtpTlsSetting,
    /// Longest wait for the server at each step, in seconds (the whole send: twice that).
    pub timeout_secs: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 0,
            username: String::new(),
            password: String::new(),
            password_file: String::new(),
            from: String::new(),
            tls: SmtpTlsSetting::Starttls,
            timeout_secs: 10,
        }
    }
}

// By hand, so that the password never reaches a log line.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "<redacted>" })
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

impl SmtpSettings {
    /// Whether mail is configured at all.
    pub fn enabled(&self) -> bool {
        !self.host.trim().is_empty()
    }

    /// Whether `host` is this machine (`localhost` or a loopback address).
    pub fn host_is_loopback(&self) -> bool {
        let host = self.host.trim().trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
    }
}

/// `[invitations]`: invitation links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvitationSettings {
    /// How long a link stays valid, in hours (1–720).
    pub ttl_hours: u64,
}

impl Default for InvitationSettings {
    fn default() -> Self {
        Self { ttl_hours: 72 }
    }
}

impl Settings {
    /// The mailer of the `[smtp]` settings, `None` when `smtp.host` is empty; a
    /// missing sender, an unreadable password file or unusable certificates are
    /// errors naming the setting.
    pub fn mailer(&self) -> Result<Option<Mailer>, ConfigError> {
        let smtp = &self.smtp;
        if !smtp.enabled() {
            return Ok(None);
        }
        let invalid = |setting: &'static str, reason: String| ConfigError::SettingInvalid {
            setting,
            env: env_var(setting),
            reason,
        };
        if smtp.from.trim().is_empty() {
            return Err(invalid(
                "smtp.from",
                "is required when smtp.host is set, e.g. \"agentdeck <noreply@example.org>\"".into(),
            ));
        }
        if !smtp.password.is_empty() && !smtp.password_file.is_empty() {
            return Err(invalid(
                "smtp.password_file",
                "set either smtp.password or smtp.password_file, not both".into(),
            ));
        }
        let password = if smtp.password_file.is_empty() {
            smtp.password.clone()
        } else {
            let path = smtp.password_file.as_str();
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::SettingFile {
                setting: "smtp.password_file",
                env: env_var("smtp.password_file"),
                path: path.into(),
                source,
            })?;
            text.lines().next().unwrap_or_default().to_owned()
        };
        let credentials = (!smtp.username.is_empty()).then(|| (smtp.username.clone(), password));
        let extra_roots_pem = if self.http_client.ca_file.is_empty() {
            None
        } else {
            let path = self.http_client.ca_file.as_str();
            Some(std::fs::read(path).map_err(|source| ConfigError::SettingFile {
                setting: "http_client.ca_file",
                env: env_var("http_client.ca_file"),
                path: path.into(),
                source,
            })?)
        };
        let tls = SmtpTls::from(smtp.tls);
        let options = SmtpOptions {
            host: smtp.host.trim().to_owned(),
            port: if smtp.port == 0 { tls.default_port() } else { smtp.port },
            credentials,
            from: smtp.from.clone(),
            tls,
            timeout: Duration::from_secs(smtp.timeout_secs.max(1)),
            extra_roots_pem,
        };
        Mailer::new(options).map(Some).map_err(|error| match error {
            MailError::BadSender { .. } => invalid("smtp.from", error.to_string()),
            other => invalid("http_client.ca_file", other.to_string()),
        })
    }

    /// How invitations are made: link lifetime (1 hour to 30 days) and the public URL.
    pub fn invitation_options(&self) -> InvitationOptions {
        let hours = self.invitations.ttl_hours.clamp(1, MAX_TTL_HOURS);
        InvitationOptions { ttl: chrono::Duration::hours(hours as i64), public_url: self.public_url() }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on a broken fixture")]

    use super::*;

    fn with_smtp(adjust: impl FnOnce(&mut SmtpSettings)) -> Settings {
        let mut settings = Settings::default();
        settings.smtp.host = "smtp.example.org".into();
        settings.smtp.from = "agentdeck <noreply@example.org>".into();
        adjust(&mut settings.smtp);
        settings
    }

    #[test]
    fn no_host_means_no_mailer() {
        assert!(Settings::default().mailer().unwrap().is_none());
        assert!(with_smtp(|_| {}).mailer().unwrap().is_some());
    }

    #[test]
    fn mistakes_name_their_setting() {
        let error = with_smtp(|smtp| smtp.from = String::new()).mailer().unwrap_err().to_string();
        assert!(error.contains("smtp.from") && error.contains("AGENTDECK_SMTP__FROM"), "{error}");
        let error = with_smtp(|smtp| smtp.from = "nobody".into()).mailer().unwrap_err().to_string();
        assert!(error.contains("smtp.from"), "{error}");
        let error = with_smtp(|smtp| smtp.password_file = "/nonexistent/smtp-password".into())
            .mailer()
            .unwrap_err()
            .to_string();
        assert!(error.contains("smtp.password_file") && error.contains("/nonexistent/smtp-password"), "{error}");
        let error = with_smtp(|smtp| {
            smtp.password = "x".into();
            smtp.password_file = "y".into();
        })
        .mailer()
        .unwrap_err()
        .to_string();
        assert!(error.contains("not both"), "{error}");
    }

    #[test]
    fn the_password_file_gives_its_first_line_and_debug_hides_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smtp-password");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        let settings = with_smtp(|smtp| {
            smtp.username = "mailer".into();
            smtp.password_file = path.display().to_string();
        });
        assert!(settings.mailer().unwrap().is_some());
        let shown = format!("{:?}", with_smtp(|smtp| smtp.password = "hunter2".into()).smtp);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.2"] {
            assert!(with_smtp(|smtp| smtp.host = host.into()).smtp.host_is_loopback(), "{host}");
        }
        for host in ["smtp.example.org", "10.0.0.1", "localhost.example.org"] {
            assert!(!with_smtp(|smtp| smtp.host = host.into()).smtp.host_is_loopback(), "{host}");
        }
    }

    #[test]
    fn production_refuses_plain_smtp_to_a_remote_host_only() {
        let problems = |host: &str, tls: SmtpTlsSetting| {
            let mut settings = with_smtp(|smtp| {
                smtp.host = host.into();
                smtp.tls = tls;
            });
            settings.mode = super::super::Mode::Production;
            settings.check_production().err().map(|error| error.to_string()).unwrap_or_default()
        };
        let refused = problems("smtp.example.org", SmtpTlsSetting::None);
        assert!(refused.contains("smtp.tls (AGENTDECK_SMTP__TLS)"), "{refused}");
        assert!(!problems("127.0.0.1", SmtpTlsSetting::None).contains("smtp.tls"));
        assert!(!problems("smtp.example.org", SmtpTlsSetting::Starttls).contains("smtp.tls"));
        assert!(!problems("smtp.example.org", SmtpTlsSetting::Tls).contains("smtp.tls"));
    }

    #[test]
    fn the_link_lifetime_is_bounded() {
        let mut settings = Settings::default();
        assert_eq!(settings.invitation_options().ttl, chrono::Duration::hours(72));
        settings.invitations.ttl_hours = 0;
        assert_eq!(settings.invitation_options().ttl, chrono::Duration::hours(1));
        settings.invitations.ttl_hours = 100_000;
        assert_eq!(settings.invitation_options().ttl, chrono::Duration::hours(720));
    }
}
