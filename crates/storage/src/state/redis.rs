//! The cluster-mode state store: each room in a few Redis keys, each commit one
//! Lua script.
//!
//! Keys of a room share the hash tag `{dash:<workspace>:<user>}`, so in Redis
//! Cluster they live on one shard and one script may touch them all:
//!
//! - `…:meta` — hash: `epoch`, `version`, `updated_at` (ms);
//! - `…:snap` — string: the encoded document;
//! - `…:hist` — stream, entry id `<version>-0`, fields `v`, `op`, `ops`,
//!   `paths`, `at`; trimmed with `MAXLEN ~ history_len`;
//! - `…:ops` — sorted set: op key scored by the version it produced.
//!
//! **Why one script.** The commit reads the version, checks it, and writes four
//! keys. As separate commands, two nodes could both pass the check and both
//! write version n+1; `WATCH`/`MULTI` would need retries under contention. A
//! Lua script runs without any other command in between, so the check and the
//! write are one step, and it does every check before its first write, so a
//! refused commit leaves nothing behind (Redis does not roll back scripts).
//! The script also refreshes the TTL of every key and publishes
//! `"<epoch>.<version>"` on channel `dash:<workspace>:<user>`, a hint for other
//! nodes serving the room that they should catch up (`delete` publishes
//! `"deleted"`).
//!
//! Reads of more than one key (`load`, `history_after`) run as one `MULTI`
//! transaction, so they see one moment. Every call is bounded by
//! [`StateOptions::timeout`]; an unreachable or slow server is
//! [`StateError::Unavailable`]. The connection ([`RedisConnection`]) is one
//! multiplexed connection that reconnects by itself and answers the first
//! call after an outage on the new connection, so a restarted Redis heals
//! without the store being rebuilt.

use std::future::Future;
use std::sync::LazyLock;

use async_trait::async_trait;
use redis::{ErrorKind, RedisError, Script, ServerErrorKind};

use super::{
    CommitOutcome, CommitRequest, HistoryEntry, RoomKey, StateError, StateOptions, StateStore, StoredState, now_millis,
    time_from_millis,
};
use crate::redis_connection::RedisConnection;

/// The commit script; `Script` sends it by hash (EVALSHA) and loads it on a miss.
static COMMIT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("commit.lua")));

/// Dashboard state in Redis (cluster mode).
#[derive(Clone)]
pub struct RedisStateStore {
    connection: RedisConnection,
    options: StateOptions,
}

/// The keys and the channel of one room.
struct RoomKeys {
    meta: String,
    snap: String,
    hist: String,
    ops: String,
    channel: String,
}

impl RoomKeys {
    fn new(room: &RoomKey) -> Self {
        let name = format!("dash:{}:{}", room.workspace_id, escape_user(&room.user_id));
        Self {
            meta: format!("{{{name}}}:meta"),
            snap: format!("{{{name}}}:snap"),
            hist: format!("{{{name}}}:hist"),
            ops: format!("{{{name}}}:ops"),
            channel: name,
        }
    }
}

/// The pub/sub channel a room's commits are announced on.
pub(super) fn room_channel(room: &RoomKey) -> String {
    RoomKeys::new(room).channel
}

/// Escapes the braces that would end the hash tag early (and `%`, the escape).
fn escape_user(user_id: &str) -> String {
    let mut escaped = String::with_capacity(user_id.len());
    for character in user_id.chars() {
        match character {
            '%' => escaped.push_str("%25"),
            '{' => escaped.push_str("%7B"),
            '}' => escaped.push_str("%7D"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Sorts a Redis failure into "retry later" and anything else.
fn redis_error(error: RedisError) -> StateError {
    let transient = error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
        || matches!(
            error.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if transient { StateError::Unavailable(Box::new(error)) } else { StateError::Backend(Box::new(error)) }
}

/// Reads back a number the store wrote.
fn parse_version(value: &str) -> Result<u64, StateError> {
    value.parse().map_err(|_| StateError::Corrupt(format!("bad version {value:?}")))
}

/// Reads back a millisecond time the store wrote.
fn parse_time(value: &str) -> Result<chrono::DateTime<chrono::Utc>, StateError> {
    let millis = value.parse().map_err(|_| StateError::Corrupt(format!("bad time {value:?}")))?;
    time_from_millis(millis)
}

/// Decodes one stream entry (`id`, `[field, value, …]`) of the history.
fn history_entry(id: &str, fields: &[String]) -> Result<HistoryEntry, StateError> {
    let field = |name: &str| {
        fields
            .chunks_exact(2)
            .find(|pair| pair[0] == name)
            .map(|pair| pair[1].as_str())
            .ok_or_else(|| StateError::Corrupt(format!("history entry {id} has no field {name}")))
    };
    let op = field("op")?;
    Ok(HistoryEntry {
        version: parse_version(field("v")?)?,
        op_key: (!op.is_empty()).then(|| op.to_owned()),
        ops: serde_json::from_str(field("ops")?)
            .map_err(|error| StateError::Corrupt(format!("history ops: {error}")))?,
        written_paths: serde_json::from_str(field("paths")?)
            .map_err(|error| StateError::Corrupt(format!("history paths: {error}")))?,
        at: parse_time(field("at")?)?,
    })
}

impl RedisStateStore {
    /// Connects to `url` (`redis://…` or `rediss://…`); fails with
    /// [`StateError::Unavailable`] when the server does not answer in time.
    pub async fn connect(url: &str, options: StateOptions) -> Result<Self, StateError> {
        let connection = RedisConnection::connect(url, options.timeout).await.map_err(redis_error)?;
        Ok(Self { connection, options })
    }

    /// Runs one call to Redis under the store's timeout.
    async fn call<T>(&self, call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, StateError> {
        tokio::time::timeout(self.options.timeout, call)
            .await
            .map_err(|elapsed| StateError::Unavailable(Box::new(elapsed)))?
            .map_err(redis_error)
    }
}

#[async_trait]
impl StateStore for RedisStateStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn load(&self, room: &RoomKey) -> Result<Option<StoredState>, StateError> {
        let keys = RoomKeys::new(room);
        let mut connection = self.connection.clone();
        let (meta, document): (Vec<Option<String>>, Option<Vec<u8>>) = self
            .call(
                redis::pipe()
                    .atomic()
                    .cmd("HMGET")
                    .arg(&keys.meta)
                    .arg(&["epoch", "version", "updated_at"])
                    .cmd("GET")
                    .arg(&keys.snap)
                    .query_async(&mut connection),
            )
            .await?;
        let [epoch, version, updated_at] = <[Option<String>; 3]>::try_from(meta)
            .map_err(|meta| StateError::Corrupt(format!("meta has {} fields", meta.len())))?;
        match (epoch, version, updated_at, document) {
            (None, _, _, _) => Ok(None),
            (Some(epoch), Some(version), Some(updated_at), Some(document)) => Ok(Some(StoredState {
                epoch,
                version: parse_version(&version)?,
                document,
                updated_at: parse_time(&updated_at)?,
            })),
            _ => Err(StateError::Corrupt(format!("room {} is incomplete", keys.channel))),
        }
    }

    async fn commit(&self, room: &RoomKey, request: CommitRequest) -> Result<CommitOutcome, StateError> {
        request.validate()?;
        let keys = RoomKeys::new(room);
        let (has_expected, expected_epoch, expected_version) = match &request.expected {
            Some((epoch, version)) => ("1", epoch.as_str(), version.to_string()),
            None => ("0", "", String::new()),
        };
        let ops = serde_json::to_string(&request.ops).map_err(|error| StateError::Backend(Box::new(error)))?;
        let paths =
            serde_json::to_string(&request.written_paths).map_err(|error| StateError::Backend(Box::new(error)))?;
        let mut invocation = COMMIT.prepare_invoke();
        invocation
            .key(&keys.meta)
            .key(&keys.snap)
            .key(&keys.hist)
            .key(&keys.ops)
            .arg(has_expected)
            .arg(expected_epoch)
            .arg(expected_version)
            .arg(request.op_key.as_deref().unwrap_or(""))
            .arg(request.new_epoch.as_deref().unwrap_or(""))
            .arg(request.document.as_slice())
            .arg(ops)
            .arg(paths)
            .arg(now_millis())
            .arg(self.options.effective_history_len())
            .arg(self.options.effective_op_window())
            .arg(self.options.ttl_millis())
            .arg(&keys.channel);
        let mut connection = self.connection.clone();
        let reply: Vec<String> = self.call(invocation.invoke_async(&mut connection)).await?;
        match reply.as_slice() {
            [status, epoch, version] if status == "committed" => {
                Ok(CommitOutcome::Committed { epoch: epoch.clone(), version: parse_version(version)? })
            }
            [status, epoch, version] if status == "duplicate" => {
                Ok(CommitOutcome::Duplicate { epoch: epoch.clone(), version: parse_version(version)? })
            }
            [status, epoch, version] if status == "mismatch" => {
                Ok(CommitOutcome::VersionMismatch { current: Some((epoch.clone(), parse_version(version)?)) })
            }
            [status] if status == "mismatch" => Ok(CommitOutcome::VersionMismatch { current: None }),
            other => Err(StateError::Corrupt(format!("unexpected commit reply {other:?}"))),
        }
    }

    async fn history_after(
        &self,
        room: &RoomKey,
        epoch: &str,
        version: u64,
    ) -> Result<Option<Vec<HistoryEntry>>, StateError> {
        let keys = RoomKeys::new(room);
        let history_len = self.options.effective_history_len();
        let mut connection = self.connection.clone();
        // Version and entries in one transaction, so they describe one moment;
        // COUNT bounds the reply when the caller is far behind.
        let (meta, entries): (Vec<Option<String>>, Vec<(String, Vec<String>)>) = self
            .call(
                redis::pipe()
                    .atomic()
                    .cmd("HMGET")
                    .arg(&keys.meta)
                    .arg(&["epoch", "version"])
                    .cmd("XRANGE")
                    .arg(&keys.hist)
                    .arg(format!("{}-0", version.saturating_add(1)))
                    .arg("+")
                    .arg("COUNT")
                    .arg(history_len.saturating_add(1))
                    .query_async(&mut connection),
            )
            .await?;
        let (Some(Some(stored_epoch)), Some(Some(current))) = (meta.first(), meta.get(1)) else {
            return Ok(None);
        };
        let current = parse_version(current)?;
        // The window is exactly `history_len` versions, whatever the approximate
        // trim of the stream kept, so both backends answer alike.
        if stored_epoch != epoch || version > current || current - version > history_len {
            return Ok(None);
        }
        let entries = entries.iter().map(|(id, fields)| history_entry(id, fields)).collect::<Result<Vec<_>, _>>()?;
        // Never a partial recovery: every version up to the current one, or none.
        let complete = entries.len() as u64 == current - version
            && entries.iter().zip(version + 1..).all(|(entry, expected)| entry.version == expected);
        Ok(complete.then_some(entries))
    }

    async fn delete(&self, room: &RoomKey) -> Result<bool, StateError> {
        let keys = RoomKeys::new(room);
        let mut connection = self.connection.clone();
        let (existed, _deleted, _receivers): (bool, u64, u64) = self
            .call(
                redis::pipe()
                    .atomic()
                    .cmd("EXISTS")
                    .arg(&keys.meta)
                    .cmd("DEL")
                    .arg(&[&keys.meta, &keys.snap, &keys.hist, &keys.ops])
                    .cmd("PUBLISH")
                    .arg(&keys.channel)
                    .arg("deleted")
                    .query_async(&mut connection),
            )
            .await?;
        Ok(existed)
    }

    async fn purge_expired(&self) -> Result<u64, StateError> {
        // Every key of a room carries its TTL; Redis removes them by itself.
        Ok(0)
    }

    async fn ping(&self) -> Result<(), StateError> {
        let mut connection = self.connection.clone();
        let _: String = self.call(redis::cmd("PING").query_async(&mut connection)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn keys_share_one_hash_tag() {
        let workspace_id = Uuid::nil();
        let keys = RoomKeys::new(&RoomKey::new(workspace_id, "a}b{c%"));
        let tag = format!("{{dash:{workspace_id}:a%7Db%7Bc%25}}");
        for key in [&keys.meta, &keys.snap, &keys.hist, &keys.ops] {
            assert!(key.starts_with(&tag), "{key}");
        }
        assert_eq!(keys.channel, format!("dash:{workspace_id}:a%7Db%7Bc%25"));
    }
}
