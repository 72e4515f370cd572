//! Bearer tokens: JWTs carrying subject, workspace, role and expiry.
//!
//! Two algorithms are accepted: HS256 with a shared secret (the default; dev mode
//! generates one and keeps it in the data dir) and EdDSA (Ed25519) with a public
//! key, for deployments where another system mints tokens. A verifier may hold
//! both; the token header's `alg` picks the key, and any other algorithm is
//! refused (no `none`, no algorithm confusion).

mod keys;
mod tokens;

pub use keys::{KeyError, MIN_SECRET_BYTES, TokenKeys};
pub use tokens::{AuthError, Claims, TokenService};
