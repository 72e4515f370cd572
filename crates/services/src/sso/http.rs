//! The HTTP client `openidconnect` runs over: the project's reqwest client
//! (rustls on ring, the outbound roots and CA file), with a timeout, no
//! redirects and a cap on answer sizes.
//!
//! `openidconnect`'s own `reqwest` feature wants reqwest 0.12; implementing its
//! [`AsyncHttpClient`] here keeps one HTTP stack in the binary. Redirects are
//! not followed because a provider's endpoints never redirect, and following
//! them would let a compromised discovery document point requests anywhere
//! (server-side request forgery).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::StreamExt;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::outbound::{OutboundHttp, error_chain};

/// Largest answer read from a provider (discovery, keys, tokens, user info).
pub const MAX_PROVIDER_ANSWER_BYTES: usize = 1 << 20;

/// Why a call to a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderHttpError {
    /// The request could not be built or sent, or the answer not read (timeouts included).
    #[error("{0}")]
    Transport(String),
    /// The answer is larger than [`MAX_PROVIDER_ANSWER_BYTES`].
    #[error("the answer is larger than {MAX_PROVIDER_ANSWER_BYTES} bytes")]
    TooLarge,
}

/// An `openidconnect` HTTP client over reqwest (cheap to clone).
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
}

impl ProviderHttp {
    /// A client trusting `outbound`'s roots, giving up on a call after `timeout`.
    pub fn new(outbound: &OutboundHttp, timeout: Duration) -> Result<Self, ProviderHttpError> {
        let client = outbound
            .client_builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // No idle connections: logins are rare, and a provider that closes idle
            // sockets (Node's 5 s keep-alive) would reset the reused one mid-exchange.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|error| ProviderHttpError::Transport(error_chain(&error)))?;
        Ok(Self { client })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ProviderHttpError> {
        let transport = |error: reqwest::Error| ProviderHttpError::Transport(error_chain(&error));
        let (parts, body) = request.into_parts();
        let response = self
            .client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        if response.content_length().is_some_and(|length| length > MAX_PROVIDER_ANSWER_BYTES as u64) {
            return Err(ProviderHttpError::TooLarge);
        }
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(transport)?;
            if body.len() + chunk.len() > MAX_PROVIDER_ANSWER_BYTES {
                return Err(ProviderHttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let mut answer = HttpResponse::new(body);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
