//! Just enough Engine.IO v4 / Socket.IO v5 to play the `rooms` scenario against
//! a Socket.IO server over a raw WebSocket (`/socket.io/?EIO=4&transport=websocket`).
//!
//! The framing is written by hand: there is no maintained Rust Socket.IO client
//! built on the tungstenite this workspace already uses, and the scenario needs
//! five packet kinds only. Engine.IO packets are one digit then a payload: `0`
//! open (`0{"sid":…,"pingInterval":…}`), `1` close, `2` ping, `3` pong, `4`
//! message. A message carries a Socket.IO packet: `0` connect (`40`, answered
//! `40{"sid":…}`), `1` disconnect, `2` event (`42["name",…]`, with an ack id
//! `42<id>["name",…]`), `3` ack (`43<id>[…]`), `4` connect error. Only the
//! default namespace is used, so no `/nsp,` prefix appears.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{CONNECT_TIMEOUT, WsStream, open_ws};
use crate::target::Target;

/// The handshake path of an Engine.IO v4 WebSocket-only connection.
pub const PATH: &str = "/socket.io/?EIO=4&transport=websocket";

/// One packet as read off the socket.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// Engine.IO open, with its handshake data.
    Open(Value),
    /// Engine.IO close.
    Close,
    /// Engine.IO ping (answer with [`Packet::Pong`]).
    Ping,
    /// Engine.IO pong.
    Pong,
    /// Socket.IO connect (from the server: accepted, with its data).
    Connect(Option<Value>),
    /// Socket.IO disconnect.
    Disconnect,
    /// Socket.IO event: name and arguments, with the ack id the sender wants answered.
    Event {
        /// Ack id, if an answer is wanted.
        ack: Option<u64>,
        /// Event name.
        name: String,
        /// Arguments after the name.
        args: Vec<Value>,
    },
    /// Socket.IO ack of an event we sent.
    Ack {
        /// The event's ack id.
        id: u64,
        /// Arguments of the callback.
        args: Vec<Value>,
    },
    /// Socket.IO connect refused.
    ConnectError(Value),
    /// Anything else (upgrade, noop, binary events): not used here.
    Other(String),
}

/// Reads one text frame.
pub fn parse(text: &str) -> Result<Packet> {
    let mut chars = text.chars();
    let Some(engine) = chars.next() else { bail!("empty Engine.IO packet") };
    let rest = chars.as_str();
    Ok(match engine {
        '0' => Packet::Open(serde_json::from_str(rest).context("Engine.IO open payload")?),
        '1' => Packet::Close,
        '2' => Packet::Ping,
        '3' => Packet::Pong,
        '4' => parse_socket_io(rest)?,
        _ => Packet::Other(text.to_owned()),
    })
}

fn parse_socket_io(text: &str) -> Result<Packet> {
    let mut chars = text.chars();
    let Some(kind) = chars.next() else { bail!("empty Socket.IO packet") };
    let rest = chars.as_str();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, json) = rest.split_at(digits);
    let id: Option<u64> = if id.is_empty() { None } else { Some(id.parse().context("ack id")?) };
    let data =
        || -> Result<Value> { serde_json::from_str(json).with_context(|| format!("Socket.IO payload {json:?}")) };
    Ok(match kind {
        '0' => Packet::Connect(if json.is_empty() { None } else { Some(data()?) }),
        '1' => Packet::Disconnect,
        '2' => {
            let Value::Array(mut items) = data()? else { bail!("event payload is not an array") };
            if items.is_empty() {
                bail!("event without a name");
            }
            let Value::String(name) = items.remove(0) else { bail!("event name is not a string") };
            Packet::Event { ack: id, name, args: items }
        }
        '3' => {
            let Value::Array(args) = data()? else { bail!("ack payload is not an array") };
            Packet::Ack { id: id.context("ack without an id")?, args }
        }
        '4' => Packet::ConnectError(data()?),
        _ => Packet::Other(format!("4{text}")),
    })
}

/// Encodes an event `42[<ack id>]["name", args…]`.
pub fn event(name: &str, args: &[Value], ack: Option<u64>) -> Result<String> {
    let mut items = Vec::with_capacity(args.len() + 1);
    items.push(Value::String(name.to_owned()));
    items.extend(args.iter().cloned());
    let id = ack.map(|id| id.to_string()).unwrap_or_default();
    Ok(format!("42{id}{}", serde_json::to_string(&items)?))
}

/// A Socket.IO connection to the default namespace.
pub struct SocketIoClient {
    ws: WsStream,
}

impl SocketIoClient {
    /// Opens the WebSocket, reads Engine.IO open, connects the namespace.
    pub async fn connect(target: &Target, index: usize) -> Result<Self> {
        let (ws, _) = open_ws(target, index, PATH, &[]).await?;
        let mut client = Self { ws };
        match client.next_packet(CONNECT_TIMEOUT).await? {
            Some(Packet::Open(_)) => {}
            other => bail!("expected Engine.IO open, got {other:?}"),
        }
        client.send_text("40".to_owned()).await?;
        loop {
            match client.next_packet(CONNECT_TIMEOUT).await? {
                Some(Packet::Connect(_)) => return Ok(client),
                Some(Packet::Ping) => client.send_text("3".to_owned()).await?,
                other => bail!("expected Socket.IO connect, got {other:?}"),
            }
        }
    }

    /// Sends a raw text frame.
    pub async fn send_text(&mut self, text: String) -> Result<()> {
        timeout(CONNECT_TIMEOUT, self.ws.send(Message::text(text))).await.context("send timed out")??;
        Ok(())
    }

    /// Emits an event, asking for an ack with `ack` as id.
    pub async fn emit(&mut self, name: &str, args: &[Value], ack: Option<u64>) -> Result<()> {
        self.send_text(event(name, args, ack)?).await
    }

    /// The next packet (waiting at most `limit`); Engine.IO pings are answered and reported; `None` when closed.
    pub async fn next_packet(&mut self, limit: Duration) -> Result<Option<Packet>> {
        loop {
            let message = match timeout(limit, self.ws.next()).await {
                Err(_) => bail!("no Socket.IO packet for {limit:?}"),
                Ok(None) => return Ok(None),
                Ok(Some(message)) => message.context("reading a Socket.IO frame")?,
            };
            match message {
                Message::Text(text) => {
                    let packet = parse(text.as_str())?;
                    if packet == Packet::Ping {
                        self.send_text("3".to_owned()).await?;
                    }
                    return Ok(Some(packet));
                }
                Message::Close(_) => return Ok(None),
                Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }
        }
    }

    /// Closes the socket (bounded in time).
    pub async fn close(mut self) {
        let _peer_may_be_gone = timeout(Duration::from_secs(2), self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn engine_io_and_socket_io_packets_parse() -> Result<()> {
        assert!(matches!(parse(r#"0{"sid":"a","pingInterval":25000}"#)?, Packet::Open(_)));
        assert_eq!(parse("2")?, Packet::Ping);
        assert_eq!(parse(r#"40{"sid":"x"}"#)?, Packet::Connect(Some(json!({"sid": "x"}))));
        assert_eq!(parse("40")?, Packet::Connect(None));
        assert_eq!(
            parse(r#"42["delta",{"seq":3}]"#)?,
            Packet::Event { ack: None, name: "delta".into(), args: vec![json!({"seq": 3})] }
        );
        assert_eq!(
            parse(r#"4217["join","r"]"#)?,
            Packet::Event { ack: Some(17), name: "join".into(), args: vec![json!("r")] }
        );
        assert_eq!(parse(r#"4312[{"ok":true}]"#)?, Packet::Ack { id: 12, args: vec![json!({"ok": true})] });
        assert!(parse("42").is_err() && parse("").is_err() && parse("43[]").is_err());
        Ok(())
    }

    #[test]
    fn events_encode_with_and_without_ack_ids() -> Result<()> {
        assert_eq!(event("join", &[json!("room-1")], Some(5))?, r#"425["join","room-1"]"#);
        assert_eq!(event("delta", &[json!({"a": 1})], None)?, r#"42["delta",{"a":1}]"#);
        Ok(())
    }
}
