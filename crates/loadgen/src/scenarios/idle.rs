//! `idle`: hold many subscribed sockets, answer pings, and read the server's
//! memory and CPU from `/proc` (target T1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

use super::{Common, IdleSection, Report, secs};
use crate::client::{Event, READ_TIMEOUT, SyncClient};
use crate::process_stats::{ProcSample, cpu_percent, round2};
use crate::stats::Counters;

/// An `idle` run.
#[derive(Debug, Clone)]
pub struct IdleConfig {
    /// Sockets to open (subscribed), `per_room` to a room (user `<prefix>-<n>`).
    pub connections: usize,
    /// How long to hold them once open (longer than the heartbeat, so pings are answered).
    pub hold: Duration,
    /// Pause after opening, before memory is read, so the server settles.
    pub settle: Duration,
    /// Sockets sharing one room (tabs of one user); 1: every socket its own room.
    pub per_room: usize,
}

impl IdleConfig {
    /// `connections` held for `hold`.
    pub fn new(connections: usize, hold: Duration) -> Self {
        Self { connections, hold, settle: Duration::from_secs(2), per_room: 1 }
    }
}

/// Opens the connections, holds them and reports memory and CPU.
pub async fn run_idle(common: &Common, config: &IdleConfig) -> Result<Report> {
    if config.connections == 0 {
        bail!("connections must be at least 1");
    }
    let pid = common.server_pid;
    let read = |pid: Option<u32>| pid.map(ProcSample::read).transpose();
    let server_before = read(pid).context("reading the server before connecting")?;
    let own_before = ProcSample::read(std::process::id())?;
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);

    let started = Instant::now();
    let retries_before = crate::client::connect_retries();
    let per_room = config.per_room.max(1);
    let outcomes: Vec<Result<tokio::task::JoinHandle<()>>> = futures::stream::iter(0..config.connections)
        .map(|index| {
            let counters = Arc::clone(&counters);
            let stop = stop_rx.clone();
            let common = common.clone();
            async move {
                let user = common.user(index / per_room);
                let token = common.token(&user)?;
                let (client, _) = SyncClient::connect_subscribed(&common.target, index, &token, None)
                    .await
                    .with_context(|| format!("{user}: connect and sub"))?;
                Ok(tokio::spawn(hold(client, counters, stop, user)))
            }
        })
        .buffer_unordered(common.concurrency.max(1))
        .collect()
        .await;
    let connect_time = started.elapsed();
    let mut handles = Vec::new();
    let mut connect_failures = 0u64;
    for outcome in outcomes {
        match outcome {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                connect_failures += 1;
                counters.error(format!("connect: {error:#}"));
            }
        }
    }
    let open = handles.len();

    sleep(config.settle).await;
    let hold_start = read(pid)?;
    let pongs_before = Counters::get(&counters.pongs);
    sleep(config.hold).await;
    let hold_end = read(pid)?;
    let own_after = ProcSample::read(std::process::id())?;
    let pongs = Counters::get(&counters.pongs) - pongs_before;
    let _holders_may_be_gone = stop_tx.send(true);
    for handle in handles {
        if timeout(Duration::from_secs(10), handle).await.is_err() {
            counters.error("a connection task did not stop within 10 s");
        }
    }

    let per_conn = |before: u64, after: u64| round2((after as f64 - before as f64) * 1024.0 / open.max(1) as f64);
    let idle = IdleSection {
        hold_secs: secs(config.hold),
        server_rss_before_kb: server_before.map(|sample| sample.rss_kb),
        server_rss_after_kb: hold_end.map(|sample| sample.rss_kb),
        server_rss_per_conn_bytes: server_before.zip(hold_end).map(|(b, a)| per_conn(b.rss_kb, a.rss_kb)),
        server_hwm_kb: hold_end.map(|sample| sample.hwm_kb),
        server_cpu_percent: hold_start.zip(hold_end).map(|(b, a)| round2(cpu_percent(&b, &a))),
        loadgen_rss_per_conn_bytes: Some(per_conn(own_before.rss_kb, own_after.rss_kb)),
        pongs,
    };
    let (error_count, errors) = counters.errors();
    let mut report = Report {
        scenario: "idle".into(),
        protocol: "dash.v1".into(),
        connections: open,
        connect_failures,
        connect_retries: crate::client::connect_retries() - retries_before,
        connect_secs: secs(connect_time),
        connects_per_sec: (open as f64 / connect_time.as_secs_f64().max(0.001)).round(),
        idle: Some(idle),
        error_count,
        errors,
        ..Report::default()
    };
    report.conclude();
    Ok(report)
}

/// Keeps one socket open, answering pings, until told to stop.
async fn hold(mut client: SyncClient, counters: Arc<Counters>, mut stop: watch::Receiver<bool>, user: String) {
    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = stop.changed() => break,
            event = client.next_event(READ_TIMEOUT) => match event {
                Ok(Event::Pinged) => Counters::bump(&counters.pongs),
                Ok(Event::Closed { code, reason }) => {
                    counters.error(format!("{user}: closed by the server ({code:?} {reason})"));
                    return;
                }
                Ok(_) => {}
                Err(error) => {
                    counters.error(format!("{user}: {error:#}"));
                    return;
                }
            },
        }
    }
    client.close().await;
}
