//! `/api/ws-ticket` and `/api/sync`: the real-time edge (DESIGN §3, §5.4).
//!
//! A browser cannot put a bearer token on `new WebSocket()`, so it first asks
//! `POST /api/ws-ticket` for a single-use ticket and offers it in
//! `Sec-WebSocket-Protocol` as `dash.v1, dash.ticket.<ticket>`; a non-browser
//! client may send `Authorization: Bearer` instead. Everything is checked
//! *before* the upgrade, so a refusal is an ordinary JSON error (401 and 403
//! for the checks below; 400, 422, 429 and 503 for a bad offer or query, the
//! connection caps and a busy room):
//!
//! 1. `Origin`, when present, must be one the server trusts ([`crate::http::origin`]:
//!    the public URL's, one in `http.allowed_origins`, or in dev mode a loopback
//!    name) — a WebSocket is not covered by CORS, so this is what stops another
//!    site's page, or a DNS-rebound one, from using a signed-in browser's ticket
//!    (cross-site WebSocket hijacking). No `Origin` means a non-browser client.
//! 2. The ticket is redeemed (once) or the bearer token verified.
//! 3. The server accepts by echoing `dash.v1` only — never the ticket.
//!
//! After the upgrade this module only moves frames: it parses client frames
//! (size limit, shape), hands them to the connection's room in the
//! [`Hub`](agentdeck_services::sync::Hub), writes what the room sends, and
//! keeps the heartbeat. All ordering and state live in the room owner.
//!
//! A socket ends when the credential that opened it does (sign-out, sign-out
//! everywhere, token revocation, a disabled account, a removed member, expiry):
//! it re-checks periodically and on this node's announcements, then sends
//! `goaway {4001, reconnect: false}` and closes with 4001 ([`crate::http::reauth`]).
//!
//! On shutdown every socket sends `goaway {4011, reconnect: true,
//! retryAfterMs}` with a random wait of up to 5 s, so a restart does not make
//! every browser reconnect in the same instant, then closes with 4011.
//!
//! A client that can inflate gzip (a browser with `DecompressionStream`) opens
//! `/api/sync?compress=gzip`; large snapshots then arrive as binary frames
//! holding the gzip-compressed JSON of the same frame. Everything else stays
//! JSON text.

use std::time::Duration;

use agentdeck_domain::api_tokens::Scope;
use agentdeck_services::accounts::sessions;
use agentdeck_services::api_tokens;
use agentdeck_services::auth::AuthError;
use agentdeck_services::sync::{Connection, Frames, OutFrame};
use agentdeck_storage::tickets::{DEFAULT_TICKET_TTL, TicketCredential, TicketGrant};
use agentdeck_sync_protocol::{
    ClientFrame, FrameError, Limits, OfferedProtocols, RejectCode, SUBPROTOCOL, ServerFrame, close, parse_client_frame,
    parse_offered_protocols,
};
use axum::Json;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, timeout};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiQuery, Caller, Credential, bearer_token, caller_of_token};
use crate::http::origin::TrustedOrigins;
use crate::http::reauth::{CredentialCheck, EndedCredential, Verdict};
use crate::http::session;
use crate::state::AppState;

/// Read buffer of one socket, allocated up front: inbound frames are small, and thousands of
/// sockets add up (a larger frame grows the buffer while it is read).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Bytes gathered before a write goes to the network (frames are flushed anyway).
const WRITE_BUFFER_BYTES: usize = 8 * 1024;
/// Longest a write to one socket may take before the connection is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Shortest heartbeat accepted, so a zero in the configuration cannot spin.
const MIN_HEARTBEAT: Duration = Duration::from_millis(50);
/// Heartbeats without a pong before the socket is closed with 4012.
const MISSED_PONGS: u32 = 2;

/// Routes of this module.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_ticket)).route("/api/sync", get(sync_socket))
}

/// A single-use WebSocket ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WsTicket {
    /// Offer it as the subprotocol `dash.ticket.<ticket>` next to `dash.v1`.
    ticket: String,
    /// When it stops being accepted (30 seconds after issue).
    expires_at: DateTime<Utc>,
}

/// Issues a single-use ticket for opening `/api/sync` from a browser.
#[utoipa::path(post, path = "/api/ws-ticket", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A ticket valid once, for 30 seconds; offer it in Sec-WebSocket-Protocol as dash.ticket.<ticket> next to dash.v1", body = WsTicket),
        (status = 401, description = "Missing, invalid or expired bearer token", body = ErrorBody),
        (status = 503, description = "The ticket store is unavailable or full; retry shortly", body = ErrorBody)))]
async fn issue_ticket(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<WsTicket>, ApiError> {
    let grant = TicketGrant::new(caller.principal.clone(), credential_of(&state, &caller, &headers)?);
    let ticket = state.tickets.issue(&grant, DEFAULT_TICKET_TTL).await?;
    Ok(Json(WsTicket { ticket: ticket.value, expires_at: ticket.expires_at }))
}

/// What a socket opened by `caller` needs to re-check its credential: the
/// digest of the session's cookie or of the API token (from the request's
/// headers, which the extractor just accepted), or the JWT's expiry.
fn credential_of(state: &AppState, caller: &Caller, headers: &HeaderMap) -> Result<TicketCredential, ApiError> {
    match &caller.credential {
        Credential::Session { session_id, .. } => {
            let secret = session::cookie_secret(state, headers).ok_or(AuthError::Missing)?;
            Ok(TicketCredential::Session { session_id: *session_id, digest: sessions::digest_of(secret) })
        }
        Credential::ApiToken { token_id, .. } => {
            let token = bearer_token(headers).ok_or(AuthError::Missing)?;
            Ok(TicketCredential::ApiToken { token_id: *token_id, digest: api_tokens::digest(token) })
        }
        Credential::Jwt => {
            let token = bearer_token(headers).ok_or(AuthError::Missing)?;
            let (_, expires_at) = state.tokens.verify_with_expiry(token)?;
            Ok(TicketCredential::Jwt { expires_at })
        }
    }
}

/// Query parameters of `GET /api/sync`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncParams {
    /// `gzip`: large snapshots may come as gzip-compressed binary frames.
    compress: Option<Compression>,
}

/// Frame compressions a client can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Compression {
    Gzip,
}

/// Upgrades to the sync WebSocket after checking `Origin` and authentication.
async fn sync_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<SyncParams>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !origin_allowed(&state.origins, &headers) {
        return Err(ApiError::new(ErrorCode::Forbidden, "this Origin may not open the sync socket"));
    }
    let offered = parse_offered_protocols(
        headers.get_all(header::SEC_WEBSOCKET_PROTOCOL).iter().filter_map(|value| value.to_str().ok()),
    );
    let grant = authenticate(&state, &headers, &offered).await?;
    // Subscribed before anything else can happen, so no announcement after this check is missed.
    let reauth = grant.credential.map(|credential| {
        let interval = Duration::from_secs(state.settings.sync.reauth_interval_secs);
        let check = CredentialCheck::new(
            state.clone(),
            state.settings.session_policy(),
            credential,
            &grant.principal,
            interval,
        );
        (check, state.credential_events.subscribe())
    });
    if offered.ticket.is_some()
        && let Some((check, _)) = &reauth
        && check.check().await == Verdict::Ended
    {
        // The ticket outlived its credential (signed out in the seconds since it was issued).
        return Err(ApiError::new(ErrorCode::Unauthorized, "the credential that asked for this ticket has ended"));
    }
    let principal = grant.principal;
    let gzip = params.compress == Some(Compression::Gzip);
    let connection = state.hub.connect(&principal, gzip)?;
    let max_frame_bytes = state.settings.sync.max_frame_bytes;
    let socket_settings = SocketSettings {
        max_frame_bytes,
        heartbeat: Duration::from_millis(state.settings.sync.heartbeat_ms).max(MIN_HEARTBEAT),
        max_ops: u32::try_from(state.dashboard.limits().max_ops).unwrap_or(u32::MAX),
        patches_per_minute: state.hub.patches_per_minute(),
        shutdown: state.shutdown.subscribe(),
        reauth,
    };
    // Frames up to twice the limit are read and refused here with a clear 4009;
    // the transport limit only guards memory against anything larger.
    let transport_limit = max_frame_bytes.saturating_mul(2);
    Ok(upgrade
        .protocols([SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(transport_limit)
        .max_frame_size(transport_limit)
        .on_upgrade(move |socket| serve(socket, connection, socket_settings)))
}

/// Who opens the socket and how they proved it: the ticket's grant, else the bearer token's.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    offered: &OfferedProtocols,
) -> Result<TicketGrant, ApiError> {
    let Some(ticket) = &offered.ticket else {
        let token = bearer_token(headers).ok_or(AuthError::Missing)?;
        let caller = caller_of_token(state, token, Scope::Agents).await?;
        let credential = credential_of(state, &caller, headers)?;
        return Ok(TicketGrant::new(caller.principal, credential));
    };
    if !offered.speaks_v1 {
        return Err(ApiError::new(ErrorCode::BadRequest, format!("offer {SUBPROTOCOL} next to the ticket")));
    }
    let unauthorized = || ApiError::new(ErrorCode::Unauthorized, "the ticket is unknown, expired or already used");
    let grant = state.tickets.redeem(ticket).await?.ok_or_else(unauthorized)?;
    // The workspace may have gone, or been disabled, in the seconds since the ticket was issued.
    state.check_workspace(grant.principal.workspace_id).await?;
    Ok(grant)
}

/// Whether the request's `Origin` (if any) may open the socket (see [`crate::http::origin`]).
fn origin_allowed(origins: &TrustedOrigins, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    origin.to_str().is_ok_and(|origin| origins.allows_origin(origin))
}

/// What one socket needs to know from the settings.
struct SocketSettings {
    max_frame_bytes: usize,
    heartbeat: Duration,
    max_ops: u32,
    /// Patches per minute per user, announced in `hello` (0: unlimited).
    patches_per_minute: u32,
    /// Becomes `true` when the server stops.
    shutdown: watch::Receiver<bool>,
    /// The credential's re-check and this node's announcements of ended credentials
    /// (`None` only for a ticket of an older node, which carries no credential).
    reauth: Option<(CredentialCheck, broadcast::Receiver<EndedCredential>)>,
}

/// Why a socket is being closed: a protocol close code and its reason, or nothing (the peer is gone).
type Closing = Option<(u16, &'static str)>;

/// What serving a socket does after one event.
enum Next {
    /// Keep serving.
    Serve,
    /// Stop, closing with the code when there is one.
    Stop(Closing),
}

/// Serves one upgraded socket until either side ends it.
async fn serve(mut socket: WebSocket, mut connection: Connection, mut settings: SocketSettings) {
    // The awaits below are boxed: an idle socket's task then holds only its waiting
    // state, not the largest state of every write it might make (thousands of sockets add up).
    if Box::pin(send_frame(&mut socket, &hello(&connection, &settings))).await.is_err() {
        return;
    }
    let mut heartbeat = tokio::time::interval_at(Instant::now() + settings.heartbeat, settings.heartbeat);
    let mut missed = 0u32;
    let frames = connection.frames();
    let (check, mut events) = match settings.reauth.take() {
        Some((check, events)) => (Some(check), Some(events)),
        None => (None, None),
    };
    let recheck = tokio::time::sleep_until(match &check {
        Some(check) => check.next_check(Instant::now()),
        None => Instant::now(),
    });
    tokio::pin!(recheck);
    let closing = loop {
        if *settings.shutdown.borrow_and_update() {
            break Box::pin(going_away(&mut socket)).await;
        }
        let next = tokio::select! {
            // Checked at the top of the loop; a dropped sender means the server is gone too.
            changed = settings.shutdown.changed() => match changed {
                Ok(()) => Next::Serve,
                Err(_) => Next::Stop(Box::pin(going_away(&mut socket)).await),
            },
            frame = frames.next() => match frame {
                Some(frame) => match Box::pin(send_queued(&mut socket, frame, &frames)).await {
                    Ok(()) => Next::Serve,
                    Err(()) => Next::Stop(None),
                },
                // The room let this connection go: it says why (too slow, no state), or the hub is going away.
                None => Next::Stop(Some(let_go(connection.kicked.try_recv().ok()))),
            },
            code = &mut connection.kicked => {
                // What the room queued before letting go (a `reject` saying why) goes out first.
                let _peer_may_be_gone = Box::pin(send_rest(&mut socket, &frames)).await;
                Next::Stop(Some(let_go(code.ok())))
            }
            message = socket.recv() => Box::pin(on_message(&mut socket, &connection, &settings, message, &mut missed)).await,
            () = &mut recheck, if check.is_some() => Box::pin(recheck_now(&mut socket, check.as_ref(), recheck.as_mut())).await,
            event = next_event(&mut events) => match event {
                Ok(ended) if check.as_ref().is_some_and(|check| check.concerns(&ended)) => {
                    Box::pin(recheck_now(&mut socket, check.as_ref(), recheck.as_mut())).await
                }
                Ok(_) => Next::Serve,
                // Announcements were missed: any of them may have been this socket's.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Box::pin(recheck_now(&mut socket, check.as_ref(), recheck.as_mut())).await
                }
                Err(broadcast::error::RecvError::Closed) => {
                    events = None;
                    Next::Serve
                }
            },
            _ = heartbeat.tick() => {
                if missed >= MISSED_PONGS {
                    Next::Stop(Some((close::NO_PONG, "no pong")))
                } else {
                    missed += 1;
                    let ts = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
                    match Box::pin(send_frame(&mut socket, &ServerFrame::Ping { ts })).await {
                        Ok(()) => Next::Serve,
                        Err(()) => Next::Stop(None),
                    }
                }
            }
        };
        if let Next::Stop(closing) = next {
            break closing;
        }
    };
    if let Some((code, reason)) = closing {
        let frame = Message::Close(Some(CloseFrame { code, reason: reason.into() }));
        let _peer_may_be_gone = Box::pin(timeout(WRITE_TIMEOUT, socket.send(frame))).await;
    }
    // Dropping `connection` leaves the room.
}

/// The next announcement of an ended credential (never, without a receiver).
async fn next_event(
    events: &mut Option<broadcast::Receiver<EndedCredential>>,
) -> Result<EndedCredential, broadcast::error::RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

/// Re-checks the socket's credential now and schedules the next check; an
/// ended credential stops the socket with `goaway` and 4001, a store that does
/// not answer keeps it (see [`crate::http::reauth`]).
async fn recheck_now(
    socket: &mut WebSocket,
    check: Option<&CredentialCheck>,
    recheck: std::pin::Pin<&mut tokio::time::Sleep>,
) -> Next {
    let Some(check) = check else { return Next::Serve };
    let verdict = check.check().await;
    recheck.reset(check.next_check(Instant::now()));
    if verdict != Verdict::Ended {
        return Next::Serve;
    }
    let goaway = ServerFrame::Goaway { code: close::UNAUTHORIZED, reconnect: false, retry_after_ms: None };
    let _closing_anyway = send_frame(socket, &goaway).await;
    Next::Stop(Some((close::UNAUTHORIZED, "credential ended; sign in again")))
}

/// The `hello` that opens every socket.
fn hello(connection: &Connection, settings: &SocketSettings) -> ServerFrame {
    ServerFrame::Hello {
        sid: connection.id().to_string(),
        proto: SUBPROTOCOL.to_owned(),
        heartbeat_ms: u64::try_from(settings.heartbeat.as_millis()).unwrap_or(u64::MAX),
        limits: Limits {
            max_frame_bytes: settings.max_frame_bytes as u64,
            max_ops: settings.max_ops,
            patches_per_minute: settings.patches_per_minute,
        },
        server_time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// Sends `goaway` (the server is stopping) and says how to close.
async fn going_away(socket: &mut WebSocket) -> Closing {
    let _closing_anyway = send_frame(socket, &goaway()).await;
    Some((close::SERVER_RESTART, "server restarting"))
}

/// The close for a connection the room let go with `code` (none: the hub is going away).
fn let_go(code: Option<u16>) -> (u16, &'static str) {
    match code {
        Some(close::INSUFFICIENT_STATE) => (close::INSUFFICIENT_STATE, "state unavailable; reconnect and subscribe"),
        Some(code) => (code, "too slow; reconnect and recover"),
        None => (close::SERVER_RESTART, "server restarting"),
    }
}

/// Handles one message from the client (or the end of its stream).
async fn on_message(
    socket: &mut WebSocket,
    connection: &Connection,
    settings: &SocketSettings,
    message: Option<Result<Message, axum::Error>>,
    missed: &mut u32,
) -> Next {
    let sent = |result: Result<(), ()>| if result.is_ok() { Next::Serve } else { Next::Stop(None) };
    let too_large = Next::Stop(Some((close::FRAME_TOO_LARGE, "frame too large")));
    match message {
        None | Some(Ok(Message::Close(_))) => Next::Stop(None),
        // A frame over the transport limit: the transport says so with a capacity error.
        Some(Err(error)) if is_over_capacity(&error) => too_large,
        Some(Err(_)) => Next::Stop(None),
        Some(Ok(Message::Text(text))) => match parse_client_frame(text.as_str(), settings.max_frame_bytes) {
            Ok(ClientFrame::Pong { .. }) => {
                *missed = 0;
                Next::Serve
            }
            Ok(frame) => match connection.send(frame).await {
                Ok(()) => Next::Serve,
                Err(error) => {
                    tracing::warn!(%error, "sync room did not take a frame");
                    Next::Stop(Some((close::RATE_LIMITED, "room busy; back off")))
                }
            },
            Err(FrameError::TooLarge { .. }) => too_large,
            Err(FrameError::Malformed(detail)) => sent(bad_frame(socket, json!({ "message": detail })).await),
        },
        Some(Ok(Message::Binary(bytes))) if bytes.len() > settings.max_frame_bytes => too_large,
        Some(Ok(Message::Binary(_))) => {
            sent(bad_frame(socket, json!({ "message": "dash.v1 frames are JSON text" })).await)
        }
        // A transport-level pong counts as a sign of life too.
        Some(Ok(Message::Pong(_))) => {
            *missed = 0;
            Next::Serve
        }
        // Answered by the WebSocket layer itself.
        Some(Ok(Message::Ping(_))) => Next::Serve,
    }
}

/// Whether the transport refused a message for being over its size limit.
fn is_over_capacity(error: &axum::Error) -> bool {
    use std::error::Error as _;
    matches!(
        error.source().and_then(|inner| inner.downcast_ref::<tungstenite::Error>()),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Longest random wait a `goaway` suggests before reconnecting.
const MAX_RETRY_AFTER_MS: u64 = 5_000;

/// `goaway` for a server restart, with a random reconnect delay (spreads the reconnect storm).
fn goaway() -> ServerFrame {
    let mut bytes = [0u8; 8];
    let jitter = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes) % (MAX_RETRY_AFTER_MS + 1),
        Err(_) => MAX_RETRY_AFTER_MS / 2,
    };
    ServerFrame::Goaway { code: close::SERVER_RESTART, reconnect: true, retry_after_ms: Some(jitter) }
}

/// Refuses a frame that could not be read; the connection stays open.
async fn bad_frame(socket: &mut WebSocket, detail: serde_json::Value) -> Result<(), ()> {
    let reject = ServerFrame::Reject { op: None, code: RejectCode::BadFrame, v: None, detail: Some(detail) };
    send_frame(socket, &reject).await
}

async fn send_frame(socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), ()> {
    let text =
        serde_json::to_string(frame).map_err(|error| tracing::error!(%error, "server frame does not serialise"))?;
    send_text(socket, &text).await
}

/// Writes what the room still has queued for a connection it let go, within [`WRITE_TIMEOUT`].
async fn send_rest(socket: &mut WebSocket, frames: &Frames) -> Result<(), ()> {
    match frames.try_next() {
        Some(first) => send_queued(socket, first, frames).await,
        None => Ok(()),
    }
}

/// Writes one text frame within [`WRITE_TIMEOUT`].
async fn send_text(socket: &mut WebSocket, text: &str) -> Result<(), ()> {
    send_message(socket, Message::Text(text.into())).await
}

/// Most frames written before one flush.
const MAX_FRAMES_PER_FLUSH: usize = 64;

/// Writes `first` and whatever else the room has queued by now (up to
/// [`MAX_FRAMES_PER_FLUSH`]), then flushes once: a busy socket costs one
/// system call per burst, not one per frame. All within [`WRITE_TIMEOUT`].
async fn send_queued(socket: &mut WebSocket, first: OutFrame, frames: &Frames) -> Result<(), ()> {
    let write = async {
        socket.feed(message_of(first)).await?;
        for _ in 1..MAX_FRAMES_PER_FLUSH {
            let Some(frame) = frames.try_next() else { break };
            socket.feed(message_of(frame)).await?;
        }
        socket.flush().await
    };
    match timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(()),
    }
}

/// A frame the room queued as a WebSocket message: JSON text, or gzip-compressed JSON as binary.
fn message_of(frame: OutFrame) -> Message {
    match frame {
        OutFrame::Text(text) => Message::Text(text.as_ref().into()),
        // Shared, not copied: one compressed snapshot may go to many sockets.
        OutFrame::Binary(bytes) => Message::Binary(axum::body::Bytes::from_owner(bytes)),
    }
}

/// Writes one message within [`WRITE_TIMEOUT`].
async fn send_message(socket: &mut WebSocket, message: Message) -> Result<(), ()> {
    match timeout(WRITE_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(()),
    }
}
