//! Push notifications: each task event POSTed to the task's webhooks.
//!
//! A delivery is one `StreamResponse` as `application/a2a+json`, with the
//! config's `Authorization` (scheme and credentials), its token as
//! `X-A2A-Notification-Token`, the event's sequence number as
//! `X-A2A-Event-Id` (receivers dedupe on it: delivery is at least once) and
//! an HMAC-SHA256 signature `X-A2A-Signature: t=<unix secs>,v1=<hex>` over
//! `<t>.<body>` with the server's signing key. Failures (network, 429, 5xx)
//! are retried with exponential backoff; other 4xx answers are final.
//!
//! `https://` webhooks are verified against the roots of the
//! [`OutboundHttp`] factory (Mozilla's, plus the configured CA file).
//!
//! Webhook URLs must be `http(s)` and, unless private networks are allowed,
//! must not resolve to loopback, private, link-local or unspecified
//! addresses — checked when a config is created and again at each delivery,
//! since DNS may change in between.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use agentdeck_a2a_protocol::{A2aError, FieldViolation, StreamResponse, TaskPushNotificationConfig};
use backon::{ExponentialBuilder, Retryable};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::outbound::{OutboundHttp, describe_request_error};

/// How pushes are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOptions {
    /// Whether webhooks may be on loopback or private networks (dev, tests).
    pub allow_private_networks: bool,
    /// The HMAC key deliveries are signed with.
    pub signing_key: Vec<u8>,
    /// Timeout of one delivery attempt.
    pub timeout: Duration,
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// First retry delay; doubled each time.
    pub first_backoff: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            allow_private_networks: false,
            signing_key: Vec::new(),
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            first_backoff: Duration::from_millis(500),
            concurrency: 32,
        }
    }
}

/// Sends deliveries in the background, bounded in number.
#[derive(Clone)]
pub(crate) struct Pusher {
    /// `None` if the HTTP client could not be built (then every delivery is logged as lost).
    http: Option<reqwest::Client>,
    options: Arc<PushOptions>,
    slots: Arc<Semaphore>,
    runs: TaskTracker,
}

fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let unique_local = (v6.segments()[0] & 0xfe00) == 0xfc00;
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            let mapped_private = v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4)));
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local || mapped_private)
        }
    }
}

fn url_violation(description: impl Into<String>) -> A2aError {
    A2aError::invalid_params(vec![FieldViolation::new("url", description)])
}

impl Pusher {
    /// Delivers with clients of `outbound` (so `https://` webhooks are checked against its roots).
    pub(crate) fn new(options: PushOptions, outbound: &OutboundHttp, runs: TaskTracker) -> Self {
        // No redirects: a webhook that redirects could lead the server past the address check.
        let http = outbound
            .client_builder()
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .inspect_err(|error| tracing::error!(%error, "cannot build the push HTTP client; pushes will fail"))
            .ok();
        let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
        Self { http, options: Arc::new(options), slots, runs }
    }

    /// Checks a webhook URL: scheme, host, and where it resolves.
    pub(crate) async fn check_url(&self, url: &str) -> Result<(), A2aError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| url_violation(format!("is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(url_violation("must be an http or https URL"));
        }
        let host = parsed.host_str().ok_or_else(|| url_violation("has no host"))?.to_owned();
        if self.options.allow_private_networks {
            return Ok(());
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(address) => vec![address],
            Err(_) => tokio::time::timeout(self.options.timeout, tokio::net::lookup_host((host.as_str(), port)))
                .await
                .map_err(|_| url_violation("its host did not resolve in time"))?
                .map_err(|e| url_violation(format!("its host does not resolve: {e}")))?
                .map(|socket| socket.ip())
                .collect(),
        };
        if addresses.is_empty() || addresses.iter().any(|address| !is_public(*address)) {
            return Err(url_violation(
                "points to a loopback, private or link-local address; allow private networks in the a2a settings to use it",
            ));
        }
        Ok(())
    }

    /// The signature header value for a body sent at `unix_secs`.
    pub(crate) fn signature(&self, unix_secs: i64, body: &[u8]) -> String {
        // HMAC takes keys of any length, so this never fails.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.options.signing_key) else {
            return String::new();
        };
        mac.update(unix_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("t={unix_secs},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Queues the delivery of one event to every config.
    pub(crate) fn deliver(&self, configs: Vec<TaskPushNotificationConfig>, seq: i64, event: Arc<StreamResponse>) {
        for config in configs {
            let pusher = self.clone();
            let event = event.clone();
            self.runs.spawn(async move {
                let Ok(_slot) = pusher.slots.clone().acquire_owned().await else {
                    return;
                };
                pusher.deliver_one(&config, seq, &event).await;
            });
        }
    }

    /// Delivers one event to one config, retrying with exponential backoff
    /// (`first_backoff`, doubling) up to `max_attempts` attempts in all.
    async fn deliver_one(&self, config: &TaskPushNotificationConfig, seq: i64, event: &StreamResponse) {
        let (Some(http), Ok(body)) = (&self.http, serde_json::to_vec(event)) else {
            tracing::error!(task_id = %config.task_id, seq, "push lost: no HTTP client");
            return;
        };
        let retries = usize::try_from(self.options.max_attempts.max(1) - 1).unwrap_or(usize::MAX);
        let backoff = ExponentialBuilder::new()
            .with_min_delay(self.options.first_backoff)
            .with_factor(2.0)
            .without_max_delay()
            .with_max_times(retries);
        let attempt = || self.attempt(http, config, seq, &body);
        let outcome = attempt
            .retry(backoff)
            .when(AttemptFailure::is_retryable)
            .notify(|failure, delay| {
                tracing::debug!(task_id = %config.task_id, %failure, ?delay, "push not delivered; retrying");
            })
            .await;
        match outcome {
            Ok(()) => {}
            Err(AttemptFailure::Refused(error)) => {
                tracing::warn!(task_id = %config.task_id, config_id = %config.id, %error, "push refused");
            }
            Err(failure) => {
                tracing::warn!(task_id = %config.task_id, config_id = %config.id, seq, %failure, "push given up");
            }
        }
    }

    /// One attempt: the address check again (DNS may have changed), then the signed POST.
    async fn attempt(
        &self,
        http: &reqwest::Client,
        config: &TaskPushNotificationConfig,
        seq: i64,
        body: &[u8],
    ) -> Result<(), AttemptFailure> {
        self.check_url(&config.url).await.map_err(AttemptFailure::Refused)?;
        let unix_secs = chrono::Utc::now().timestamp();
        let mut request = http
            .post(&config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/a2a+json")
            .header("X-A2A-Event-Id", seq.to_string())
            .header("X-A2A-Signature", self.signature(unix_secs, body))
            .body(body.to_vec());
        if let Some(auth) = &config.authentication {
            let credentials = auth.credentials.as_deref().unwrap_or_default();
            request = request.header(reqwest::header::AUTHORIZATION, format!("{} {credentials}", auth.scheme));
        }
        if let Some(token) = &config.token {
            request = request.header("X-A2A-Notification-Token", token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(AttemptFailure::Status(response.status())),
            Err(error) => Err(AttemptFailure::Transport(error)),
        }
    }
}

/// Why one delivery attempt did not land.
#[derive(Debug, thiserror::Error)]
enum AttemptFailure {
    /// The URL no longer passes the address check: final.
    #[error("refused: {0}")]
    Refused(A2aError),
    /// The receiver answered with this status: retried on 429 and 5xx, final otherwise.
    #[error("answered HTTP {0}")]
    Status(reqwest::StatusCode),
    /// The request did not complete (connect, TLS, timeout): retried. The
    /// message names the cause (a refused certificate, a refused connection),
    /// which reqwest's own first line does not.
    #[error("transport: {}", describe_request_error(.0))]
    Transport(reqwest::Error),
}

impl AttemptFailure {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Refused(_) => false,
            Self::Status(status) => status.is_server_error() || *status == reqwest::StatusCode::TOO_MANY_REQUESTS,
            Self::Transport(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(is_public(public.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))), "{public}");
        }
    }

    #[tokio::test]
    async fn private_webhooks_are_refused_unless_allowed() {
        let strict = Pusher::new(PushOptions::default(), &OutboundHttp::default(), TaskTracker::new());
        for private in
            ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]/hook", "http://169.254.169.254/"]
        {
            assert_eq!(strict.check_url(private).await.map_err(|e| e.code()), Err(-32602), "{private}");
        }
        assert!(strict.check_url("ftp://example.com/x").await.is_err());
        assert!(strict.check_url("not a url").await.is_err());
        let open = Pusher::new(
            PushOptions { allow_private_networks: true, ..PushOptions::default() },
            &OutboundHttp::default(),
            TaskTracker::new(),
        );
        assert!(open.check_url("http://127.0.0.1:9/hook").await.is_ok());
        assert!(open.check_url("ftp://example.com/x").await.is_err());
    }

    #[test]
    fn signatures_are_hmac_sha256_over_time_and_body() {
        let pusher = Pusher::new(
            PushOptions { signing_key: b"key".to_vec(), ..PushOptions::default() },
            &OutboundHttp::default(),
            TaskTracker::new(),
        );
        let signature = pusher.signature(1_700_000_000, b"{}");
        // echo -n '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(signature, "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
    }
}
