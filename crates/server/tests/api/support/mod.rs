//! Fixtures several test modules share (the OIDC provider script beside
//! this file is `sso.rs`'s).

pub mod tls;
