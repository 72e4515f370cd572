//! The one factory of HTTP clients for calls this server makes: the gateway
//! calling the agents over A2A, and push deliveries to webhooks.
//!
//! Every client speaks TLS through rustls on the `ring` provider (no
//! aws-lc build) and trusts Mozilla's root CAs (`webpki-root-certs`, the same
//! on every machine, unlike the system store) plus, optionally, the CAs of a
//! PEM file — a private CA of webhooks or agents inside a company network.
//! The file is read once, when the factory is made: a file that is missing,
//! unreadable or holds no usable certificate is an error then, not a failed
//! delivery later.
//!
//! ```no_run
//! # fn main() -> Result<(), agentdeck_services::outbound::OutboundTlsError> {
//! use agentdeck_services::outbound::OutboundHttp;
//! let outbound = OutboundHttp::new(Some(std::path::Path::new("/etc/agentdeck/ca.pem")))?;
//! let client = outbound.client_builder().timeout(std::time::Duration::from_secs(10)).build();
//! # drop(client);
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use agentdeck_a2a_protocol::client::{CertificateProblem, certificate_problem};
pub use agentdeck_domain::errors::error_chain;

/// Why the outbound TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutboundTlsError {
    /// The CA file could not be read.
    #[error("cannot read the CA file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA file is not PEM, holds no certificate, or one rustls refuses as a root.
    #[error("the CA file {path} is not usable: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Makes the HTTP clients of outbound calls (cheap to clone; the roots are shared).
#[derive(Clone)]
pub struct OutboundHttp {
    /// Mozilla's roots, then the CA file's certificates.
    roots: Arc<Vec<reqwest::Certificate>>,
    /// The CA file, for logs.
    ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for OutboundHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundHttp").field("roots", &self.roots.len()).field("ca_file", &self.ca_file).finish()
    }
}

impl Default for OutboundHttp {
    /// Mozilla's roots only.
    fn default() -> Self {
        install_crypto_provider();
        Self { roots: Arc::new(mozilla_roots()), ca_file: None }
    }
}

/// Makes rustls's `ring` provider the process default, once (later calls and
/// a provider already installed are left alone). reqwest's clients, ours and
/// any other in the process, need a default provider to be built at all.
pub fn install_crypto_provider() {
    // rustls 0.23.48 deprecates its ring provider for lacking post-quantum key
    // exchange; ring stays the choice here because aws-lc's C build is the
    // slowest unit of the workspace (rust-stack.md §0), and classical key
    // exchange is what the peers (webhooks, agents) are expected to offer.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    // Err only says a provider is installed already, which is what is wanted.
    let _ = provider.install_default();
}

fn mozilla_roots() -> Vec<reqwest::Certificate> {
    // `from_der` copies the bytes; it cannot fail on the rustls backend.
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter_map(|der| reqwest::Certificate::from_der(der).ok()).collect()
}

impl OutboundHttp {
    /// Mozilla's roots plus the certificates of the PEM file `ca_file`, if given.
    pub fn new(ca_file: Option<&Path>) -> Result<Self, OutboundTlsError> {
        let mut outbound = Self::default();
        let Some(path) = ca_file else {
            return Ok(outbound);
        };
        let invalid = |reason: String| OutboundTlsError::Invalid { path: path.to_owned(), reason };
        let pem = std::fs::read(path).map_err(|source| OutboundTlsError::Read { path: path.to_owned(), source })?;
        let extra = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| invalid(format!("not PEM: {e}")))?;
        if extra.is_empty() {
            return Err(invalid("it holds no PEM certificate".into()));
        }
        let mut roots = mozilla_roots();
        roots.extend(extra);
        outbound = Self { roots: Arc::new(roots), ca_file: Some(path.to_owned()) };
        // The certificates become roots only when a client is built: build one now so a bad one is found here.
        outbound.client_builder().build().map_err(|e| invalid(error_chain(&e)))?;
        Ok(outbound)
    }

    /// A client builder trusting exactly these roots; callers add timeouts, redirects, pools.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().tls_certs_only(self.roots.iter().cloned())
    }

    /// The CA file in use, if any.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }
}

/// What the person running this server can change about a refused
/// certificate, as a clause to append to the error (empty when the fix is
/// not on this side).
pub fn certificate_fix(problem: &CertificateProblem) -> &'static str {
    match problem {
        CertificateProblem::UnknownIssuer => {
            "; if a private CA signed it, name that CA's PEM file in http_client.ca_file"
        }
        CertificateProblem::WrongHost(_) => "; use a URL with a name the certificate holds",
        CertificateProblem::Expired(_) => "; its owner must renew it (or this machine's clock is wrong)",
        CertificateProblem::CaAsServerCertificate => {
            "; give the server a certificate a CA issued to it, and name that CA in http_client.ca_file"
        }
        CertificateProblem::Other(_) => "",
    }
}

/// A failed outbound request in words: a refused TLS certificate says which
/// problem and what to change; anything else is reqwest's whole cause chain
/// (its own message stops at "error sending request for url (…)").
pub fn describe_request_error(error: &reqwest::Error) -> String {
    match certificate_problem(error) {
        Some(problem) => format!("TLS certificate not accepted: {problem}{}", certificate_fix(&problem)),
        None => error_chain(error),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn without_a_ca_file_the_clients_trust_mozillas_roots() {
        let outbound = OutboundHttp::new(None);
        assert!(outbound.as_ref().is_ok_and(|o| o.roots.len() > 100 && o.ca_file().is_none()), "{outbound:?}");
        assert!(outbound.is_ok_and(|o| o.client_builder().build().is_ok()));
    }

    #[tokio::test]
    async fn a_failed_request_is_described_with_its_cause() -> anyhow::Result<()> {
        // A port that was free a moment ago: nothing listens there.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        drop(listener);
        let client = OutboundHttp::new(None)?.client_builder().build()?;
        let Err(error) = client.post(&url).send().await else { anyhow::bail!("nothing listens at {url}") };
        let described = describe_request_error(&error);
        assert!(described.starts_with(&format!("error sending request for url ({url})")), "{described}");
        assert!(described.contains("Connection refused"), "the cause is named: {described}");
        Ok(())
    }

    #[test]
    fn a_missing_ca_file_is_an_error_naming_it() {
        let missing = Path::new("/nonexistent/agentdeck-ca.pem");
        let error = OutboundHttp::new(Some(missing)).map(|_| ());
        assert!(
            matches!(&error, Err(e @ OutboundTlsError::Read { .. }) if e.to_string().contains("/nonexistent/agentdeck-ca.pem")),
            "{error:?}"
        );
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_an_error() -> anyhow::Result<()> {
        let mut empty = tempfile::NamedTempFile::new()?;
        writeln!(empty, "no certificate here")?;
        let error = OutboundHttp::new(Some(empty.path())).map(|_| ());
        assert!(matches!(error, Err(OutboundTlsError::Invalid { .. })), "{error:?}");

        let mut garbage = tempfile::NamedTempFile::new()?;
        writeln!(garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")?;
        let error = OutboundHttp::new(Some(garbage.path())).map(|_| ());
        assert!(matches!(error, Err(OutboundTlsError::Invalid { .. })), "{error:?}");
        Ok(())
    }
}
