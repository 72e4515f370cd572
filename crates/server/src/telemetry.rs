//! Logging: readable lines in dev, JSON lines in production.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{Mode, Settings};

/// Installs the global subscriber once; later calls (e.g. from tests) are no-ops.
/// `RUST_LOG` overrides `log.level` when set.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match settings.log.format.as_str() {
        "json" => true,
        "pretty" => false,
        _ => settings.mode == Mode::Production,
    };
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_span_events(FmtSpan::NONE);
    // `try_init` fails only when a subscriber is already set, which is fine.
    let _already_set = if json { builder.json().try_init() } else { builder.compact().try_init() };
}
