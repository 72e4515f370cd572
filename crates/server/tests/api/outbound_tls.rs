//! TLS of outbound calls: a push delivery to an `https://` webhook whose
//! certificate a private test CA signed arrives when `http_client.ca_file`
//! names that CA, and fails the handshake with a certificate error when it
//! does not (Mozilla's roots alone do not know the CA).

use std::sync::Arc;
use std::time::Duration;

use agentdeck_services::outbound::{OutboundHttp, error_chain};
use axum::Router;
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::helpers::spawn_app_with;
use crate::support::tls::{TlsListener, test_pki};

/// Longest wait for an event that must come (never a synchronising sleep).
const WITHIN: Duration = Duration::from_secs(30);

/// An HTTPS webhook on 127.0.0.1: every delivery's body, and every failed handshake, is told.
struct TlsWebhook {
    url: String,
    deliveries: mpsc::Receiver<String>,
    handshake_failures: mpsc::Receiver<String>,
}

async fn tls_webhook(server: Arc<rustls::ServerConfig>) -> anyhow::Result<TlsWebhook> {
    let (delivered, deliveries) = mpsc::channel(64);
    let app = Router::new().route(
        "/hook",
        post(move |body: String| {
            let _ = delivered.try_send(body);
            async {}
        }),
    );
    let tcp = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("https://{}/hook", tcp.local_addr()?);
    let (listener, handshake_failures) = TlsListener::new(tcp, server);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(TlsWebhook { url, deliveries, handshake_failures })
}

/// A task of the conformance agent with an inline push config to `url` (its first delivery is the task).
fn send_with_webhook(message_id: &str, url: &str) -> serde_json::Value {
    json!({"message": {"messageId": message_id, "role": "ROLE_USER", "parts": [{"text": "x"}]},
           "configuration": {"returnImmediately": true, "taskPushNotificationConfig": {"url": url}}})
}

async fn next(receiver: &mut mpsc::Receiver<String>, what: &str) -> anyhow::Result<String> {
    tokio::time::timeout(WITHIN, receiver.recv())
        .await
        .map_err(|_| anyhow::anyhow!("no {what} within {WITHIN:?}"))?
        .ok_or_else(|| anyhow::anyhow!("the webhook stopped"))
}

#[tokio::test]
async fn a_push_to_an_https_webhook_of_a_private_ca_arrives_when_the_ca_file_is_configured() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let ca_file = tempfile::NamedTempFile::new()?;
    std::fs::write(ca_file.path(), &pki.ca_pem)?;
    let mut webhook = tls_webhook(pki.server.clone()).await?;
    let ca_path = ca_file.path().to_string_lossy().into_owned();
    let app = spawn_app_with(|settings| settings.http_client.ca_file = ca_path).await;

    let (_, _, started) = app
        .a2a_call("/a2a/conformance", Some(&app.token), "SendMessage", send_with_webhook("tls-push-1", &webhook.url))
        .await;
    let task_id = started["result"]["task"]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!task_id.is_empty(), "{started}");
    let delivered: serde_json::Value = serde_json::from_str(&next(&mut webhook.deliveries, "delivery").await?)?;
    assert_eq!(delivered["task"]["id"], json!(task_id), "{delivered}");
    assert!(webhook.handshake_failures.try_recv().is_err(), "no handshake failed");
    Ok(())
}

#[tokio::test]
async fn a_push_to_an_https_webhook_of_an_unknown_ca_fails_with_a_certificate_error() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let mut webhook = tls_webhook(pki.server.clone()).await?;
    let app = spawn_app_with(|_| {}).await;

    let (_, _, started) = app
        .a2a_call("/a2a/conformance", Some(&app.token), "SendMessage", send_with_webhook("tls-push-2", &webhook.url))
        .await;
    assert!(started["result"]["task"]["id"].is_string(), "{started}");
    // The server's client refuses the certificate and tells the webhook why (a TLS alert).
    let failure = next(&mut webhook.handshake_failures, "failed handshake").await?;
    assert!(failure.contains("UnknownCA") || failure.contains("BadCertificate"), "{failure}");
    assert!(webhook.deliveries.try_recv().is_err(), "nothing was delivered");
    Ok(())
}

#[tokio::test]
async fn outbound_clients_trust_the_ca_file_and_without_it_name_the_unknown_issuer() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let mut webhook = tls_webhook(pki.server.clone()).await?;
    let ca_file = tempfile::NamedTempFile::new()?;
    std::fs::write(ca_file.path(), &pki.ca_pem)?;

    let trusting = OutboundHttp::new(Some(ca_file.path()))?.client_builder().build()?;
    let answer = trusting.post(&webhook.url).body("hello").send().await?;
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(next(&mut webhook.deliveries, "delivery").await?, "hello");

    let default_roots = OutboundHttp::new(None)?.client_builder().build()?;
    let refused = default_roots.post(&webhook.url).body("hello").send().await;
    let error = refused.err().map(|error| error_chain(&error)).unwrap_or_default();
    assert!(error.contains("UnknownIssuer"), "a certificate error: {error}");
    Ok(())
}
