//! Profiles as one self-contained HTML file: a timeline with a row of
//! task bars per worker, the CPU and memory plot of the resource monitor
//! under it on the same time axis, a legend of functions, and tables of
//! the time by function and of the longest tasks.
//!
//! The file needs no network: the styles and the script are inline, and
//! the profile is one JSON document embedded in it (flat arrays of
//! numbers, one key string per task) that the script draws on a canvas.
//! A profile of 10^5 tasks is a file of a few megabytes that opens and
//! pans smoothly. Hovering a bar shows its key, function, start and
//! duration; the wheel zooms, dragging pans, a double click resets.
//!
//! ```
//! use rask::graph;
//! use rask::{get_with, Sync};
//! use rask::diagnostics::{timeline, Profiler};
//! fn inc(x: i64) -> i64 { x + 1 }
//! let g = graph! { "x" => 1, "y" => (inc, "x") };
//! let p = Profiler::new();
//! get_with(&Sync, &g, "y", &[&p]).unwrap();
//! let html = timeline::html(&p.profile(), None, "seed");
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("\"y\""));
//! assert!(!html.contains("http://") && !html.contains("https://"));
//! ```

use serde_json::{json, Value as Json};

use crate::profile::Profile;
use crate::resources::Resources;

const TEMPLATE: &str = include_str!("timeline.html");
const SLOT: &str = "/*RASK_DATA*/";

/// The most resource points a timeline embeds.
const MAX_POINTS: usize = 4000;

/// Rounds to two decimals (hundredths of a microsecond), to keep the
/// embedded numbers short.
fn short(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The HTML timeline of `profile`, with the samples of `resources` under
/// it, titled `title`.
pub fn html(profile: &Profile, resources: Option<&Resources>, title: &str) -> String {
    let data = data(profile, resources, title);
    // inside <script>, "</script>" or "<!--" in a key would end the
    // script: JSON allows escaping every `<`, `>` and `&`
    let text = data
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    TEMPLATE.replacen(SLOT, &text, 1)
}

fn data(profile: &Profile, resources: Option<&Resources>, title: &str) -> Json {
    let mut functions: Vec<&str> = Vec::new();
    let mut keys: Vec<String> = Vec::with_capacity(profile.records.len());
    let mut tasks: Vec<f64> = Vec::with_capacity(5 * profile.records.len());
    for r in &profile.records {
        let f = match r.function.as_deref() {
            None => -1.0,
            Some(name) => match functions.iter().position(|n| *n == name) {
                Some(i) => i as f64,
                None => {
                    functions.push(name);
                    (functions.len() - 1) as f64
                }
            },
        };
        keys.push(r.key.to_text());
        tasks.extend([
            r.worker as f64,
            short(r.start.as_nanos() as f64 / 1000.0),
            short(r.duration().as_nanos() as f64 / 1000.0),
            f,
            if r.failed { 1.0 } else { 0.0 },
        ]);
    }
    let mut samples: Vec<f64> = Vec::new();
    if let Some(res) = resources {
        let offset = res.origin().map_or(0.0, |o| profile.seconds_at(o));
        // a long run's samples are averaged in groups, to at most
        // MAX_POINTS points: more than a screen shows
        let all = res.samples();
        let group = all.len().div_ceil(MAX_POINTS).max(1);
        for chunk in all.chunks(group) {
            let n = chunk.len() as f64;
            let mean = |f: &dyn Fn(&crate::Sample) -> f64| chunk.iter().map(f).sum::<f64>() / n;
            samples.extend([
                short((offset + mean(&|s| s.time.as_secs_f64())).max(0.0) * 1e6),
                short(mean(&|s| s.cpu_percent)),
                short(mean(&|s| s.rss_bytes as f64) / 1048576.0),
            ]);
        }
    }
    // integers print without ".0", which keeps the file smaller
    let numbers = |v: Vec<f64>| -> Vec<Json> {
        v.into_iter()
            .map(|x| {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    Json::from(x as i64)
                } else {
                    Json::from(x)
                }
            })
            .collect()
    };
    json!({
        "title": title,
        "executor": profile.executor,
        "workers": profile.workers,
        "planned": profile.planned,
        "wall_us": short(profile.wall.as_nanos() as f64 / 1000.0),
        "error": profile.error,
        "functions": functions,
        "keys": keys,
        "tasks": numbers(tasks),
        "samples": numbers(samples),
    })
}
