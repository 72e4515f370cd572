//! The server under test: a loopback address, and how to open TCP connections to it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::net::{TcpSocket, TcpStream};
use url::{Host, Url};

/// A loopback server address (anything else is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// How many loopback source addresses (127.0.0.1, .2, …) connections are spread over.
    pub source_ips: u8,
}

impl Target {
    /// Reads `http://127.0.0.1:8080`, `ws://localhost:8080/…` or `127.0.0.1:8080`; refuses non-loopback hosts.
    pub fn parse(text: &str) -> Result<Self> {
        // `host:port` alone reads as http (`localhost:8080` would otherwise parse as scheme `localhost`).
        let url = match Url::parse(text) {
            Ok(url) if url.has_host() => url,
            _ => {
                Url::parse(&format!("http://{text}")).with_context(|| format!("{text:?} is not a URL or host:port"))?
            }
        };
        if !matches!(url.scheme(), "http" | "ws") {
            bail!("unsupported scheme {:?}: use http:// or ws:// on loopback", url.scheme());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain("localhost")) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(Host::Domain(_)) | None => bail!("refusing {text:?}: name the server by a loopback address"),
        };
        let port = url.port_or_known_default().with_context(|| format!("no port in {text:?}"))?;
        let addr = SocketAddr::new(ip, port);
        if !addr.ip().is_loopback() {
            bail!("refusing {text:?}: the load generator only talks to loopback addresses (127.0.0.0/8, ::1)");
        }
        Ok(Self { addr, source_ips: 1 })
    }

    /// The same target, spreading connections over `count` loopback source addresses.
    pub fn with_source_ips(mut self, count: u8) -> Self {
        self.source_ips = count.max(1);
        self
    }

    /// `host:port`, for URLs and the `Host` header.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// The source address connection number `index` binds to (IPv4 targets only).
    fn source_for(&self, index: usize) -> Option<SocketAddr> {
        if self.source_ips <= 1 || !self.addr.is_ipv4() {
            return None;
        }
        let last = 1 + (index % usize::from(self.source_ips)) as u8;
        Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), 0))
    }

    /// Opens a TCP connection (no Nagle) within `limit`; `index` picks the source address.
    pub async fn tcp_connect(&self, index: usize, limit: Duration) -> Result<TcpStream> {
        let socket = if self.addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        if let Some(source) = self.source_for(index) {
            socket.bind(source).with_context(|| format!("binding {source}"))?;
        }
        let stream = tokio::time::timeout(limit, socket.connect(self.addr))
            .await
            .with_context(|| format!("TCP connect to {} timed out", self.addr))?
            .with_context(|| format!("TCP connect to {}", self.addr))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_parse_and_others_are_refused() {
        for url in ["http://127.0.0.1:8080", "ws://127.0.0.1:8080/api/sync", "127.0.0.5:1", "http://localhost:80"] {
            assert!(Target::parse(url).is_ok(), "{url}");
        }
        assert_eq!(Target::parse("http://[::1]:9/x").map(|t| t.addr.port()).ok(), Some(9));
        assert_eq!(Target::parse("localhost:7").map(|t| t.addr.to_string()).ok().as_deref(), Some("127.0.0.1:7"));
        for url in [
            "http://10.0.0.1:80",
            "http://192.168.1.1:80",
            "https://127.0.0.1:443",
            "http://example.com:80",
            "not a url",
        ] {
            assert!(Target::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn source_addresses_rotate_over_loopback() {
        let target = Target::parse("127.0.0.1:9").map(|t| t.with_source_ips(3)).ok();
        let sources: Vec<_> = (0..4).map(|i| target.and_then(|t| t.source_for(i)).map(|a| a.ip())).collect();
        let ip = |last| Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)));
        assert_eq!(sources, vec![ip(1), ip(2), ip(3), ip(1)]);
    }
}
