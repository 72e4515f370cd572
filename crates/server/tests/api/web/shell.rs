//! Browser tests of the web page (shell); see web/support.rs for the driver.

#[allow(unused_imports, reason = "filled in by the tests of this part")]
use super::support::{Driver, sign_in};

use crate::helpers::spawn_app;

/// The support module itself: console capture and axe-core work on the served page.
#[tokio::test]
async fn the_browser_support_reads_the_console_and_runs_axe() {
    let app = spawn_app().await;
    let driver = Driver::start().await;
    let mut page = driver.page(&app).await;
    page.eval("console.error('support-check'); return null;", serde_json::Value::Null).await;
    let errors = page.console_errors().await;
    assert!(errors.iter().any(|message| message.contains("support-check")), "{errors:?}");
    let violations = page.axe().await;
    assert!(violations.iter().all(|v| v["id"].is_string()), "{violations:?}");
    page.quit().await;
}
