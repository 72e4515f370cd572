//! Sending mail over SMTP: the one outbound mail path (invitations today).
//!
//! A [`Mailer`] is built once from the `[smtp]` settings and sends plain-text
//! messages with `lettre` over tokio. TLS is rustls on the ring provider (the
//! one the HTTP clients use), trusting Mozilla's root CAs (lettre's bundled
//! `webpki-roots`, the same list the HTTP clients trust) plus any PEM
//! certificates the operator adds (`http_client.ca_file`), so a private relay
//! with a private CA works.
//!
//! Three transport security modes, as mail servers offer them:
//!
//! | mode | port | what happens |
//! |---|---|---|
//! | [`SmtpTls::StartTls`] | 587 | plain connect, then `STARTTLS` is **required** (a server that does not offer it fails the send: no silent downgrade) |
//! | [`SmtpTls::Tls`] | 465 | TLS from the first byte ("implicit TLS") |
//! | [`SmtpTls::None`] | 25 | plain text: only for a relay on this machine (production refuses it elsewhere) |
//!
//! Every send is bounded: each SMTP command waits at most `timeout`, and the
//! whole send at most twice that, so a hung relay cannot hold a request.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with `STARTTLS`, which must succeed (port 587).
    StartTls,
    /// TLS from the start (port 465).
    Tls,
    /// No encryption (port 25): a relay on this machine only.
    None,
}

impl SmtpTls {
    /// The port this mode is usually served on.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpOptions {
    /// Host name (or address) of the SMTP server; TLS checks the certificate against it.
    pub host: String,
    /// Port; usually [`SmtpTls::default_port`].
    pub port: u16,
    /// User name and password for `AUTH`, if the server wants them.
    pub credentials: Option<(String, String)>,
    /// The sender, e.g. `agentdeck <noreply@example.org>`.
    pub from: String,
    /// Transport security.
    pub tls: SmtpTls,
    /// Longest wait for the server at each step.
    pub timeout: Duration,
    /// PEM certificates trusted besides Mozilla's roots (a private CA).
    pub extra_roots_pem: Option<Vec<u8>>,
}

// By hand, so that the password never reaches a log line.
impl std::fmt::Debug for SmtpOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.credentials.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a mailer could not be built or a message not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The sender address is not a mailbox.
    #[error("the sender {from:?} is not an address like \"agentdeck <noreply@example.org>\": {reason}")]
    BadSender {
        /// The value given.
        from: String,
        /// What the parser said.
        reason: String,
    },
    /// The TLS settings (the CA certificates) are unusable.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The recipient's address cannot be used for mail.
    #[error("the address {0:?} cannot be used for mail")]
    BadRecipient(String),
    /// The message could not be built.
    #[error("the message could not be built: {0}")]
    Message(String),
    /// The server could not be reached, refused the message, or broke off.
    #[error("the mail server did not take the message: {0}")]
    Send(String),
    /// The server did not finish in time.
    #[error("the mail server did not answer within {0:?}")]
    Timeout(Duration),
}

/// A plain-text message to one person.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The body, plain text.
    pub body: String,
}

/// Sends mail through one SMTP server (cheap to clone).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    host: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Mailer").field("host", &self.host).field("from", &self.from.to_string()).finish()
    }
}

impl Mailer {
    /// Builds the mailer; fails on a bad sender or unusable certificates (nothing is sent yet).
    pub fn new(options: SmtpOptions) -> Result<Self, MailError> {
        let from: Mailbox = options.from.parse().map_err(|error: lettre::address::AddressError| {
            MailError::BadSender { from: options.from.clone(), reason: error.to_string() }
        })?;
        let tls = match options.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters(&options)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(&options)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(options.host.as_str())
            .port(options.port)
            .tls(tls)
            .timeout(Some(options.timeout));
        if let Some((user, password)) = options.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self { transport: builder.build(), from, timeout: options.timeout, host: options.host })
    }

    /// The sender's address.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one message; returns when the server accepted it.
    pub async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::BadRecipient(mail.to.clone()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|error| MailError::Message(error.to_string()))?;
        // Each command is bounded by the transport's timeout; this bounds the whole
        // conversation (connect, TLS, AUTH, MAIL, RCPT, DATA) as well.
        let limit = self.timeout.saturating_mul(2);
        match tokio::time::timeout(limit, self.transport.send(message)).await {
            Err(_) => Err(MailError::Timeout(limit)),
            Ok(Err(error)) => Err(MailError::Send(error_text(&error))),
            Ok(Ok(_response)) => Ok(()),
        }
    }
}

/// TLS parameters for `host`: Mozilla's roots (lettre's bundled `webpki-roots`)
/// plus the operator's PEM certificates.
fn tls_parameters(options: &SmtpOptions) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(options.host.clone());
    if let Some(pem) = &options.extra_roots_pem {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| MailError::Tls(format!("the CA file is not PEM: {error}")))?;
        if certificates.is_empty() {
            return Err(MailError::Tls("the CA file holds no PEM certificate".into()));
        }
        for der in certificates {
            let certificate = Certificate::from_der(der.to_vec()).map_err(|error| MailError::Tls(error.to_string()))?;
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build_rustls().map_err(|error| MailError::Tls(error.to_string()))
}

/// The error with its causes, on one line (lettre's own text names only the outermost).
fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on a broken fixture")]

    use super::*;

    fn options(from: &str, tls: SmtpTls) -> SmtpOptions {
        SmtpOptions {
            host: "127.0.0.1".into(),
            port: 1,
            credentials: Some(("user".into(), "hunter2".into())),
            from: from.into(),
            tls,
            timeout: Duration::from_secs(2),
            extra_roots_pem: None,
        }
    }

    #[test]
    fn a_bad_sender_is_refused_naming_it() {
        let error = Mailer::new(options("not an address", SmtpTls::None)).unwrap_err();
        assert!(error.to_string().contains("\"not an address\""), "{error}");
        assert!(Mailer::new(options("agentdeck <noreply@example.org>", SmtpTls::StartTls)).is_ok());
        assert!(Mailer::new(options("noreply@example.org", SmtpTls::Tls)).is_ok());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let text = format!("{:?}", options("noreply@example.org", SmtpTls::None));
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("user"), "{text}");
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let mut bad = options("noreply@example.org", SmtpTls::StartTls);
        bad.extra_roots_pem = Some(b"not a certificate".to_vec());
        assert!(matches!(Mailer::new(bad), Err(MailError::Tls(_))));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_send_error_with_the_reason() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let mailer = Mailer::new(options("noreply@example.org", SmtpTls::None)).unwrap();
        let mail = OutgoingMail { to: "ada@example.org".into(), subject: "Hi".into(), body: "Hello".into() };
        let error = mailer.send(mail).await.unwrap_err();
        assert!(matches!(error, MailError::Send(_)), "{error:?}");
        assert!(error.to_string().to_lowercase().contains("refused"), "{error}");
        let bad = OutgoingMail { to: "no address".into(), subject: "Hi".into(), body: "Hello".into() };
        assert!(matches!(mailer.send(bad).await, Err(MailError::BadRecipient(_))));
    }
}
