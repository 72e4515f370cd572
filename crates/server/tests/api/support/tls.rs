//! HTTPS for tests: a private test CA and servers whose certificates it
//! signed — valid for 127.0.0.1, expired, or for another host — behind
//! listeners that report failed handshakes instead of serving them.
//!
//! [`TlsFront`] puts a whole agentdeck server behind HTTPS the way a
//! deployment's reverse proxy does: it terminates TLS and passes the bytes
//! on to the server's plain-HTTP address, so the agents called through it are
//! the real ones.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How many failed handshakes a listener keeps for the test to read (later ones are dropped).
const HANDSHAKE_FAILURES_KEPT: usize = 64;

/// A test CA: its certificate as PEM (what `http_client.ca_file` names) and the key that signs servers.
pub struct TestPki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The TLS config of a server for 127.0.0.1, valid now.
    pub server: Arc<rustls::ServerConfig>,
    issuer: Issuer<'static, KeyPair>,
}

/// A fresh test CA with a valid server certificate for 127.0.0.1.
pub fn test_pki() -> anyhow::Result<TestPki> {
    agentdeck_services::outbound::install_crypto_provider();
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "agentdeck test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    // An IP address SAN: the URLs are https://127.0.0.1:PORT.
    let server = server_config(&issuer, CertificateParams::new(vec!["127.0.0.1".to_owned()])?)?;
    Ok(TestPki { ca_pem: ca_cert.pem(), server, issuer })
}

impl TestPki {
    /// A server for 127.0.0.1 whose certificate expired in 2021.
    pub fn expired_server(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
        server_config(&self.issuer, params)
    }

    /// A server whose certificate is valid, but only for `host`.
    pub fn server_for_host(&self, host: &str) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        server_config(&self.issuer, CertificateParams::new(vec![host.to_owned()])?)
    }

    /// A server presenting a self-signed CA certificate of its own as its
    /// certificate (what `openssl req -x509` makes): trusted by nobody.
    pub fn self_signed_server() -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let certificate = params.self_signed(&key)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok(Arc::new(
            rustls::ServerConfig::builder()
                .with_no_client_auth()
                .with_single_cert(vec![certificate.der().clone()], key)?,
        ))
    }

    /// The CA certificate in a temp file, as `http_client.ca_file` wants it (removed on drop).
    pub fn ca_file(&self) -> anyhow::Result<tempfile::NamedTempFile> {
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), &self.ca_pem)?;
        Ok(file)
    }
}

fn server_config(
    issuer: &Issuer<'static, KeyPair>,
    params: CertificateParams,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let server_key = KeyPair::generate()?;
    let server_cert = params.signed_by(&server_key, issuer)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![server_cert.der().clone()];
    Ok(Arc::new(rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key)?))
}

/// Accepts TLS connections for `axum::serve`; a failed handshake is reported, not served.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshake_failures: mpsc::Sender<String>,
}

impl TlsListener {
    /// A listener on `tcp` with `server`'s certificate, and where its failed handshakes are told.
    pub fn new(tcp: TcpListener, server: Arc<rustls::ServerConfig>) -> (Self, mpsc::Receiver<String>) {
        let (failed, handshake_failures) = mpsc::channel(HANDSHAKE_FAILURES_KEPT);
        (Self { tcp, acceptor: TlsAcceptor::from(server), handshake_failures: failed }, handshake_failures)
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, address)) = self.tcp.accept().await else {
                continue;
            };
            match self.acceptor.accept(tcp).await {
                Ok(tls) => return (tls, address),
                Err(error) => {
                    let _ = self.handshake_failures.try_send(error.to_string());
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A TLS-terminating front on 127.0.0.1, bound before the server behind it
/// starts so that server can be told its public `https://` URL.
pub struct TlsFront {
    tcp: TcpListener,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
}

/// A running [`TlsFront`]; dropping it stops it and every connection it holds.
pub struct RunningFront {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Why handshakes failed (the client's TLS alert, as the front saw it).
    pub handshake_failures: mpsc::Receiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RunningFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFront {
    /// Binds a port on 127.0.0.1.
    pub async fn bind() -> anyhow::Result<Self> {
        let tcp = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("https://{}", tcp.local_addr()?);
        Ok(Self { tcp, url })
    }

    /// Serves `server`'s certificate and passes each connection's bytes to
    /// `backend`, a plain-HTTP address (`http://127.0.0.1:PORT`).
    pub fn forward_to(self, server: Arc<rustls::ServerConfig>, backend: &str) -> anyhow::Result<RunningFront> {
        let backend: SocketAddr = backend.trim_start_matches("http://").parse()?;
        let acceptor = TlsAcceptor::from(server);
        let (failed, handshake_failures) = mpsc::channel(HANDSHAKE_FAILURES_KEPT);
        let tcp = self.tcp;
        let task = tokio::spawn(async move {
            // The connections are this task's: aborting it drops the set, which aborts them.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = tcp.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let (acceptor, failed) = (acceptor.clone(), failed.clone());
                        connections.spawn(async move {
                            let mut tls = match acceptor.accept(client).await {
                                Ok(tls) => tls,
                                Err(error) => {
                                    let _ = failed.try_send(error.to_string());
                                    return;
                                }
                            };
                            if let Ok(mut plain) = TcpStream::connect(backend).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                            }
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Ok(RunningFront { url: self.url, handshake_failures, task })
    }
}
