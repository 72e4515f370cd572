//! The settings with secrets replaced, for `agentdeck config` and logs.

use url::{Position, Url};

use super::Settings;

impl Settings {
    /// The settings with secrets replaced, for printing.
    pub fn redacted(&self) -> Settings {
        let mut copy = self.clone();
        if !copy.auth.jwt_secret.is_empty() {
            copy.auth.jwt_secret = "<redacted>".into();
        }
        if !copy.a2a.push_signing_secret.is_empty() {
            copy.a2a.push_signing_secret = "<redacted>".into();
        }
        copy.database_url = redact_url_password(&copy.database_url);
        copy.redis_url = redact_url_password(&copy.redis_url);
        copy
    }
}

/// `scheme://user:password@host…` → `scheme://user:<redacted>@host…`; anything else as it is.
fn redact_url_password(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) if url.password().is_some() => {
            // Spliced rather than `set_password`, which would percent-encode the marker.
            format!("{}:<redacted>@{}", &url[..Position::AfterUsername], &url[Position::BeforeHost..])
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passwords_are_redacted() {
        assert_eq!(
            redact_url_password("postgres://app:hunter2@db:5432/x?sslmode=require"),
            "postgres://app:<redacted>@db:5432/x?sslmode=require"
        );
        assert_eq!(redact_url_password("redis://:hunter2@cache:6379"), "redis://:<redacted>@cache:6379");
        for unchanged in ["redis://cache:6379", "postgres://app@db/x", "", "not a url"] {
            assert_eq!(redact_url_password(unchanged), unchanged);
        }
    }
}
