//! Single sign-on in the browser, through a real OpenID Connect provider's
//! login page (npm's `oidc-provider` with its development login: any login
//! signs in, and the login typed is the `sub`): refusals shown on the sign-in
//! view, a replayed callback, linking by verified email only when the provider
//! allows it, and linking an identity then signing in with it.

use agentdeck_domain::records::Account;
use fantoccini::Locator;
use serde_json::{Value, json};

use super::support::{Driver, Page};
use crate::helpers::TestApp;
use crate::sso::{OidcProvider, person, spawn_with_provider};

/// Clicks "Sign in with Corp ID" on the sign-in view.
async fn click_sso_button(page: &Page) {
    page.wait_for("the single sign-on button", r#"document.querySelector('[data-sso] a[data-provider="corp"]')"#, 10)
        .await;
    let label = page.eval(r#"return document.querySelector('[data-provider="corp"]').textContent;"#, Value::Null).await;
    assert_eq!(label, "Sign in with Corp ID");
    page.client.find(Locator::Css(r#"[data-provider="corp"]"#)).await.expect("button").click().await.expect("click");
}

/// Signs in at the provider's development login page as `login`.
async fn provider_login(page: &Page, provider: &OidcProvider, login: &str) {
    page.wait_for("the provider's login page", r#"document.querySelector('input[name="login"]')"#, 15).await;
    let origin = page.eval("return location.origin;", Value::Null).await;
    assert_eq!(origin, provider.issuer.as_str(), "on the provider's page");
    page.eval(
        r#"const form = document.querySelector('input[name="login"]').form;
           form.elements.login.value = arguments[0];
           form.elements.password.value = "any password";
           form.submit();
           return null;"#,
        json!(login),
    )
    .await;
}

/// Waits until the sign-in view shows a single sign-on error; returns its text.
async fn sso_error(page: &Page) -> String {
    let text = page
        .wait_for(
            "the single sign-on error message",
            r#"(() => { const e = document.querySelector('[data-role="sso-error"]'); return e && !e.hidden && e.textContent; })()"#,
            20,
        )
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// The names of the browser's cookies for 127.0.0.1 (HttpOnly ones included). Cookies do not
/// tell ports apart, so the provider's (`_session`…) are there too; ours start with `agentdeck`.
async fn cookie_names(page: &Page) -> Vec<String> {
    page.client.get_all_cookies().await.expect("cookies").iter().map(|cookie| cookie.name().to_owned()).collect()
}

#[tokio::test]
async fn an_unknown_identity_is_refused_and_a_replayed_callback_too() {
    let (app, provider) = spawn_with_provider(false, json!({})).await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    click_sso_button(&page).await;
    provider_login(&page, &provider, "stranger").await;
    let message = sso_error(&page).await;
    assert!(message.contains("Ask a workspace owner for an invitation"), "{message}");
    assert_eq!(page.eval("return location.hash;", Value::Null).await, "", "the code is removed from the address");
    assert!(!cookie_names(&page).await.iter().any(|name| name.starts_with("agentdeck_session")), "no session");
    assert!(!cookie_names(&page).await.contains(&"agentdeck_oidc".to_owned()), "the state cookie is cleared");
    let stored = app.stores.identities.find_identity(&provider.issuer, "stranger").await.unwrap();
    assert_eq!(stored, None, "nothing linked");

    // The provider's redirect, replayed: the login it names was consumed.
    let callback = provider.last_callback().await;
    assert!(callback.contains("code=") && callback.contains("state="), "{callback}");
    page.client.goto(&callback).await.expect("replay");
    let message = sso_error(&page).await;
    assert!(message.contains("took too long or was already used"), "{message}");
    assert!(!cookie_names(&page).await.iter().any(|name| name.starts_with("agentdeck_session")), "still no session");
    // The provider's own login page misses its web font and favicon (no network): not ours.
    page.assert_no_console_errors(&[provider.issuer.as_str(), "fonts.googleapis.com"]).await;
    assert_eq!(page.axe().await, Vec::<Value>::new(), "the sign-in view with the message is accessible");
    page.quit().await;
}

/// Accounts at the provider: Ada's email verified, Eve's not.
fn two_people() -> Value {
    json!({
        "ada-sub": {"email": "Ada@Example.org", "email_verified": true},
        "eve-sub": {"email": "eve@example.org", "email_verified": false},
    })
}

async fn identity_of(app: &TestApp, provider: &OidcProvider, subject: &str) -> Option<uuid::Uuid> {
    app.stores.identities.find_identity(&provider.issuer, subject).await.unwrap().map(|identity| identity.account_id)
}

#[tokio::test]
async fn a_verified_email_is_not_linked_unless_the_provider_allows_it() {
    let (app, provider) = spawn_with_provider(false, two_people()).await;
    person(&app, "ada@example.org", true).await;
    let driver = Driver::start().await;
    let page = driver.page(&app).await;
    click_sso_button(&page).await;
    provider_login(&page, &provider, "ada-sub").await;
    let message = sso_error(&page).await;
    assert!(message.contains("No account is linked"), "{message}");
    assert_eq!(identity_of(&app, &provider, "ada-sub").await, None, "an email alone links nothing");
    page.quit().await;
}

#[tokio::test]
async fn an_unverified_email_is_not_linked_even_when_the_provider_allows_linking() {
    let (app, provider) = spawn_with_provider(true, two_people()).await;
    person(&app, "eve@example.org", true).await;
    let driver = Driver::start().await;
    let page = driver.page(&app).await;
    click_sso_button(&page).await;
    provider_login(&page, &provider, "eve-sub").await;
    let message = sso_error(&page).await;
    assert!(message.contains("No account is linked"), "{message}");
    assert_eq!(identity_of(&app, &provider, "eve-sub").await, None);
    page.quit().await;
}

/// Waits until the page's session cookie makes `GET /api/me` answer; returns the answer.
async fn signed_in_as(page: &Page) -> Value {
    page.run(
        r#"const done = arguments[arguments.length - 1];
           const deadline = Date.now() + 15000;
           (async () => {
             while (Date.now() < deadline) {
               const response = await fetch("/api/me");
               if (response.ok) return response.json();
               await new Promise((resolve) => setTimeout(resolve, 100));
             }
             return "error: GET /api/me never answered 200";
           })().then(done, (error) => done("error: " + error));"#,
        Value::Null,
    )
    .await
}

#[tokio::test]
async fn a_verified_email_links_and_signs_in_when_the_provider_allows_it() {
    let (app, provider) = spawn_with_provider(true, two_people()).await;
    let ada = person(&app, "ada@example.org", true).await;
    let driver = Driver::start().await;
    let page = driver.page(&app).await;
    click_sso_button(&page).await;
    provider_login(&page, &provider, "ada-sub").await;
    let me = signed_in_as(&page).await;
    assert_eq!(me["account"]["email"], "ada@example.org", "{me}");
    assert_eq!(identity_of(&app, &provider, "ada-sub").await, Some(ada.id));
    page.quit().await;
}

/// Signs the page in with Ada's password (H1's login), as the sign-in form does.
async fn password_sign_in(page: &Page, account: &Account, password: &str) {
    let answer = page
        .run(
            r#"const done = arguments[arguments.length - 1];
               fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
                 body: JSON.stringify(arguments[0]) })
                 .then((r) => r.ok ? "ok" : r.text().then((t) => "error: " + r.status + " " + t)).then(done);"#,
            json!({"email": account.email, "password": password}),
        )
        .await;
    assert_eq!(answer, "ok");
}

#[tokio::test]
async fn an_identity_linked_by_a_signed_in_person_then_signs_them_in() {
    let (app, provider) = spawn_with_provider(false, json!({"ada-corp": {"email": "ada@corp.example"}})).await;
    let password = "a long enough passphrase";
    let hash = agentdeck_services::accounts::password::hash_password(password.to_owned()).await.unwrap();
    let ada = person(&app, "ada@example.org", false).await;
    app.stores.accounts.set_account_password_hash(ada.id, Some(&hash), chrono::Utc::now()).await.unwrap();

    let driver = Driver::start().await;
    let page = driver.page(&app).await;
    password_sign_in(&page, &ada, password).await;
    page.goto(&app, "/api/auth/oidc/corp/start?link=true").await;
    provider_login(&page, &provider, "ada-corp").await;
    page.wait_for("back on the page, linked", "location.hash === '#sso-linked=corp'", 20).await;
    assert_eq!(identity_of(&app, &provider, "ada-corp").await, Some(ada.id));
    page.quit().await;

    // A new browser, no session: the identity alone signs Ada in.
    let page = driver.page(&app).await;
    click_sso_button(&page).await;
    provider_login(&page, &provider, "ada-corp").await;
    let me = signed_in_as(&page).await;
    assert_eq!(me["account"]["id"], ada.id.to_string(), "{me}");
    assert_eq!(me["credential"], "session", "{me}");
    page.quit().await;

    // The auth log tells both: the link, then the sign-in by the identity.
    let log = app.stores.auth_log.list_auth_events(agentdeck_domain::page::PageRequest::first(20)).await.unwrap();
    let ada_events: Vec<(String, String)> = log
        .items
        .iter()
        .filter(|event| event.account_id == Some(ada.id))
        .map(|event| (event.kind.to_string(), event.detail.clone().unwrap_or_default()))
        .collect();
    assert!(ada_events.contains(&("identity_linked".into(), "oidc:corp".into())), "{ada_events:?}");
    assert!(ada_events.contains(&("sign_in".into(), "oidc:corp".into())), "{ada_events:?}");
}
