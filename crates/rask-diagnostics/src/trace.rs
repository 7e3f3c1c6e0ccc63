//! Profiles as Chrome trace event JSON, the format Perfetto
//! (ui.perfetto.dev, which runs in the browser without uploading) and
//! chrome://tracing open.
//!
//! Every task that ran is one complete event (`"ph": "X"`) named by its
//! key, with `ts` and `dur` in microseconds from the start of the run,
//! `pid` this process and `tid` the worker; its category (`cat`) is the
//! function (`data` for literals, aliases and lists). Metadata events
//! name the process and the workers, and resource samples are counter
//! events (`"ph": "C"`) `cpu` and `memory`. The run's executor, worker
//! count, planned tasks, wall time and error are under `otherData`.
//!
//! ```
//! use rask::graph;
//! use rask::{get_with, Sync};
//! use rask::diagnostics::{trace, Profiler};
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x") };
//! let p = Profiler::new();
//! get_with(&Sync, &g, "y", &[&p]).unwrap();
//! let json = trace::chrome_trace(&p.profile(), None);
//! let events = json["traceEvents"].as_array().unwrap();
//! let tasks: Vec<_> = events.iter().filter(|e| e["ph"] == "X").collect();
//! assert_eq!(tasks.len(), 2);
//! assert!(tasks.iter().all(|e| e["dur"].as_f64().unwrap() >= 0.0));
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value as Json};

use crate::error::DiagnosticsError;
use crate::profile::Profile;
use crate::resources::Resources;

fn micros(d: Duration) -> f64 {
    // whole nanoseconds, as microseconds with three decimals
    d.as_nanos() as f64 / 1000.0
}

/// The Chrome trace of `profile`, with the samples of `resources` as
/// counters.
pub fn chrome_trace(profile: &Profile, resources: Option<&Resources>) -> Json {
    let pid = std::process::id();
    let mut events: Vec<Json> = Vec::with_capacity(profile.records.len() + profile.workers + 1);
    events.push(json!({
        "name": "process_name", "ph": "M", "pid": pid, "tid": 0,
        "args": {"name": format!("rask ({}, {} workers)", profile.executor, profile.workers)},
    }));
    for w in 0..profile.workers {
        events.push(json!({
            "name": "thread_name", "ph": "M", "pid": pid, "tid": w,
            "args": {"name": format!("worker {w}")},
        }));
    }
    for r in &profile.records {
        let key = r.key.to_text();
        let mut args = json!({"key": key, "id": r.id});
        if r.failed {
            args["failed"] = true.into();
            if let Some(e) = &profile.error {
                args["error"] = e.clone().into();
            }
        }
        let mut event = json!({
            "name": key,
            "cat": r.function.as_deref().unwrap_or("data"),
            "ph": "X",
            "ts": micros(r.start),
            "dur": micros(r.duration()),
            "pid": pid,
            "tid": r.worker,
            "args": args,
        });
        if r.failed {
            event["cname"] = "terrible".into();
        }
        events.push(event);
    }
    if let Some(res) = resources {
        let offset = res.origin().map_or(0.0, |o| profile.seconds_at(o));
        for s in res.samples() {
            let ts = ((offset + s.time.as_secs_f64()) * 1e6).max(0.0);
            events.push(json!({
                "name": "cpu", "ph": "C", "ts": ts, "pid": pid,
                "args": {"cpu %": (s.cpu_percent * 10.0).round() / 10.0},
            }));
            events.push(json!({
                "name": "memory", "ph": "C", "ts": ts, "pid": pid,
                "args": {"rss MB": (s.rss_bytes as f64 / 1048576.0 * 10.0).round() / 10.0},
            }));
        }
    }
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "producer": "rask",
            "executor": profile.executor,
            "workers": profile.workers,
            "planned_tasks": profile.planned,
            "wall_s": profile.wall.as_secs_f64(),
            "error": profile.error,
        },
    })
}

/// The total measured duration of each key (by its text) in a Chrome
/// trace file written by rask: the sum of the `dur` of its complete
/// events.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("p.json");
/// std::fs::write(&path, r#"{"traceEvents": [{"name": "y", "ph": "X", "ts": 0, "dur": 1500}]}"#).unwrap();
/// let d = rask::diagnostics::trace::read_durations(&path).unwrap();
/// assert_eq!(d["y"], std::time::Duration::from_micros(1500));
/// ```
pub fn read_durations(path: &Path) -> Result<HashMap<String, Duration>, DiagnosticsError> {
    let text = std::fs::read_to_string(path).map_err(|source| DiagnosticsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |message: String| DiagnosticsError::Profile {
        path: path.to_path_buf(),
        message,
    };
    let json: Json = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    // a trace is an object with traceEvents, or (the other form Chrome
    // accepts) a bare array of events
    let events = match &json {
        Json::Object(o) => o
            .get("traceEvents")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("no \"traceEvents\" array".into()))?,
        Json::Array(a) => a,
        _ => return Err(bad("the top level is neither an object nor an array".into())),
    };
    let mut out: HashMap<String, Duration> = HashMap::new();
    for e in events {
        if e.get("ph").and_then(Json::as_str) != Some("X") {
            continue;
        }
        let name = e
            .get("args")
            .and_then(|a| a.get("key"))
            .or_else(|| e.get("name"))
            .and_then(Json::as_str)
            .ok_or_else(|| bad(format!("a complete event without a name: {e}")))?;
        let dur = e
            .get("dur")
            .and_then(Json::as_f64)
            .filter(|d| d.is_finite() && *d >= 0.0)
            .ok_or_else(|| bad(format!("event {name:?} has no non-negative \"dur\"")))?;
        *out.entry(name.to_string()).or_default() += Duration::from_nanos((dur * 1000.0) as u64);
    }
    Ok(out)
}
