//! `rooms`, `hot` and `storm`: rooms with subscribed tabs and one publisher
//! (the room's "agent") each, on an open-loop schedule.
//!
//! Every connection gets its own task. Publishers wait for the common start,
//! then send patch `k` of room `r` at `start + r/R·period + k·period` whether
//! or not earlier patches were acked (open loop), stamped with the send time.
//! A stalled server therefore delays deliveries, not sends, and the delivery
//! histogram is corrected with `record_correct` at the room's period
//! (coordinated omission); how late the generator itself sent is reported as
//! `publish_lag`.
//! A publisher is its room's only writer, so it pipelines: the base of each
//! patch is the one before plus one.
//!
//! After the schedule, the run drains until every tab holds its room's last
//! acked version (or the drain time is up): a tab that does not is a lost
//! delivery and fails the run, as do gaps and duplicates.
//!
//! This file holds the configuration, the state every task shares and the
//! report; [`tab`] and [`publisher`] are the two kinds of connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout};

use super::{Common, Report, RoomsSection, StormSection, patch_ops, secs, stamp_of};
use crate::client::{Continuity, Event, Position, READ_TIMEOUT, SUBSCRIBE_TIMEOUT, SubOutcome, SyncClient};
use crate::process_stats::CpuWatch;
use crate::socketio::{Packet, SocketIoClient};
use crate::stats::{Counters, Latency, Timeline, now_us};

mod publisher;
mod tab;

use publisher::spawn_publisher;
use tab::spawn_tab;

/// Which server the scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// agentdeck's `/api/sync` (`dash.v1`).
    Dash,
    /// The Socket.IO relay of `scripts/bench/socketio/server.js`.
    SocketIo,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Self::Dash => "dash.v1",
            Self::SocketIo => "socket.io",
        }
    }
}

/// When every tab drops, and the window its reconnect falls in.
#[derive(Debug, Clone, Copy)]
pub struct StormPlan {
    /// Time after the warm-up at which every tab drops at once.
    pub drop_after: Duration,
    /// Each tab reconnects at a (deterministic, pseudo-random) point of this window.
    pub window: Duration,
}

/// A rooms-style run.
#[derive(Debug, Clone)]
pub struct RoomsConfig {
    /// `rooms`, `hot` or `storm`, for the report.
    pub scenario: String,
    /// Rooms (users).
    pub rooms: usize,
    /// Subscribed tabs per room.
    pub tabs: usize,
    /// Patches per second per room.
    pub rate: f64,
    /// How long publishers publish, warm-up included.
    pub duration: Duration,
    /// The first part of `duration`, not measured.
    pub warmup: Duration,
    /// Size of each patch's JSON, about.
    pub payload_bytes: usize,
    /// Longest wait after the schedule for every tab to catch up.
    pub drain: Duration,
    /// Drop and reconnect every tab (storm).
    pub storm: Option<StormPlan>,
    /// The server spoken to.
    pub transport: Transport,
}

impl RoomsConfig {
    /// T2: `rooms` rooms × `tabs` tabs, one ~300-byte patch per second per room, for `duration`.
    pub fn rooms(rooms: usize, tabs: usize, duration: Duration) -> Self {
        Self {
            scenario: "rooms".into(),
            rooms,
            tabs,
            rate: 1.0,
            duration,
            warmup: Duration::from_secs(2).min(duration / 2),
            payload_bytes: 300,
            drain: Duration::from_secs(10),
            storm: None,
            transport: Transport::Dash,
        }
    }

    /// T3: one room with `subscribers` tabs and `rate` patches per second.
    pub fn hot(subscribers: usize, rate: f64, duration: Duration) -> Self {
        Self { scenario: "hot".into(), rate, ..Self::rooms(1, subscribers, duration) }
    }

    /// T5: `rooms` × `tabs` tabs drop 3 s after the warm-up and reconnect within `window`; publishers
    /// write one patch per room every 4 s meanwhile.
    pub fn storm(rooms: usize, tabs: usize, window: Duration) -> Self {
        let drop_after = Duration::from_secs(3);
        let warmup = Duration::from_secs(2);
        let duration = warmup + drop_after + window + Duration::from_secs(3);
        Self {
            scenario: "storm".into(),
            storm: Some(StormPlan { drop_after, window }),
            warmup,
            // Enough writes that most tabs miss some, few enough that the storm, not the write path, is measured.
            rate: 0.25,
            ..Self::rooms(rooms, tabs, duration)
        }
    }

    fn period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate.max(0.001))
    }
}

/// A tab's version before it connected.
const NOT_CONNECTED: u64 = u64::MAX;
/// Reconnects a tab makes after the server closed it (slow consumer, restart).
const MAX_RECONNECTS: u32 = 5;
/// Close codes after which a client reconnects and recovers.
const RECONNECT_CODES: [u16; 3] = [
    agentdeck_sync_protocol::close::SLOW_CONSUMER,
    agentdeck_sync_protocol::close::INSUFFICIENT_STATE,
    agentdeck_sync_protocol::close::SERVER_RESTART,
];

/// Storm outcomes, counted by the tabs.
#[derive(Default)]
struct StormCounters {
    reconnected: AtomicU64,
    recovered: AtomicU64,
    snapshots: AtomicU64,
    replayed: AtomicU64,
}

/// What every task of a run shares.
struct Shared {
    common: Common,
    config: RoomsConfig,
    counters: Counters,
    latency: Latency,
    commit_latency: Latency,
    publish_lag: Latency,
    catch_up: Latency,
    timeline: Timeline,
    storm: StormCounters,
    start: watch::Receiver<Option<Instant>>,
    stop: watch::Receiver<bool>,
    /// Publish times (µs) inside `[measure_from, measure_until)` are measured.
    measure_from_us: AtomicU64,
    measure_until_us: AtomicU64,
    /// When the last measured delivery arrived (µs).
    last_measured_us: AtomicU64,
    /// Last version acked to each room's publisher.
    room_final: Vec<AtomicU64>,
    /// Version each tab holds (`room * tabs + j`).
    tab_v: Vec<AtomicU64>,
    /// Publishers whose schedule is over and every patch answered.
    publishers_done: AtomicUsize,
}

impl Shared {
    fn measured(&self, ts_us: u64) -> bool {
        ts_us >= self.measure_from_us.load(Ordering::Relaxed) && ts_us < self.measure_until_us.load(Ordering::Relaxed)
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Counts a delta that was not the next version.
    fn broke(&self, who: &str, check: Continuity) {
        match check {
            Continuity::Next => {}
            Continuity::Duplicate { .. } => {
                Counters::bump(&self.counters.duplicates);
                self.counters.error(format!("{who}: duplicate {check:?}"));
            }
            Continuity::Gap { .. } | Continuity::OtherEpoch | Continuity::Unplaced => {
                Counters::bump(&self.counters.gaps);
                self.counters.error(format!("{who}: gap {check:?}"));
            }
        }
    }

    /// Counts a received delta and records its latency when it was published in the measured window.
    fn deliver(&self, stamp: Option<(u64, u64)>) {
        let now = now_us();
        let measured = match stamp {
            Some((ts, _)) if self.measured(ts) => {
                let latency = now.saturating_sub(ts);
                self.latency.record(latency);
                self.timeline.record(ts.saturating_sub(self.measure_from_us.load(Ordering::Relaxed)), latency);
                self.last_measured_us.fetch_max(now, Ordering::Relaxed);
                true
            }
            _ => false,
        };
        self.counters.delivered(measured);
    }
}

/// Microseconds of an instant on the generator's clock ([`now_us`]).
fn instant_us(at: Instant) -> u64 {
    let now = Instant::now();
    let now_us = now_us();
    if at >= now {
        now_us.saturating_add(at.duration_since(now).as_micros() as u64)
    } else {
        now_us.saturating_sub(now.duration_since(at).as_micros() as u64)
    }
}

/// A fraction in `[0, 1)` from an index (splitmix64), so reconnects spread the same way each run.
fn spread(index: usize) -> f64 {
    let mut z = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs a rooms-style scenario and reports it.
pub async fn run_rooms(common: &Common, config: &RoomsConfig) -> Result<Report> {
    if config.rooms == 0 || config.tabs == 0 {
        bail!("rooms and tabs must be at least 1");
    }
    if config.storm.is_some() && config.transport != Transport::Dash {
        bail!("the storm scenario speaks dash.v1 only");
    }
    let (start_tx, start_rx) = watch::channel(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let period = config.period();
    let shared = Arc::new(Shared {
        common: common.clone(),
        config: config.clone(),
        counters: Counters::default(),
        latency: Latency::new(Some(period))?,
        commit_latency: Latency::new(None)?,
        publish_lag: Latency::new(None)?,
        catch_up: Latency::new(None)?,
        timeline: Timeline::new(
            usize::try_from(config.duration.saturating_sub(config.warmup).as_secs()).unwrap_or(0) + 1,
        ),
        storm: StormCounters::default(),
        start: start_rx,
        stop: stop_rx,
        measure_from_us: AtomicU64::new(u64::MAX),
        measure_until_us: AtomicU64::new(u64::MAX),
        last_measured_us: AtomicU64::new(0),
        room_final: (0..config.rooms).map(|_| AtomicU64::new(0)).collect(),
        tab_v: (0..config.rooms * config.tabs).map(|_| AtomicU64::new(NOT_CONNECTED)).collect(),
        publishers_done: AtomicUsize::new(0),
    });

    let Connected { handles, publishers, failures: connect_failures, time: connect_time, retries: connect_retries } =
        connect_all(&shared, common.concurrency).await;

    let start = Instant::now() + Duration::from_millis(200);
    let measure_from = start + config.warmup;
    let measure_until = start + config.duration;
    shared.measure_from_us.store(instant_us(measure_from), Ordering::Relaxed);
    shared.measure_until_us.store(instant_us(measure_until), Ordering::Relaxed);
    let _receivers_may_be_gone = start_tx.send(Some(start));
    sleep_until(measure_from.into()).await;
    let cpu = CpuWatch::start(common.server_pid);
    sleep_until(measure_until.into()).await;
    let cpu = cpu.stop();

    let deadline = Instant::now() + config.drain;
    while Instant::now() < deadline && !drained(&shared, publishers) {
        sleep(Duration::from_millis(50)).await;
    }
    let _receivers_may_be_gone = stop_tx.send(true);
    for handle in handles {
        if timeout(Duration::from_secs(10), handle).await.is_err() {
            shared.counters.error("a connection task did not stop within 10 s");
        }
    }
    let mut report = report(&shared, config, connect_time, connect_failures, measure_from, measure_until, cpu);
    report.connect_retries = connect_retries;
    Ok(report)
}

/// The connections of a run, once every one was tried.
struct Connected {
    /// One task per connection that opened.
    handles: Vec<JoinHandle<()>>,
    /// How many of them are publishers.
    publishers: usize,
    /// Connections that could not be opened.
    failures: u64,
    /// How long opening them all took.
    time: Duration,
    /// Connections retried because the server was busy.
    retries: u64,
}

/// Opens every tab, then every publisher (so every tab is subscribed before
/// anything is published), `concurrency` at a time.
async fn connect_all(shared: &Arc<Shared>, concurrency: usize) -> Connected {
    let config = &shared.config;
    let tab_jobs = (0..config.rooms).flat_map(|room| (0..config.tabs).map(move |tab| (room, Some(tab))));
    let publisher_jobs = (0..config.rooms).map(|room| (room, None));
    let started = Instant::now();
    let retries_before = crate::client::connect_retries();
    let outcomes: Vec<Result<(JoinHandle<()>, bool)>> =
        futures::stream::iter(tab_jobs.chain(publisher_jobs).enumerate())
            .map(|(index, (room, tab))| {
                let shared = Arc::clone(shared);
                async move {
                    let is_publisher = tab.is_none();
                    let handle = match tab {
                        Some(tab) => spawn_tab(shared, index, room, tab).await,
                        None => spawn_publisher(shared, index, room).await,
                    };
                    handle.map(|handle| (handle, is_publisher)).with_context(|| format!("room {room} tab {tab:?}"))
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    let mut connected = Connected {
        handles: Vec::with_capacity(outcomes.len()),
        publishers: 0,
        failures: 0,
        time: started.elapsed(),
        retries: crate::client::connect_retries() - retries_before,
    };
    for outcome in outcomes {
        match outcome {
            Ok((handle, is_publisher)) => {
                connected.publishers += usize::from(is_publisher);
                connected.handles.push(handle);
            }
            Err(error) => {
                connected.failures += 1;
                shared.counters.error(format!("connect: {error:#}"));
            }
        }
    }
    connected
}

/// Whether every publisher is done and every connected tab holds its room's last version.
fn drained(shared: &Shared, publishers: usize) -> bool {
    if shared.publishers_done.load(Ordering::Relaxed) < publishers {
        return false;
    }
    let tabs = shared.config.tabs;
    shared.tab_v.iter().enumerate().all(|(index, v)| {
        let v = v.load(Ordering::Relaxed);
        v == NOT_CONNECTED || v >= shared.room_final[index / tabs].load(Ordering::Relaxed)
    })
}

fn report(
    shared: &Shared,
    config: &RoomsConfig,
    connect_time: Duration,
    connect_failures: u64,
    measure_from: Instant,
    measure_until: Instant,
    cpu: Vec<crate::process_stats::CpuUse>,
) -> Report {
    let counters = &shared.counters;
    let tabs = config.tabs;
    let incomplete = shared
        .tab_v
        .iter()
        .enumerate()
        .filter(|(index, v)| {
            let v = v.load(Ordering::Relaxed);
            v != NOT_CONNECTED && v != shared.room_final[index / tabs].load(Ordering::Relaxed)
        })
        .count() as u64;
    let window = measure_until.saturating_duration_since(measure_from);
    let measured_from_us = shared.measure_from_us.load(Ordering::Relaxed);
    let last_us = shared.last_measured_us.load(Ordering::Relaxed).max(shared.measure_until_us.load(Ordering::Relaxed));
    let delivery_secs = (last_us.saturating_sub(measured_from_us) as f64 / 1e6).max(0.001);
    let measured_deliveries = Counters::get(&counters.measured_deliveries);
    let connections = config.rooms * (config.tabs + 1);
    let (error_count, errors) = counters.errors();
    let rooms = RoomsSection {
        rooms: config.rooms,
        tabs: config.tabs,
        rate_per_room: config.rate,
        offered_deliveries_per_sec: config.rooms as f64 * config.tabs as f64 * config.rate,
        measured_secs: secs(window),
        deliveries: measured_deliveries,
        deliveries_per_sec: (measured_deliveries as f64 / delivery_secs).round(),
        sent: Counters::get(&counters.sent),
        commits: Counters::get(&counters.commits),
        commits_per_sec: (Counters::get(&counters.measured_commits) as f64 / window.as_secs_f64().max(0.001)).round(),
        latency: shared.latency.summary(),
        commit_latency: shared.commit_latency.summary(),
        publish_lag: shared.publish_lag.summary(),
        rejects: counters.rejects(),
        gaps: Counters::get(&counters.gaps),
        duplicates: Counters::get(&counters.duplicates),
        snapshots: Counters::get(&counters.snapshots),
        reconnects: Counters::get(&counters.reconnects),
        incomplete_tabs: incomplete,
        pongs: Counters::get(&counters.pongs),
        timeline: shared.timeline.seconds(),
    };
    let storm = config.storm.map(|plan| {
        let clients = (config.rooms * config.tabs) as u64;
        let recovered = shared.storm.recovered.load(Ordering::Relaxed);
        StormSection {
            clients,
            window_secs: secs(plan.window),
            reconnected: shared.storm.reconnected.load(Ordering::Relaxed),
            recovered,
            recovered_ratio: if clients == 0 { 0.0 } else { recovered as f64 / clients as f64 },
            snapshots: shared.storm.snapshots.load(Ordering::Relaxed),
            replayed: shared.storm.replayed.load(Ordering::Relaxed),
            catch_up: shared.catch_up.summary(),
        }
    });
    let mut report = Report {
        scenario: config.scenario.clone(),
        protocol: config.transport.name().into(),
        connections,
        connect_failures,
        connect_secs: secs(connect_time),
        connects_per_sec: (connections as f64 / connect_time.as_secs_f64().max(0.001)).round(),
        cpu,
        rooms: Some(rooms),
        storm,
        error_count,
        errors,
        ..Report::default()
    };
    report.conclude();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_spread_over_the_window() {
        let points: Vec<f64> = (0..1000).map(spread).collect();
        assert!(points.iter().all(|point| (0.0..1.0).contains(point)));
        let early = points.iter().filter(|point| **point < 0.5).count();
        assert!((400..600).contains(&early), "{early} of 1000 in the first half");
    }
}
