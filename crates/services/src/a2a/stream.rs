//! A task's events as a stream: what it has missed first, then live events,
//! ending at a terminal or interrupted state.
//!
//! A stream that falls behind the broadcast (a slow SSE reader) refills from
//! the stored event log instead of losing events; one that falls behind even
//! the log ends, and its client resubscribes (a snapshot comes first).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;

use agentdeck_a2a_protocol::StreamResponse;
use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::live::{LiveTask, SequencedEvent};

/// Events of one stream, in order.
pub type EventStream = Pin<Box<dyn Stream<Item = SequencedEvent> + Send>>;

struct State {
    pending: VecDeque<SequencedEvent>,
    shutdown: CancellationToken,
    live: Option<(Arc<LiveTask>, broadcast::Receiver<SequencedEvent>)>,
    last_seq: i64,
    done: bool,
}

/// Whether the stream closes after this event. A task snapshot (the first
/// event of a subscription) ends it only when the task is over: a
/// subscriber to a task waiting for input stays to see what happens next.
fn ends(event: &StreamResponse) -> bool {
    match event {
        StreamResponse::Task(task) => task.status.state.is_terminal(),
        other => other.ends_stream(),
    }
}

/// A stream of `initial` events, then (when `live` is given) the task's live
/// events after the last of them; it ends early when `shutdown` fires.
pub(super) fn event_stream(
    initial: Vec<SequencedEvent>,
    live: Option<(Arc<LiveTask>, broadcast::Receiver<SequencedEvent>)>,
    last_seq: i64,
    shutdown: CancellationToken,
) -> EventStream {
    let state = State { pending: initial.into(), shutdown, live, last_seq, done: false };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            if let Some(next) = state.pending.pop_front() {
                state.last_seq = state.last_seq.max(next.seq);
                state.done = ends(&next.event);
                return Some((next, state));
            }
            let (live, receiver) = state.live.as_mut()?;
            let received = tokio::select! {
                received = receiver.recv() => received,
                () = state.shutdown.cancelled() => return None,
            };
            match received {
                Ok(next) if next.seq > state.last_seq => state.pending.push_back(next),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => match live.store_events_after(state.last_seq).await {
                    Some(missed) => state.pending.extend(missed),
                    None => return None,
                },
                Err(RecvError::Closed) => return None,
            }
        }
    }))
}
