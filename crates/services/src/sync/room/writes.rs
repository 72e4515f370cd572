//! A socket's `patch`, and placing committed changes after what the room has sent.

use agentdeck_domain::auth::Principal;
use agentdeck_domain::dashboard::version::{EntityTag, Precondition, StateVersion};
use agentdeck_sync_protocol::{Origin, RejectCode, ServerFrame};
use serde_json::{Value, json};

use super::Owner;
use super::fanout::encode;
use crate::sync::outbox::Kind;

impl Owner {
    /// Commits a patch: `ack` to the writer, one `delta` to everyone else, or `reject` to the writer.
    pub(super) async fn patch(&mut self, conn: u64, op: String, base: u64, ops: Value, tab: String) {
        if let Err(wait) = self.budget.take() {
            let v = self.known.as_ref().map(|known| known.version);
            let detail = json!({ "message": "too many patches; slow down", "retryAfterMs": wait.as_millis() as u64 });
            let frame = ServerFrame::Reject { op: Some(op), code: RejectCode::RateLimited, v, detail: Some(detail) };
            if let Some(frame) = encode(&frame) {
                self.send_to(conn, frame, Kind::Control);
            }
            return;
        }
        if self.known.is_none()
            && let Err(error) = self.load().await
        {
            return self.reject(conn, Some(op), &error);
        }
        let principal = self.principal_of(conn);
        // `base` counts versions of the epoch the room is in; with no state yet there is nothing to name.
        let precondition = self.known.as_ref().filter(|known| !known.epoch.is_empty()).map(|known| {
            Precondition::Tags(vec![EntityTag {
                weak: false,
                version: StateVersion { epoch: known.epoch.clone(), version: base },
            }])
        });
        // Scoped to the user and tab, so a retry of this op id is applied once and no other tab collides.
        let op_key = socket_op_key(&principal, &tab, &op);
        let committed = match self.service.patch(&principal, &ops, precondition, Some(op_key)).await {
            Ok(committed) => committed,
            Err(error) => return self.reject(conn, Some(op), &error),
        };
        let version = committed.version;
        if committed.replayed {
            let ack = ServerFrame::Ack { op, base, v: version.version, ops: None };
            if let Some(frame) = encode(&ack) {
                self.send_to(conn, frame, Kind::Control);
            }
            return;
        }
        // Commits of other nodes (or REST) landed in between: subscribers get them first, in order.
        if let Some(known) = &self.known
            && known.epoch == version.epoch
            && known.next().version < version.version
        {
            self.catch_up(Some(version.version - 1)).await;
        }
        // The ack names the version the change really followed (a rebased patch moves past `base`).
        let ack_base = match &self.known {
            Some(known) if known.next() == version => known.version,
            _ => base,
        };
        // The writer applies its own ops on `ack`; when the rules changed more, it gets the whole change.
        let changed_more = (committed.ops != ops).then(|| committed.ops.clone());
        let ack = ServerFrame::Ack { op: op.clone(), base: ack_base, v: version.version, ops: changed_more };
        if let Some(frame) = encode(&ack) {
            self.send_to(conn, frame, Kind::Control);
        }
        self.advance(version, committed.ops, Some(Origin { tab, op }), Some(conn)).await;
    }

    /// Sends subscribers what moved the room to `version`: a delta when it is the next one, else a snapshot.
    pub(super) async fn advance(
        &mut self,
        version: StateVersion,
        ops: Value,
        origin: Option<Origin>,
        writer: Option<u64>,
    ) {
        match &self.known {
            Some(known) if known.next() == version => {
                let delta = ServerFrame::Delta {
                    epoch: version.epoch.clone(),
                    base: known.version,
                    v: version.version,
                    ops,
                    origin,
                };
                self.known = Some(version);
                if let Some(frame) = encode(&delta) {
                    self.broadcast(&frame, writer);
                }
            }
            // Already sent: the owner's own commit overtook this notification.
            Some(known) if known.epoch == version.epoch && version.version <= known.version => {}
            // A gap: the history fills it (else a snapshot).
            Some(known) if known.epoch == version.epoch => self.catch_up(None).await,
            // A new epoch: only a snapshot puts everyone right.
            _ => self.snapshot_all(true).await,
        }
    }
}

/// Separates the parts of a socket patch's op key. A control character: REST idempotency keys
/// (`<subject>:<key>`, visible ASCII) can never contain it, so they are never read as an origin.
pub(super) const SOCKET_KEY_SEPARATOR: char = '\u{1f}';

/// The op key of a socket patch: `<subject>:␟<tab>␟<op>`.
pub(super) fn socket_op_key(principal: &Principal, tab: &str, op: &str) -> String {
    format!("{}:{SOCKET_KEY_SEPARATOR}{tab}{SOCKET_KEY_SEPARATOR}{op}", principal.subject)
}

/// The reject code of a [`PatchError`](agentdeck_domain::dashboard::patch::PatchError) code.
pub(super) fn patch_code(code: &str) -> RejectCode {
    match code {
        "forbidden" => RejectCode::Forbidden,
        "test_failed" => RejectCode::TestFailed,
        "schema" => RejectCode::Schema,
        "too_large" => RejectCode::TooLarge,
        _ => RejectCode::InvalidPatch,
    }
}
