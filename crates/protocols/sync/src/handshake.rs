//! The WebSocket handshake: subprotocol negotiation and the ticket it carries.
//!
//! Browsers cannot set headers on `new WebSocket()`, and tokens in URLs end up
//! in logs, so a browser asks `POST /api/ws-ticket` for a short-lived,
//! single-use ticket and offers it as a second subprotocol,
//! `dash.ticket.<ticket>`, next to `dash.v1`. The server accepts by echoing
//! `dash.v1` only (browsers close the socket unless one offered value is echoed).

/// The protocol version this crate speaks; the server echoes it.
pub const SUBPROTOCOL: &str = "dash.v1";
/// Prefix of the subprotocol value that carries a ticket.
pub const TICKET_PREFIX: &str = "dash.ticket.";

/// What a client offered in `Sec-WebSocket-Protocol`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OfferedProtocols {
    /// Whether `dash.v1` was offered.
    pub speaks_v1: bool,
    /// The ticket, when one was offered.
    pub ticket: Option<String>,
}

/// Reads the comma-separated values of `Sec-WebSocket-Protocol` header(s).
pub fn parse_offered_protocols<'a>(headers: impl IntoIterator<Item = &'a str>) -> OfferedProtocols {
    let mut offered = OfferedProtocols::default();
    for value in headers.into_iter().flat_map(|header| header.split(',')).map(str::trim) {
        if value == SUBPROTOCOL {
            offered.speaks_v1 = true;
        } else if let Some(ticket) = value.strip_prefix(TICKET_PREFIX)
            && !ticket.is_empty()
            && offered.ticket.is_none()
        {
            offered.ticket = Some(ticket.to_owned());
        }
    }
    offered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_version_and_the_ticket() {
        let offered = parse_offered_protocols(["dash.v1, dash.ticket.AbC-123_x"]);
        assert_eq!(offered, OfferedProtocols { speaks_v1: true, ticket: Some("AbC-123_x".into()) });
        let split = parse_offered_protocols(["dash.ticket.t1", "other, dash.v1"]);
        assert_eq!(split, OfferedProtocols { speaks_v1: true, ticket: Some("t1".into()) });
    }

    #[test]
    fn missing_or_empty_values_are_absent() {
        assert_eq!(parse_offered_protocols(["dash.v2, dash.ticket."]), OfferedProtocols::default());
        assert_eq!(parse_offered_protocols([]), OfferedProtocols::default());
    }
}
