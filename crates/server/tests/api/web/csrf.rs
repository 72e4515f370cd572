//! A real cross-site form post in headless Chromium: a signed-in browser
//! visits a page of another origin that auto-submits a form to
//! `/api/auth/logout`; the browser sends the session cookie along (the pages
//! are same-site, so `SameSite=Lax` does not stop it), and the server's CSRF
//! check refuses the post. The session survives.

use std::net::TcpListener;

use axum::response::Html;
use serde_json::{Value, json};

use super::support::Driver;
use crate::helpers::spawn_app_with;
use crate::sessions::{PASSWORD, production, workspace_of};

/// Serves `html` at `/` on a free loopback port; returns the port.
async fn serve_page(html: String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let port = listener.local_addr().expect("address").port();
    let router = axum::Router::new().route("/", axum::routing::get(move || async move { Html(html) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

#[tokio::test]
async fn a_cross_site_form_post_with_the_session_cookie_is_refused() {
    // Production mode (the `__Host-` cookie, only the public origin trusted), served
    // as http://localhost:PORT, which browsers treat as a secure context.
    let port = TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("address").port();
    let app = spawn_app_with(|settings| {
        production(settings);
        settings.bind = format!("127.0.0.1:{port}").parse().expect("address");
        settings.public_url = format!("http://localhost:{port}");
    })
    .await;
    let email = format!("ada-{}@example.org", uuid::Uuid::now_v7().simple());
    workspace_of(&app, "Acme", &email).await;
    let own = format!("http://localhost:{port}");
    let attacker = serve_page(format!(
        r#"<!doctype html><title>Win a prize</title>
           <form id="f" method="POST" action="{own}/api/auth/logout"><input name="x" value="1"></form>
           <script>document.getElementById("f").submit();</script>"#
    ))
    .await;

    let driver = Driver::start().await;
    let page = driver.browser().await;
    page.client.goto(&format!("{own}/health")).await.expect("own origin loads");
    let signed_in = page
        .run(
            r#"const [email, password] = arguments[0]; const done = arguments[arguments.length - 1];
               fetch('/api/auth/login', {method: 'POST', headers: {'content-type': 'application/json'},
                 body: JSON.stringify({email, password})})
                 .then((r) => fetch('/api/me').then((me) => done([r.status, me.status])))
                 .catch((e) => done('error ' + e));"#,
            json!([email, PASSWORD]),
        )
        .await;
    assert_eq!(signed_in, json!([200, 200]), "the browser keeps the session cookie");

    // The other origin (same site: localhost, another port) posts the form with the cookie.
    page.client.goto(&format!("http://localhost:{attacker}/")).await.expect("attacker page loads");
    let answer = page
        .wait_for(
            "the form post's answer",
            "location.pathname === '/api/auth/logout' && document.body && document.body.innerText",
            10,
        )
        .await;
    let answer: Value = serde_json::from_str(answer.as_str().unwrap_or_default()).expect("a JSON error");
    assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("Origin"), "{answer}");

    // Still signed in.
    page.client.goto(&format!("{own}/health")).await.expect("own origin loads");
    let status = page
        .run(
            r#"const done = arguments[arguments.length - 1];
               fetch('/api/me').then((r) => done(r.status)).catch((e) => done('error ' + e));"#,
            Value::Null,
        )
        .await;
    assert_eq!(status, json!(200), "the forged sign-out did not end the session");
}
