//! Agents elsewhere, reached with the A2A client over HTTP(S).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use agentdeck_a2a_protocol::client::{AgentClient, Binding, ClientOptions};
use agentdeck_a2a_protocol::{SendMessageRequest, SendMessageResponse};
use async_trait::async_trait;

use super::{AgentTransport, CallerContext, TransportError};

/// Sends to the agents under one base URL (`{base}/{agent}`) over JSON-RPC,
/// each agent's card fetched on first use and its client kept.
pub struct HttpTransport {
    base_url: String,
    /// The client calls go through, or why it could not be built.
    http: Result<reqwest::Client, String>,
    clients: Mutex<HashMap<String, AgentClient>>,
}

impl HttpTransport {
    /// Agents at `{base_url}/{name}`, called with `http` (its TLS roots, proxies and pools).
    pub fn new(base_url: &str, http: Result<reqwest::Client, String>) -> Self {
        if let Err(error) = &http {
            tracing::error!(%error, "cannot build the HTTP client for A2A agents; calls to them will fail");
        }
        Self { base_url: base_url.trim_end_matches('/').to_owned(), http, clients: Mutex::new(HashMap::new()) }
    }

    /// Where `agent` is called.
    pub fn url_of(&self, agent: &str) -> String {
        format!("{}/{agent}", self.base_url)
    }

    /// The client of `agent`, made from its card on first use.
    async fn client(&self, agent: &str, deadline: Duration) -> Result<AgentClient, TransportError> {
        if let Some(client) = self.clients.lock().ok().and_then(|clients| clients.get(agent).cloned()) {
            return Ok(client);
        }
        let url = self.url_of(agent);
        let options =
            ClientOptions { deadline, retries: 0, prefer: Some(Binding::JsonRpc), ..ClientOptions::default() };
        let http = self
            .http
            .clone()
            .map_err(|error| TransportError::Unavailable(format!("cannot build the HTTP client: {error}")))?;
        let client = AgentClient::connect(http, &url, options).await?;
        // The card names the public URL; calls keep to the address given.
        let client = client.at(&url);
        if let Ok(mut clients) = self.clients.lock() {
            clients.insert(agent.to_owned(), client.clone());
        }
        Ok(client)
    }
}

#[async_trait]
impl AgentTransport for HttpTransport {
    async fn send(
        &self,
        agent: &str,
        request: SendMessageRequest,
        caller: &CallerContext,
        deadline: Duration,
    ) -> Result<SendMessageResponse, TransportError> {
        let attempt = async {
            let client = self.client(agent, deadline).await?;
            let client = client.acting_for(caller.bearer.clone(), caller.traceparent.clone()).with_deadline(deadline);
            Ok(client.send(&request).await?)
        };
        match tokio::time::timeout(deadline, attempt).await {
            Ok(answer) => answer,
            Err(_) => Err(TransportError::Deadline(deadline)),
        }
    }
}
