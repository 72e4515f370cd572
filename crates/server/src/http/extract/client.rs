//! `ClientAddress`: the address of the client a request comes from.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use crate::config::Settings;
use crate::state::AppState;

/// Longest address kept from `X-Forwarded-For` (an IPv6 address with a zone fits).
const MAX_ADDRESS_CHARS: usize = 64;

/// The client's address: the first `X-Forwarded-For` entry when
/// `http.behind_proxy` is set (the proxy put it there), else the peer of the
/// TCP connection; `unknown` when neither is known. It keys the per-address
/// rate limits and is written to the auth log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl ClientAddress {
    /// The address of a request with these headers and extensions under these settings.
    pub fn of(settings: &Settings, headers: &HeaderMap, extensions: &Extensions) -> Self {
        if settings.http.behind_proxy
            && let Some(forwarded) = headers.get("x-forwarded-for").and_then(|value| value.to_str().ok())
            && let Some(first) = forwarded.split(',').next().map(str::trim).filter(|ip| !ip.is_empty())
        {
            return Self(first.chars().take(MAX_ADDRESS_CHARS).collect());
        }
        match extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(address)) => Self(address.ip().to_string()),
            None => Self("unknown".to_owned()),
        }
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&state.settings, &parts.headers, &parts.extensions))
    }
}
