//! The A2A client and the gateway calling agents over `https://`: a real
//! agentdeck server behind a TLS front whose certificate a private test CA
//! signed. With that CA in `http_client.ca_file` the card is read and
//! messages are answered; with Mozilla's roots only, or with a certificate
//! that expired or names another host, the call fails with an error that says
//! it is the certificate, which one, and what to change.

use agentdeck_a2a_protocol::client::{AgentClient, CertificateProblem, ClientError, ClientOptions};
use agentdeck_a2a_protocol::{GetTaskRequest, Message, SendMessageRequest, SendMessageResponse, TaskState};
use agentdeck_services::outbound::OutboundHttp;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::a2a_troubleshooting::guide_quotes;
use crate::helpers::{TestApp, spawn_app_with};
use crate::support::tls::{RunningFront, TestPki, TlsFront, test_pki};

/// A dev server whose public URL is the HTTPS front that `pki`'s valid certificate serves for it;
/// `ca_file` (when given) is its `http_client.ca_file` and `gateway_over_front` points its gateway at the front.
async fn server_behind_tls(
    pki: &TestPki,
    ca_file: Option<&tempfile::NamedTempFile>,
    gateway_over_front: bool,
) -> anyhow::Result<(TestApp, RunningFront)> {
    let front = TlsFront::bind().await?;
    let public_url = front.url.clone();
    let ca_path = ca_file.map(|file| file.path().to_string_lossy().into_owned());
    let app = spawn_app_with(|settings| {
        settings.public_url = public_url.clone();
        if gateway_over_front {
            settings.gateway.agents_url = format!("{public_url}/a2a");
        }
        if let Some(path) = ca_path {
            settings.http_client.ca_file = path;
        }
    })
    .await;
    let running = front.forward_to(pki.server.clone(), &app.address)?;
    Ok((app, running))
}

/// An HTTP client of outbound calls trusting Mozilla's roots and, when given, the test CA.
fn outbound_client(ca_file: Option<&tempfile::NamedTempFile>) -> anyhow::Result<reqwest::Client> {
    Ok(OutboundHttp::new(ca_file.map(tempfile::NamedTempFile::path))?.client_builder().build()?)
}

/// What follows "not accepted: " in a refused certificate's error: the part the guide quotes.
fn reason(error: &str) -> &str {
    error.split_once("not accepted: ").map_or(error, |(_, reason)| reason)
}

fn options(token: &str) -> ClientOptions {
    ClientOptions { bearer: Some(token.to_owned()), retries: 0, ..ClientOptions::default() }
}

#[tokio::test]
async fn the_a2a_client_reads_the_card_and_sends_to_an_https_agent_whose_ca_it_was_given() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let ca_file = pki.ca_file()?;
    let (app, front) = server_behind_tls(&pki, None, false).await?;

    let agent_url = format!("{}/a2a/conformance", front.url);
    let client = AgentClient::connect(outbound_client(Some(&ca_file))?, &agent_url, options(&app.token)).await?;
    // The card names the agent at its public https URL, and the calls go there.
    assert_eq!(client.endpoint().url, agent_url, "{:?}", client.endpoint());

    let request = SendMessageRequest::new(Message::user_text("tls-client-1", "hello over TLS"));
    let SendMessageResponse::Task(task) = client.send(&request).await? else {
        anyhow::bail!("the conformance agent answers an echo with a task");
    };
    assert_eq!(task.status.state, TaskState::Completed, "{task:?}");
    let read = client.get_task(&GetTaskRequest { id: task.id.clone(), ..GetTaskRequest::default() }).await?;
    assert_eq!((read.id, read.status.state), (task.id, TaskState::Completed));
    Ok(())
}

#[tokio::test]
async fn without_the_ca_the_a2a_client_refuses_the_agent_naming_the_unknown_issuer() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let (app, mut front) = server_behind_tls(&pki, None, false).await?;

    let agent_url = format!("{}/a2a/conformance", front.url);
    let refused = AgentClient::connect(outbound_client(None)?, &agent_url, options(&app.token)).await.map(|_| ());
    let Err(error) = refused else { anyhow::bail!("Mozilla's roots do not know the test CA") };
    assert!(
        matches!(&error, ClientError::Certificate { problem: CertificateProblem::UnknownIssuer, url }
            if url == &format!("{agent_url}/.well-known/agent-card.json")),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "TLS certificate of {agent_url}/.well-known/agent-card.json not accepted: \
             it is signed by a CA this client does not trust (UnknownIssuer)"
        )
    );
    // The front saw the client give up on the handshake: nothing reached the agent.
    let failure = front.handshake_failures.recv().await.unwrap_or_default();
    assert!(failure.contains("UnknownCA") || failure.contains("BadCertificate"), "{failure}");
    Ok(())
}

#[tokio::test]
async fn an_expired_or_wrong_host_certificate_is_refused_saying_which() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let ca_file = pki.ca_file()?;
    let app = spawn_app_with(|_| {}).await;
    let trusting = outbound_client(Some(&ca_file))?;

    let expired = TlsFront::bind().await?.forward_to(pki.expired_server()?, &app.address)?;
    let agent_url = format!("{}/a2a/conformance", expired.url);
    let refused = AgentClient::connect(trusting.clone(), &agent_url, options(&app.token)).await.map(|_| ());
    let Err(error) = refused else { anyhow::bail!("the certificate expired in 2021") };
    assert!(matches!(&error, ClientError::Certificate { problem: CertificateProblem::Expired(_), .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("not accepted: it is out of its validity period (certificate expired"), "{text}");
    guide_quotes("case 11 (expired)", "`it is out of its validity period (certificate expired: verification time ");

    let elsewhere = TlsFront::bind().await?.forward_to(pki.server_for_host("agents.example")?, &app.address)?;
    let agent_url = format!("{}/a2a/conformance", elsewhere.url);
    let refused = AgentClient::connect(trusting, &agent_url, options(&app.token)).await.map(|_| ());
    let Err(error) = refused else { anyhow::bail!("the certificate is for agents.example, not 127.0.0.1") };
    assert!(matches!(&error, ClientError::Certificate { problem: CertificateProblem::WrongHost(_), .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("it is for another host (certificate not valid for name \"127.0.0.1\""), "{text}");
    assert!(text.contains("agents.example"), "the names it holds: {text}");
    guide_quotes("case 11 (another host)", &format!("`{}`", reason(&text)));
    Ok(())
}

#[tokio::test]
async fn a_self_signed_ca_certificate_is_refused_as_one() -> anyhow::Result<()> {
    let app = spawn_app_with(|_| {}).await;
    let front = TlsFront::bind().await?.forward_to(TestPki::self_signed_server()?, &app.address)?;
    let agent_url = format!("{}/a2a/conformance", front.url);
    let refused = AgentClient::connect(outbound_client(None)?, &agent_url, options(&app.token)).await.map(|_| ());
    let Err(error) = refused else { anyhow::bail!("nobody vouches for a self-signed certificate") };
    assert!(
        matches!(&error, ClientError::Certificate { problem: CertificateProblem::CaAsServerCertificate, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("not accepted: it is a CA certificate, not one issued to a server"), "{error}");
    guide_quotes("case 11 (CA as server certificate)", &format!("| `{}` |", reason(&error.to_string())));
    // A push delivery to such a webhook logs the same reason and what to change (`push given up … failure=transport: …`).
    let Err(refused) = outbound_client(None)?.post(format!("{}/hook", front.url)).send().await else {
        anyhow::bail!("nobody vouches for a self-signed certificate")
    };
    let logged = format!("failure=transport: {}", agentdeck_services::outbound::describe_request_error(&refused));
    assert!(
        logged.ends_with("; give the server a certificate a CA issued to it, and name that CA in http_client.ca_file")
    );
    guide_quotes("case 11 (push log)", &logged);
    Ok(())
}

fn agent_errors(answer: &Value) -> Vec<(String, String)> {
    ["navi", "pulse", "herald"]
        .iter()
        .map(|agent| ((*agent).to_owned(), answer["agents"][agent]["error"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_gateway_calls_https_agents_trusting_the_ca_file() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let ca_file = pki.ca_file()?;
    let (app, _front) = server_behind_tls(&pki, Some(&ca_file), true).await?;

    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for (agent, error) in agent_errors(&answer) {
        assert_eq!(answer["agents"][&agent]["ok"], true, "{agent}: {error}");
    }
    let project_widgets = answer["widgets"].as_array().into_iter().flatten().filter(|w| w["type"] == "ProjectStatus");
    assert_eq!(project_widgets.count(), 4, "Navigator's answer came through https: {answer}");
    Ok(())
}

#[tokio::test]
async fn without_the_ca_file_the_gateway_shows_which_certificate_and_which_setting() -> anyhow::Result<()> {
    let pki = test_pki()?;
    let (app, front) = server_behind_tls(&pki, None, true).await?;

    let (status, answer) = app.post("/api/ask", &json!({"question": "workspace overview"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for (agent, error) in agent_errors(&answer) {
        let expected = format!(
            "TLS certificate of {}/a2a/{agent}/.well-known/agent-card.json not accepted: it is signed by a CA \
             this client does not trust (UnknownIssuer); if a private CA signed it, name that CA's PEM file in \
             http_client.ca_file",
            front.url
        );
        assert_eq!(error, expected, "{agent}");
        guide_quotes("case 11 (unknown issuer)", reason(&expected));
        let widget = answer["widgets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["id"] == format!("gateway-unavailable-{agent}"))
            .cloned()
            .unwrap_or_default();
        let message = widget["data"]["message"].as_str().unwrap_or_default();
        assert!(message.ends_with(&format!("did not answer: {expected}")), "{agent}: {widget}");
        assert_eq!(widget["data"]["retryable"], true);
    }
    Ok(())
}
