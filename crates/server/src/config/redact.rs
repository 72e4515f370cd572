//! The settings with secrets replaced, for `agentdeck config` and logs.

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

fn redact_url_password(url: &str) -> String {
    // scheme://user:password@host… → scheme://user:<redacted>@host…
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
        None => url.to_owned(),
    }
}
