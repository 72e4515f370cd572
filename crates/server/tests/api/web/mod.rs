//! The web dashboard in a real browser (headless Chromium): the shell (sign-in,
//! questions, live sync, layout), signing in with an account (cookie sessions,
//! the workspace switcher), every widget (visual baselines, validation,
//! retry), the project data pages, and a cross-site form post refused by the
//! CSRF check (`csrf`). `support` drives the browser.

mod accounts_flow;
mod csrf;
mod flows;
mod invitations;
mod pages;
mod shell;
mod signin;
mod sso;
#[allow(dead_code, reason = "the helpers serve every web test; each test uses some")]
pub(crate) mod support;
mod widgets;
