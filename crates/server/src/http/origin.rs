//! Which browser origins and hosts the edge trusts, for the checks CORS does not make.
//!
//! A WebSocket upgrade is not covered by CORS, and a page's own requests carry
//! whatever `Host` its URL names. DNS rebinding exploits both: a page on
//! `http://evil.example:8080` whose name then resolves to 127.0.0.1 reaches this
//! server with `Host: evil.example:8080` and `Origin: http://evil.example:8080` —
//! equal to each other, so "Origin matches Host" proves nothing. Both values come
//! from the attacker's URL; only configuration says which names are ours.
//!
//! So the edge trusts exactly:
//!
//! - the origin of the public URL (`public_url`, else `http://{bind}` as bound);
//! - each origin in `http.allowed_origins`;
//! - in dev mode, the loopback names `localhost`, `127.0.0.1` (any `127.x`) and
//!   `[::1]` on **any port**: a dev server of the UI (another port) keeps working,
//!   and a rebinding page cannot use them — its origin is the attacker's name, and
//!   a page that really is on a loopback origin already runs on this machine.
//!
//! [`TrustedOrigins::allows_origin`] guards `Origin` on `/api/sync`;
//! [`TrustedOrigins::allows_host`] guards `Host` on the dev login, which hands out
//! tokens and so must not answer a rebound name.

use url::{Host, Origin, Url};

use crate::config::http::parse_origin;
use crate::config::{Mode, Settings};

/// The origins and host names this server answers browsers for.
#[derive(Debug, Clone)]
pub struct TrustedOrigins {
    /// The public URL's origin and `http.allowed_origins`, parsed.
    listed: Vec<Origin>,
    /// Host names of the listed origins (a `Host` header carries no scheme).
    hosts: Vec<Host<String>>,
    /// Dev mode: loopback names on any port too.
    loopback: bool,
}

impl TrustedOrigins {
    /// The trusted origins of these settings; entries that are not origins are
    /// skipped with a warning (production refuses them at startup).
    pub fn from_settings(settings: &Settings) -> Self {
        let public = Url::parse(&settings.public_url()).ok().map(|url| url.origin()).filter(Origin::is_tuple);
        let mut listed: Vec<Origin> = public.into_iter().collect();
        for entry in &settings.http.allowed_origins {
            match parse_origin(entry) {
                Some(origin) => listed.push(origin),
                None => tracing::warn!(entry, "http.allowed_origins: not an origin (scheme://host[:port]); ignored"),
            }
        }
        let hosts = listed
            .iter()
            .filter_map(|origin| match origin {
                Origin::Tuple(_, host, _) => Some(host.clone()),
                Origin::Opaque(_) => None,
            })
            .collect();
        Self { listed, hosts, loopback: settings.mode == Mode::Dev }
    }

    /// Whether a page of `origin` (an `Origin` header's value) may call in.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let Some(parsed) = parse_origin(origin) else { return false };
        if self.listed.contains(&parsed) {
            return true;
        }
        match &parsed {
            Origin::Tuple(scheme, host, _) => {
                self.loopback && matches!(scheme.as_str(), "http" | "https") && is_loopback(host)
            }
            Origin::Opaque(_) => false,
        }
    }

    /// Whether `host` (a `Host` header's value, `name[:port]`) names this server:
    /// a listed origin's host (any port: a proxy may forward another), or in dev
    /// mode a loopback name.
    pub fn allows_host(&self, host: &str) -> bool {
        // A Host header is an authority only; anything more is not one.
        if host.is_empty() || host.contains(['/', '?', '#', '@', '\\']) {
            return false;
        }
        let Ok(url) = Url::parse(&format!("http://{host}")) else { return false };
        let Some(name) = url.host().map(|name| name.to_owned()) else { return false };
        self.hosts.contains(&name) || (self.loopback && is_loopback(&name))
    }
}

/// `localhost`, an IPv4 loopback address or `::1`.
fn is_loopback(host: &Host<String>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => address.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(mode: Mode, public_url: &str, allowed: &[&str]) -> TrustedOrigins {
        let mut settings = Settings { mode, public_url: public_url.into(), ..Settings::default() };
        settings.http.allowed_origins = allowed.iter().map(|entry| (*entry).to_owned()).collect();
        TrustedOrigins::from_settings(&settings)
    }

    #[test]
    fn production_trusts_only_the_public_url_and_the_list() {
        let origins = trusted(Mode::Production, "https://dash.example.com/base/", &["https://app.example.com"]);
        assert!(origins.allows_origin("https://dash.example.com"));
        assert!(origins.allows_origin("https://DASH.example.com:443"));
        assert!(origins.allows_origin("https://app.example.com"));
        for refused in ["http://dash.example.com", "https://dash.example.com:8443", "http://localhost:8080", "null"] {
            assert!(!origins.allows_origin(refused), "{refused}");
        }
        assert!(origins.allows_host("dash.example.com"));
        assert!(origins.allows_host("dash.example.com:8080"), "a proxy may forward another port");
        assert!(!origins.allows_host("127.0.0.1:8080"));
    }

    #[test]
    fn dev_mode_adds_loopback_names_on_any_port() {
        let origins = trusted(Mode::Dev, "http://127.0.0.1:8080", &[]);
        for allowed in ["http://127.0.0.1:8080", "http://localhost:5173", "http://[::1]:9000", "http://127.0.0.2"] {
            assert!(origins.allows_origin(allowed), "{allowed}");
        }
        for host in ["127.0.0.1:8080", "localhost", "[::1]:1"] {
            assert!(origins.allows_host(host), "{host}");
        }
    }

    #[test]
    fn a_rebound_name_is_refused_whatever_its_port() {
        let origins = trusted(Mode::Dev, "http://127.0.0.1:8080", &[]);
        assert!(!origins.allows_origin("http://evil.example:8080"));
        assert!(!origins.allows_origin("http://localhost.evil.example:8080"));
        for host in ["evil.example:8080", "evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "a/b", ""] {
            assert!(!origins.allows_host(host), "{host}");
        }
    }
}
