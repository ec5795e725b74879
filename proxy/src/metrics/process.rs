//! Metrics of the process itself: `process_*` (CPU, memory, open files and their limit,
//! threads, start time) and `wsgate_build_info`.

use prometheus::Registry;
use prometheus::{IntGaugeVec, Opts};

/// Version of wsgate, a label of `wsgate_build_info`.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Registers the process collector and `wsgate_build_info` on `registry`.
pub fn register(registry: &Registry) -> Result<(), prometheus::Error> {
    #[cfg(target_os = "linux")]
    registry.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))?;
    let info = IntGaugeVec::new(
        Opts::new(
            "wsgate_build_info",
            "Always 1; labelled with the version of wsgate and the commit it was built from",
        ),
        &["version", "revision"],
    )?;
    let revision = option_env!("WSGATE_REVISION").unwrap_or("unknown");
    info.with_label_values(&[VERSION, revision]).set(1);
    registry.register(Box::new(info))
}
