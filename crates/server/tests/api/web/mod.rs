//! The web dashboard in a real browser (headless Chromium): the shell (sign-in,
//! questions, live sync, layout), every widget (visual baselines, validation,
//! retry) and the project data pages. `support` drives the browser.

mod flows;
mod pages;
mod shell;
mod sso;
#[allow(dead_code, reason = "the helpers serve every web test; each test uses some")]
pub(crate) mod support;
mod widgets;
