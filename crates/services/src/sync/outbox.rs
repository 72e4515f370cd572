//! The outbound queue of one connection, accounted in bytes.
//!
//! The room's owner pushes frames without ever waiting; the socket task takes
//! them in order. Counting bytes rather than frames matters because one
//! snapshot can weigh as much as thousands of deltas. What happens when a
//! connection does not keep up is decided by the owner from what [`Outbox::push`]
//! reports (see the [hub documentation](super)): past the *high-water mark* the
//! queued state frames are dropped and replaced by one snapshot; past the *limit*
//! the connection is closed.
//!
//! Hand-written rather than an `mpsc` channel because a channel can neither
//! count bytes nor take back frames it already holds.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// One encoded server frame, shared by every connection it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutFrame {
    /// A JSON text frame.
    Text(Arc<str>),
    /// A gzip-compressed JSON frame (large snapshots, for connections that accept it).
    Binary(Arc<[u8]>),
}

impl OutFrame {
    /// Bytes it takes on the wire (payload only).
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty (never, for a real frame).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What kind of frame is queued: state frames may be replaced by a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `delta`, `batch` or `snapshot`: superseded by any later snapshot.
    State,
    /// A snapshot queued to replace dropped state frames.
    Coalesced,
    /// Anything else (`ack`, `reject`, `subscribed`): always delivered.
    Control,
}

/// Where the queue stands after a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    /// At or below the high-water mark.
    Normal,
    /// Queued, but above the high-water mark: time to coalesce.
    High,
    /// Not queued: it would pass the hard limit.
    Full,
}

/// Byte bounds of every connection's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Above this many queued bytes, queued state frames give way to one snapshot.
    pub high_water_bytes: usize,
    /// A frame that would take the queue above this closes the connection (slow consumer).
    pub limit_bytes: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self { high_water_bytes: 256 * 1024, limit_bytes: 1024 * 1024 }
    }
}

/// The queue between a room's owner and one socket.
#[derive(Default)]
pub(super) struct Outbox {
    state: Mutex<State>,
    ready: Notify,
}

#[derive(Default)]
struct State {
    frames: VecDeque<(OutFrame, Kind)>,
    bytes: usize,
    /// The owner will push no more (the connection was dropped by the room).
    closed: bool,
    /// The socket side is gone.
    reader_gone: bool,
}

impl Outbox {
    fn state(&self) -> MutexGuard<'_, State> {
        // Each update is done in full under the lock; a panic elsewhere cannot tear it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame unless it would pass `limits.limit_bytes`.
    pub(super) fn push(&self, frame: OutFrame, kind: Kind, limits: QueueLimits) -> Level {
        let mut state = self.state();
        let bytes = state.bytes + frame.len();
        if bytes > limits.limit_bytes {
            return Level::Full;
        }
        state.bytes = bytes;
        state.frames.push_back((frame, kind));
        drop(state);
        self.ready.notify_one();
        if bytes > limits.high_water_bytes { Level::High } else { Level::Normal }
    }

    /// Drops every queued state frame; tells whether a coalesced snapshot was among them
    /// (the connection could not even take the last replacement).
    pub(super) fn drop_state_frames(&self) -> bool {
        let mut state = self.state();
        let mut dropped_coalesced = false;
        let mut freed = 0;
        state.frames.retain(|(frame, kind)| match kind {
            Kind::Control => true,
            Kind::State | Kind::Coalesced => {
                dropped_coalesced |= *kind == Kind::Coalesced;
                freed += frame.len();
                false
            }
        });
        state.bytes -= freed;
        dropped_coalesced
    }

    /// Bytes queued now.
    pub(super) fn queued_bytes(&self) -> usize {
        self.state().bytes
    }

    /// Whether the socket side has gone away.
    pub(super) fn reader_gone(&self) -> bool {
        self.state().reader_gone
    }

    /// No more frames will come (the room dropped the connection or stopped).
    pub(super) fn close(&self) {
        self.state().closed = true;
        self.ready.notify_one();
    }

    /// Marks the socket side as gone; queued frames are released.
    pub(super) fn leave(&self) {
        let mut state = self.state();
        state.reader_gone = true;
        state.frames.clear();
        state.bytes = 0;
    }

    /// The next frame if one is queued now (never waits).
    pub(super) fn try_next(&self) -> Option<OutFrame> {
        let mut state = self.state();
        let (frame, _) = state.frames.pop_front()?;
        state.bytes -= frame.len();
        Some(frame)
    }

    /// The next frame, in order; `None` once closed and drained. Cancel-safe.
    pub(super) async fn next(&self) -> Option<OutFrame> {
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            // Registered before looking, so a push between the look and the wait is not missed.
            notified.as_mut().enable();
            {
                let mut state = self.state();
                if let Some((frame, _)) = state.frames.pop_front() {
                    state.bytes -= frame.len();
                    return Some(frame);
                }
                if state.closed {
                    return None;
                }
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(len: usize) -> OutFrame {
        OutFrame::Text(Arc::from("x".repeat(len)))
    }

    const LIMITS: QueueLimits = QueueLimits { high_water_bytes: 100, limit_bytes: 250 };

    #[tokio::test]
    async fn frames_come_out_in_order_and_bytes_are_counted() {
        let outbox = Outbox::default();
        assert_eq!(outbox.push(text(10), Kind::State, LIMITS), Level::Normal);
        assert_eq!(outbox.push(text(20), Kind::Control, LIMITS), Level::Normal);
        assert_eq!(outbox.queued_bytes(), 30);
        assert_eq!(outbox.next().await, Some(text(10)));
        assert_eq!(outbox.queued_bytes(), 20);
        outbox.close();
        assert_eq!(outbox.next().await, Some(text(20)), "closing still delivers what is queued");
        assert_eq!(outbox.next().await, None);
    }

    #[test]
    fn past_high_water_state_frames_can_be_dropped_and_past_the_limit_nothing_is_queued() {
        let outbox = Outbox::default();
        assert_eq!(outbox.push(text(60), Kind::State, LIMITS), Level::Normal);
        assert_eq!(outbox.push(text(10), Kind::Control, LIMITS), Level::Normal);
        assert_eq!(outbox.push(text(60), Kind::State, LIMITS), Level::High);
        assert!(!outbox.drop_state_frames());
        assert_eq!(outbox.queued_bytes(), 10, "only the control frame stays");
        assert_eq!(outbox.push(text(200), Kind::Coalesced, LIMITS), Level::High);
        assert_eq!(outbox.push(text(50), Kind::State, LIMITS), Level::Full);
        assert_eq!(outbox.queued_bytes(), 210);
        assert!(outbox.drop_state_frames(), "the unsent replacement is reported");
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_on_push_and_on_close() {
        let outbox = Arc::new(Outbox::default());
        let reader = tokio::spawn({
            let outbox = Arc::clone(&outbox);
            async move { (outbox.next().await, outbox.next().await) }
        });
        tokio::task::yield_now().await;
        outbox.push(text(1), Kind::State, LIMITS);
        outbox.close();
        assert_eq!(reader.await.unwrap(), (Some(text(1)), None));
    }
}
