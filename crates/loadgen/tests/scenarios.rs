//! The load generator's scenarios, small and bounded, against a real agentdeck
//! server started in this process: no gap, no duplicate, every tab ends at its
//! room's last version, and every tab of a reconnect storm recovers from history (or,
//! beyond what the history holds, from a snapshot, still without a gap).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests and benches fail loudly on a broken fixture")]

use std::net::SocketAddr;
use std::time::Duration;

use agentdeck_loadgen::auth::TokenMinter;
use agentdeck_loadgen::scenarios::{
    A2aConfig, AskLoad, Common, IdleConfig, Report, RoomsConfig, StormPlan, Transport, run_a2a, run_idle, run_rooms,
};
use agentdeck_loadgen::target::Target;
use agentdeck_server::config::{Mode, Settings};
use agentdeck_server::startup::Application;
use anyhow::{Context, Result};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The HS256 secret the test server verifies with and the generator signs with.
const SECRET: &str = "loadgen-test-secret-0123456789abcdef";

/// A dev-mode server on a random loopback port; stops when dropped.
struct Server {
    address: SocketAddr,
    _data_dir: TempDir,
    _stop: oneshot::Sender<()>,
}

async fn spawn_server() -> Result<Server> {
    spawn_server_with(|_| {}).await
}

async fn spawn_server_with(configure: impl FnOnce(&mut Settings)) -> Result<Server> {
    let data_dir = tempfile::tempdir()?;
    let mut settings = Settings {
        mode: Mode::Dev,
        bind: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        ..Settings::default()
    };
    settings.log.level = "warn".into();
    settings.auth.jwt_secret = SECRET.into();
    settings.sync.max_connections_per_user = 0;
    settings.sync.max_connections_per_workspace = 0;
    settings.sync.patches_per_minute = 100_000;
    // Pings every half second, so the generator's pongs are exercised (two missed close the socket).
    settings.sync.heartbeat_ms = 500;
    configure(&mut settings);
    let application = Application::build(settings).await.context("server does not start")?;
    let address = application.address();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Ok(Server { address, _data_dir: data_dir, _stop: stop })
}

fn common(server: &Server, prefix: &str) -> Result<Common> {
    Ok(Common {
        target: Target::parse(&format!("http://{}", server.address))?,
        minter: Some(TokenMinter::for_demo(SECRET.as_bytes())?),
        user_prefix: prefix.into(),
        concurrency: 20,
        server_pid: Some(std::process::id()),
    })
}

fn assert_passed(report: &Report) {
    assert!(report.ok, "{}\n{}", report.describe(), serde_json::to_string(report).unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_deliver_every_version_to_every_tab_in_order() -> Result<()> {
    let server = spawn_server().await?;
    let mut config = RoomsConfig::rooms(20, 2, Duration::from_secs(3));
    config.warmup = Duration::from_secs(1);
    config.rate = 4.0;
    let report = run_rooms(&common(&server, "t-rooms")?, &config).await?;
    assert_passed(&report);
    let rooms = report.rooms.as_ref().context("rooms section")?;
    assert_eq!((rooms.gaps, rooms.duplicates, rooms.incomplete_tabs), (0, 0, 0));
    assert!(rooms.deliveries > 0 && rooms.latency.count > 0, "{}", report.describe());
    assert_eq!(rooms.commits, rooms.sent, "every patch acked: {}", report.describe());
    assert!(rooms.rejects.is_empty(), "{:?}", rooms.rejects);
    assert!(rooms.pongs > 0, "pings were answered");

    // A second run in the same rooms starts from the versions the first left.
    let again =
        run_rooms(&common(&server, "t-rooms")?, &RoomsConfig { duration: Duration::from_secs(2), ..config }).await?;
    assert_passed(&again);
    Ok(())
}

/// 20 rooms of one tab publishing `rate` patches/s; every tab drops after 1 s and is back within 0.5 s.
fn small_storm(rate: f64) -> RoomsConfig {
    RoomsConfig {
        warmup: Duration::from_millis(500),
        rate,
        storm: Some(StormPlan { drop_after: Duration::from_secs(1), window: Duration::from_millis(500) }),
        duration: Duration::from_secs(3),
        ..RoomsConfig::storm(20, 1, Duration::from_millis(500))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_recovers_every_tab_from_history() -> Result<()> {
    let server = spawn_server().await?;
    let config = small_storm(4.0);
    let report = run_rooms(&common(&server, "t-storm")?, &config).await?;
    assert_passed(&report);
    let storm = report.storm.as_ref().context("storm section")?;
    assert_eq!(storm.reconnected, 20);
    assert_eq!(storm.recovered_ratio, 1.0, "{}", report.describe());
    assert!(storm.catch_up.count == 20 && storm.replayed > 0, "{}", report.describe());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_that_missed_more_than_the_history_holds_get_a_snapshot_and_no_gap() -> Result<()> {
    // One version of history: a tab that missed two or more changes cannot be replayed to.
    let server = spawn_server_with(|settings| settings.state.history_len = 1).await?;
    let config = small_storm(10.0);
    let report = run_rooms(&common(&server, "t-beyond")?, &config).await?;
    assert_passed(&report);
    let storm = report.storm.as_ref().context("storm section")?;
    assert_eq!(storm.reconnected, 20);
    assert!(storm.snapshots > 0 && storm.recovered_ratio < 1.0, "{}", report.describe());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_room_reaches_every_subscriber() -> Result<()> {
    let server = spawn_server().await?;
    let config = RoomsConfig::hot(30, 20.0, Duration::from_secs(2));
    let report = run_rooms(&common(&server, "t-hot")?, &config).await?;
    assert_passed(&report);
    let rooms = report.rooms.as_ref().context("rooms section")?;
    assert!(rooms.deliveries >= 30, "{}", report.describe());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_are_held_and_measured() -> Result<()> {
    let server = spawn_server().await?;
    let mut config = IdleConfig::new(20, Duration::from_millis(1200));
    config.settle = Duration::from_millis(100);
    let report = run_idle(&common(&server, "t-idle")?, &config).await?;
    assert_passed(&report);
    let idle = report.idle.as_ref().context("idle section")?;
    assert_eq!(report.connections, 20);
    assert!(idle.pongs >= 20, "every socket answered at least one ping: {}", report.describe());
    assert!(idle.server_rss_after_kb.is_some() && idle.server_cpu_percent.is_some(), "{idle:?}");
    Ok(())
}

/// A stand-in for `scripts/bench/socketio/server.js`, speaking the few Engine.IO /
/// Socket.IO packets the generator uses, so the Socket.IO side is tested without Node.
mod fake_socketio {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex, PoisonError};

    use agentdeck_loadgen::socketio::{Packet, parse};
    use futures::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;
    use tokio_tungstenite::tungstenite::Message;

    type Rooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::Sender<String>)>>>>;

    /// Listens on a random loopback port until the test ends.
    pub async fn spawn() -> anyhow::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let rooms: Rooms = Arc::default();
        tokio::spawn(async move {
            let mut next_id = 0u64;
            while let Ok((stream, _)) = listener.accept().await {
                next_id += 1;
                tokio::spawn(serve(stream, next_id, Arc::clone(&rooms)));
            }
        });
        Ok(address)
    }

    async fn serve(stream: tokio::net::TcpStream, id: u64, rooms: Rooms) {
        let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
        let (mut sink, mut source) = ws.split();
        let (tx, mut rx) = mpsc::channel::<String>(1024);
        tokio::spawn(async move {
            while let Some(text) = rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let open = json!({ "sid": format!("s{id}"), "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000 });
        if tx.send(format!("0{open}")).await.is_err() {
            return;
        }
        while let Some(Ok(Message::Text(text))) = source.next().await {
            let reply = match parse(text.as_str()) {
                Ok(Packet::Connect(_)) => Some(format!("40{}", json!({ "sid": format!("x{id}") }))),
                Ok(Packet::Event { ack, name, args }) => {
                    let room = args.first().and_then(Value::as_str).unwrap_or_default().to_owned();
                    let mut rooms = rooms.lock().unwrap_or_else(PoisonError::into_inner);
                    if name == "join" {
                        rooms.entry(room).or_default().push((id, tx.clone()));
                    } else if name == "delta" {
                        let frame = format!("42{}", json!(["delta", args.get(1).cloned().unwrap_or(Value::Null)]));
                        for (member, member_tx) in rooms.get(&room).into_iter().flatten() {
                            if *member != id {
                                let _slow_member_misses_it = member_tx.try_send(frame.clone());
                            }
                        }
                    }
                    ack.map(|ack| format!("43{ack}{}", json!([{ "ok": true }])))
                }
                _ => None,
            };
            if let Some(reply) = reply
                && tx.send(reply).await.is_err()
            {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rooms_scenario_speaks_socket_io_too() -> Result<()> {
    let address = fake_socketio::spawn().await?;
    let common = Common {
        target: Target::parse(&format!("http://{address}"))?,
        minter: None,
        user_prefix: "t-sio".into(),
        concurrency: 20,
        server_pid: None,
    };
    let mut config = RoomsConfig::rooms(10, 2, Duration::from_secs(2));
    config.warmup = Duration::from_millis(500);
    config.rate = 4.0;
    config.transport = Transport::SocketIo;
    let report = run_rooms(&common, &config).await?;
    assert_passed(&report);
    let rooms = report.rooms.as_ref().context("rooms section")?;
    assert_eq!(report.protocol, "socket.io");
    assert!(rooms.deliveries > 0 && rooms.commits == rooms.sent, "{}", report.describe());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_measures_the_overheads_and_the_floor() -> Result<()> {
    let server = spawn_server_with(|settings| {
        settings.gateway.cache_ttl_ms = 0;
        let slow = agentdeck_server::config::AgentFault { delay_ms: 30, fail: false };
        settings.a2a.faults.insert("herald".into(), slow);
    })
    .await?;
    let workspace = uuid::Uuid::parse_str(agentdeck_loadgen::auth::DEMO_WORKSPACE)?;
    let token = TokenMinter::new(SECRET.as_bytes(), workspace)?.mint("load-ask")?;
    let base = format!("http://{}", server.address);
    let ask = AskLoad {
        token,
        question: "workspace overview".into(),
        baseline: Duration::from_millis(30),
        floor_url: format!("{base}/api/dashboard/state"),
    };
    let config = A2aConfig {
        url: format!("{base}/api/ask"),
        concurrency: 1,
        warmup: Duration::from_millis(200),
        duration: Duration::from_secs(1),
        message_prefix: String::new(),
        server_pid: None,
        ask: Some(ask),
    };
    let report = run_a2a(&config).await?;
    assert!(report.ok, "{}", report.describe());
    let (overhead, over_agents, floor) =
        (report.overhead.as_ref(), report.overhead_over_agents.as_ref(), report.floor.as_ref());
    let (overhead, over_agents, floor) =
        (overhead.context("overhead")?, over_agents.context("over agents")?, floor.context("floor")?);
    assert_eq!(overhead.count, report.requests);
    assert_eq!(over_agents.count, report.requests, "every answer carries Server-Timing");
    let in_server = report.overhead_in_server.as_ref().context("in server")?;
    assert_eq!(in_server.count, report.requests);
    assert!(in_server.p50_ms <= over_agents.p50_ms, "{}", report.describe());
    assert_eq!(floor.count, report.requests.min(150), "one floor read per answer, at most 150");
    // Herald's 30 ms delay is in every answer, not in a dashboard read.
    assert!(report.latency.p50_ms >= 30.0, "{}", report.describe());
    assert!(floor.p50_ms < report.latency.p50_ms, "{}", report.describe());
    Ok(())
}
