//! Telling a refused TLS certificate apart from other transport failures.
//!
//! reqwest reports every failure before an answer as "error sending request
//! for url (…)"; the reason is several sources down its chain, inside the
//! `std::io::Error` that rustls's handshake failed with. A person reading
//! "error sending request" cannot tell a down agent from a certificate their
//! client does not trust, and the fixes differ (start the agent, or trust the
//! CA that signed its certificate), so the client looks for rustls's
//! [`rustls::Error::InvalidCertificate`] in the chain and says what it found.
//!
//! ```
//! use agentdeck_a2a_protocol::client::{CertificateProblem, certificate_problem};
//! let handshake = std::io::Error::new(
//!     std::io::ErrorKind::InvalidData,
//!     rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
//! );
//! assert_eq!(certificate_problem(&handshake), Some(CertificateProblem::UnknownIssuer));
//! ```

use std::error::Error;

use rustls::CertificateError;

/// Why the client refused an agent's TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    /// No trusted root signed it: a private CA the client was not told about, or a self-signed certificate.
    #[error("it is signed by a CA this client does not trust (UnknownIssuer)")]
    UnknownIssuer,
    /// It is past its `notAfter` date (or before its `notBefore`).
    #[error("it is out of its validity period ({0})")]
    Expired(String),
    /// It names other hosts than the one in the URL.
    #[error("it is for another host ({0})")]
    WrongHost(String),
    /// It is a CA certificate served as the server's own, as a self-signed
    /// certificate made with `openssl req -x509` is (its basic constraints say
    /// CA): no root can vouch for it, whatever the client trusts.
    #[error(
        "it is a CA certificate, not one issued to a server (CaUsedAsEndEntity; a self-signed `openssl req -x509` certificate is one)"
    )]
    CaAsServerCertificate,
    /// Anything else rustls refused it for (bad signature, revoked, wrong key usage, …).
    #[error("{0}")]
    Other(String),
}

/// The certificate problem somewhere in `error`'s chain of causes, if there is one.
pub fn certificate_problem(error: &(dyn Error + 'static)) -> Option<CertificateProblem> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(rustls::Error::InvalidCertificate(certificate)) = current.downcast_ref::<rustls::Error>() {
            return Some(classify(certificate));
        }
        next = cause_of(current);
    }
    None
}

/// The error `error` was caused by. `io::Error::source` skips the error an
/// `io::Error` wraps (it returns that error's own source), and hyper wraps
/// rustls's error in two of them, so a wrapped error is taken from `get_ref`.
fn cause_of<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    match error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
        Some(wrapped) => Some(wrapped),
        None => error.source(),
    }
}

fn classify(error: &CertificateError) -> CertificateProblem {
    match error {
        CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer,
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => CertificateProblem::Expired(error.to_string()),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateProblem::WrongHost(error.to_string())
        }
        // webpki's reasons arrive as `Other`, named by their Debug text.
        CertificateError::Other(other) if other.to_string() == "CaUsedAsEndEntity" => {
            CertificateProblem::CaAsServerCertificate
        }
        CertificateError::Other(other) => CertificateProblem::Other(other.to_string()),
        other => CertificateProblem::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose source is `inner`, as reqwest's and hyper's wrappers are.
    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Wrapper(#[source] std::io::Error);

    fn handshake_failure(certificate: CertificateError) -> Wrapper {
        Wrapper(std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::InvalidCertificate(certificate)))
    }

    #[test]
    fn a_certificate_error_under_wrappers_is_found_and_named() {
        let unknown = handshake_failure(CertificateError::UnknownIssuer);
        assert_eq!(certificate_problem(&unknown), Some(CertificateProblem::UnknownIssuer));
        let expired = certificate_problem(&handshake_failure(CertificateError::Expired));
        assert!(matches!(&expired, Some(CertificateProblem::Expired(why)) if why == "Expired"), "{expired:?}");
        let wrong_host = certificate_problem(&handshake_failure(CertificateError::NotValidForName));
        assert!(matches!(wrong_host, Some(CertificateProblem::WrongHost(_))), "{wrong_host:?}");
        let revoked = certificate_problem(&handshake_failure(CertificateError::Revoked));
        assert_eq!(revoked, Some(CertificateProblem::Other("Revoked".into())));
        // webpki's reasons come wrapped; their own text is shown, not the wrapping.
        let webpki = |text: &str| {
            let reason: std::sync::Arc<dyn Error + Send + Sync> = std::sync::Arc::new(std::io::Error::other(text));
            certificate_problem(&handshake_failure(CertificateError::Other(rustls::OtherError(reason))))
        };
        assert_eq!(webpki("CaUsedAsEndEntity"), Some(CertificateProblem::CaAsServerCertificate));
        assert_eq!(webpki("UnsupportedCertVersion"), Some(CertificateProblem::Other("UnsupportedCertVersion".into())));
    }

    #[test]
    fn a_certificate_error_under_nested_io_errors_is_found() {
        // hyper's connect error holds an `io::Error` (Other) around tokio-rustls's (InvalidData).
        let inner = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let nested = Wrapper(std::io::Error::other(inner));
        assert_eq!(certificate_problem(&nested), Some(CertificateProblem::UnknownIssuer));
    }

    #[test]
    fn other_failures_are_no_certificate_problem() {
        let refused = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(certificate_problem(&refused), None);
        let alert = Wrapper(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        ));
        assert_eq!(certificate_problem(&alert), None);
    }
}
