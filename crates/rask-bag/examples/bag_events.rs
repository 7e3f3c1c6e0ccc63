//! Three questions about GitHub Archive events, each computed by a bag
//! that reads and parses the gzip'd JSON lines itself.
//!
//! ```sh
//! # make 800,000 events in 8 files (deterministic)
//! cargo run --release --example bag_events -- generate /tmp/events 800000 8
//! # the same, with fuller events: URLs, push events with 1 to 7 commits
//! # (messages with escapes), a `public` flag; about 860 bytes each
//! cargo run --release --example bag_events -- generate /tmp/rich 800000 8 rich
//! # the three questions, as one JSON object
//! cargo run --release --example bag_events -- '/tmp/events/*.json.gz'
//! # the reference: only decompressing the files, one per thread
//! cargo run --release --example bag_events -- decompress '/tmp/events/*.json.gz'
//! ```
//!
//! The answer: `top_actors` (the 10 most frequent `actor.login`, ties by
//! login in byte order), `by_type` (per `type`, the number of events and
//! the sum of `payload.size`, 0 where missing), `actors` (the number of
//! distinct logins, with `groupby`), and `seconds` for each.

use std::cmp::Reverse;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rask_bag::read_text;
use rask_scheduler::Threads;
use serde::{Deserialize, Serialize};
use serde_json::json;

// Each question reads only the fields of an event it needs (as Polars
// reads only the columns a query needs): `json_field(s)` validates each
// line while it skips the other members.

/// An event's actor login only: the groupby groups these records.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Actor {
    login: String,
}

/// An event's type and `payload.size`.
#[derive(Debug, Clone, Deserialize)]
struct TypeOf {
    kind: String,
    size: Option<u64>,
}

/// Records are many small strings: mimalloc allocates and frees them
/// faster than the system allocator, as Polars ships jemalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Failure = Box<dyn std::error::Error>;

/// Runs `f` and returns its value and the seconds it took.
fn timed<R>(f: impl FnOnce() -> Result<R, Failure>) -> Result<(R, f64), Failure> {
    let start = Instant::now();
    let r = f()?;
    Ok((r, start.elapsed().as_secs_f64()))
}

fn questions(pattern: &str) -> Result<serde_json::Value, Failure> {
    let ex = Threads::default();
    let (top, t_top) = timed(|| {
        let top = read_text(pattern)?
            .json_field::<String>("actor.login")
            .frequencies()
            .topk(10, |(login, n)| (*n, Reverse(login.clone())))
            .compute(&ex)?;
        Ok(top)
    })?;
    let (by_type, t_type) = timed(|| {
        let by_type = read_text(pattern)?
            .json_fields::<TypeOf>(["type", "payload.size"])
            .foldby_in_place(
                |e| e.kind.clone(),
                || (0_u64, 0_u64),
                |acc, e| {
                    acc.0 += 1;
                    acc.1 += e.size.unwrap_or(0);
                },
                |acc, other| {
                    acc.0 += other.0;
                    acc.1 += other.1;
                },
            )
            .compute(&ex)?;
        Ok(by_type)
    })?;
    let (actors, t_actors) = timed(|| {
        let n = read_text(pattern)?
            .json_fields::<Actor>(["actor.login"])
            .groupby(|e: &Actor| e.login.clone())
            .count()
            .compute(&ex)?;
        Ok(n)
    })?;
    let mut by_type_json = serde_json::Map::new();
    let mut by_type = by_type;
    by_type.sort();
    for (kind, (count, size)) in by_type {
        by_type_json.insert(kind, json!({"count": count, "size": size}));
    }
    Ok(json!({
        "top_actors": top
            .iter()
            .map(|(login, count)| json!({"login": login, "count": count}))
            .collect::<Vec<_>>(),
        "by_type": by_type_json,
        "actors": actors,
        "seconds": {"top_actors": t_top, "by_type": t_type, "actors": t_actors},
    }))
}

/// The files of a glob pattern, sorted.
fn files(pattern: &str) -> Result<Vec<PathBuf>, Failure> {
    let mut files: Vec<PathBuf> = glob::glob(pattern)?.collect::<Result<_, _>>()?;
    files.sort();
    if files.is_empty() {
        return Err(format!("no file matches {pattern:?}").into());
    }
    Ok(files)
}

/// Only decompresses the files, one per thread on as many threads as
/// cores, with the decompressor `read_text` uses: the floor under any
/// question about them.
fn decompress(pattern: &str) -> Result<serde_json::Value, Failure> {
    let files = files(pattern)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<u64, String> {
                    let mut bytes = 0;
                    let mut buf = vec![0_u8; 256 << 10];
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else {
                            return Ok(bytes);
                        };
                        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
                        let mut z = flate2::bufread::MultiGzDecoder::new(
                            std::io::BufReader::with_capacity(256 << 10, file),
                        );
                        loop {
                            let n = z.read(&mut buf).map_err(|e| e.to_string())?;
                            if n == 0 {
                                break;
                            }
                            bytes += n as u64;
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a decompressing thread panicked"))
            .sum::<Result<u64, String>>()
    })?;
    Ok(json!({
        "seconds": start.elapsed().as_secs_f64(),
        "bytes": total,
        "files": files.len(),
        "threads": threads,
    }))
}

/// A small, fast, deterministic random number generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ACTORS: u64 = 200_000;
const PROJECTS: [&str; 12] = [
    "dotfiles",
    "rask",
    "website",
    "linux",
    "notes",
    "api",
    "scheduler",
    "blog",
    "compiler",
    "game",
    "tools",
    "docs",
];
/// Event types and their weights (per thousand), roughly GitHub's.
const TYPES: [(&str, u64); 10] = [
    ("PushEvent", 520),
    ("CreateEvent", 120),
    ("WatchEvent", 110),
    ("IssueCommentEvent", 70),
    ("PullRequestEvent", 60),
    ("IssuesEvent", 40),
    ("ForkEvent", 30),
    ("DeleteEvent", 25),
    ("GollumEvent", 15),
    ("ReleaseEvent", 10),
];

/// The login of actor `id`: 3 to 14 letters and digits, a deterministic
/// function of the id.
fn login(id: u64) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789-";
    let mut r = Rng(id.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let len = 3 + r.below(12);
    let mut s = String::with_capacity(len as usize);
    s.push(CHARS[r.below(26) as usize] as char);
    for _ in 1..len {
        s.push(CHARS[r.below(CHARS.len() as u64 - 1) as usize] as char);
    }
    s
}

/// 40 hexadecimal digits, like a commit's sha.
fn sha(r: &mut Rng) -> String {
    format!("{:016x}{:016x}{:08x}", r.next(), r.next(), r.next() as u32)
}

/// One event as a JSON line (about 240 bytes), GitHub Archive's format
/// with fewer fields; `rich`, with more of them (about 860 bytes).
fn event(r: &mut Rng, id: u64, second: u64, rich: bool) -> String {
    // actor ranks: log-uniform, so a few actors make many events
    let actor = ((ACTORS as f64).powf(r.unit()) as u64).min(ACTORS - 1);
    let who = login(actor);
    let mut pick = r.below(1000);
    let mut kind = TYPES[0].0;
    for (t, w) in TYPES {
        if pick < w {
            kind = t;
            break;
        }
        pick -= w;
    }
    let owner = if r.below(4) == 0 {
        login(r.below(ACTORS))
    } else {
        who.clone()
    };
    let project = PROJECTS[r.below(PROJECTS.len() as u64) as usize];
    let payload = match kind {
        "PushEvent" if rich => {
            let size = 1 + r.below(4) * r.below(3);
            let commits: Vec<String> = (0..size)
                .map(|c| format!(
                    r#"{{"sha":"{}","author":{{"email":"{who}@users.noreply.github.com","name":"{who}"}},"message":"Fix \"issue\" #{c}\n\nSee caf\u00e9 notes {}","distinct":{},"url":"https://api.github.com/repos/{owner}/{project}/commits/{}"}}"#,
                    sha(r),
                    r.below(1000),
                    r.below(5) != 0,
                    sha(r)
                ))
                .collect();
            format!(
                r#","payload":{{"push_id":{},"size":{size},"distinct_size":{size},"ref":"refs/heads/master","head":"{}","before":"{}","commits":[{}]}}"#,
                536_000_000 + id,
                sha(r),
                sha(r),
                commits.join(",")
            )
        }
        "PushEvent" => {
            let size = 1 + r.below(4) * r.below(3);
            format!(
                r#","payload":{{"push_id":{},"size":{size},"ref":"refs/heads/master","head":"{}"}}"#,
                536_000_000 + id,
                sha(r)
            )
        }
        "WatchEvent" => r#","payload":{"action":"started"}"#.to_string(),
        "CreateEvent" => format!(
            r#","payload":{{"ref_type":"branch","ref":"b{}"}}"#,
            r.below(1000)
        ),
        "IssuesEvent" | "PullRequestEvent" => {
            format!(
                r#","payload":{{"action":"opened","number":{}}}"#,
                1 + r.below(900)
            )
        }
        // some events have no payload
        _ if r.below(2) == 0 => String::new(),
        _ => r#","payload":{}"#.to_string(),
    };
    let (h, m, s) = (second / 3600 % 24, second / 60 % 60, second % 60);
    if rich {
        return format!(
            r#"{{"id":"{}","type":"{kind}","actor":{{"id":{},"login":"{who}","gravatar_id":"","url":"https://api.github.com/users/{who}","avatar_url":"https://avatars.githubusercontent.com/u/{}?"}},"repo":{{"id":{},"name":"{owner}/{project}","url":"https://api.github.com/repos/{owner}/{project}"}}{payload},"public":{},"created_at":"2015-01-01T{h:02}:{m:02}:{s:02}Z"}}"#,
            2_489_651_045 + id,
            1 + actor * 37 % 9_999_991,
            1 + actor * 37 % 9_999_991,
            28_000_000 + r.below(5_000_000),
            r.below(10) != 0,
        );
    }
    format!(
        r#"{{"id":"{}","type":"{kind}","actor":{{"id":{},"login":"{who}"}},"repo":{{"id":{},"name":"{owner}/{project}"}}{payload},"created_at":"2015-01-01T{h:02}:{m:02}:{s:02}Z"}}"#,
        2_489_651_045 + id,
        1 + actor * 37 % 9_999_991,
        28_000_000 + r.below(5_000_000),
    )
}

/// Writes `events` events into `files` gzip'd JSON-lines files in `dir`
/// (`events-000.json.gz`, ...), the same bytes for the same arguments.
fn generate(dir: &Path, events: u64, files: u64, rich: bool) -> Result<serde_json::Value, Failure> {
    std::fs::create_dir_all(dir)?;
    let per_file = events.div_ceil(files.max(1));
    let start = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let written: Vec<(PathBuf, u64)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> Result<Vec<(PathBuf, u64)>, String> {
                    let mut out = Vec::new();
                    for f in (t..files).step_by(threads as usize) {
                        let first = f * per_file;
                        let last = ((f + 1) * per_file).min(events);
                        let path = dir.join(format!("events-{f:03}.json.gz"));
                        let tmp = dir.join(format!(".events-{f:03}.json.gz.tmp"));
                        let file = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
                        let mut z = flate2::write::GzEncoder::new(
                            std::io::BufWriter::new(file),
                            flate2::Compression::default(),
                        );
                        let mut r = Rng(f.wrapping_add(1).wrapping_mul(0x9e37_79b9));
                        let mut bytes = 0;
                        for id in first..last {
                            let second = (id - first) * 86_400 / per_file;
                            let mut line = event(&mut r, id, second, rich);
                            line.push('\n');
                            bytes += line.len() as u64;
                            z.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
                        }
                        z.finish()
                            .and_then(|mut w| w.flush())
                            .map_err(|e| e.to_string())?;
                        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
                        out.push((path, bytes));
                    }
                    Ok(out)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a generating thread panicked"))
            .collect::<Result<Vec<_>, String>>()
            .map(|v| v.into_iter().flatten().collect())
    })?;
    Ok(json!({
        "files": written.len(),
        "events": events,
        "json_bytes": written.iter().map(|w| w.1).sum::<u64>(),
        "seconds": start.elapsed().as_secs_f64(),
    }))
}

fn usage() -> Failure {
    "usage: bag_events 'DIR/*.json.gz'\n       bag_events generate DIR [EVENTS=800000] [FILES=8 [rich]]\n       bag_events decompress 'DIR/*.json.gz'"
        .into()
}

fn run() -> Result<serde_json::Value, Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate", dir, rest @ ..] if rest.len() <= 3 => {
            let events = rest.first().map_or(Ok(800_000), |s| s.parse())?;
            let files = rest.get(1).map_or(Ok(8), |s| s.parse())?;
            let rich = match rest.get(2) {
                None => false,
                Some(&"rich") => true,
                Some(_) => return Err(usage()),
            };
            generate(Path::new(dir), events, files, rich)
        }
        ["decompress", pattern] => decompress(pattern),
        [pattern] if !pattern.starts_with('-') => questions(pattern),
        _ => Err(usage()),
    }
}

fn main() {
    match run() {
        Ok(answer) => println!("{answer}"),
        Err(e) => {
            eprintln!("bag_events: {e}");
            std::process::exit(1);
        }
    }
}
