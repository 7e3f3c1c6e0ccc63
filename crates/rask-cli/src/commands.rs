//! The subcommands of `rask`.

use std::path::Path;
use std::time::Instant;

use rask::diagnostics::{ProfileFormat, Profiler, ProgressBar, ResourceMonitor};
use rask::{
    deps, file, optimize, Callback, ComputeError, Executor, Graph, Key, Plan, Registry, Task,
    TaskId, Value,
};
use serde_json::json;

use crate::{Failure, RunArgs, SchedulerName};

/// Reads a graph file to inspect it, not to run it: every built-in is
/// allowed (`rask run` allows only what `--allow` names).
pub(crate) fn load(path: &Path) -> Result<Graph, Failure> {
    let mut registry = Registry::with_builtins();
    registry.allow_all();
    load_with(path, &registry)
}

fn load_with(path: &Path, registry: &Registry) -> Result<Graph, Failure> {
    file::read(path, registry).map_err(|e| Failure::Input(e.to_string()))
}

pub(crate) fn in_file(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::Input(format!("{}: {e}", path.display()))
}

/// The tasks nothing depends on, in file order, and the dependencies of
/// every task (found on the way: planning reuses them).
fn sinks(graph: &Graph, path: &Path) -> Result<(Vec<TaskId>, deps::Adjacency), Failure> {
    let dependencies = deps::dependencies(graph).map_err(|e| in_file(path, e))?;
    Ok((sinks_of(graph, &dependencies), dependencies))
}

/// The tasks nothing depends on, in file order, given the dependencies
/// of every task.
fn sinks_of(graph: &Graph, dependencies: &deps::Adjacency) -> Vec<TaskId> {
    let mut needed = vec![false; graph.len()];
    for i in 0..graph.len() as TaskId {
        for &d in dependencies.of(i) {
            needed[d as usize] = true;
        }
    }
    (0..graph.len() as TaskId)
        .filter(|&i| !needed[i as usize])
        .collect()
}

pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let t0 = Instant::now();
    // a closed standard output would lose the result: fail before running
    crate::stdout_open()?;
    let path = args.file.as_path();
    let cache = args.cache.as_ref().map(rask::cache::Cache::open);
    let cache = cache
        .transpose()
        .map_err(|e| Failure::Input(e.to_string()))?;
    if let Some(why) = cache.as_ref().and_then(|c| c.read_only()) {
        // a full or read-only cache still serves what it holds
        eprintln!("rask: warning: {why}: results are loaded from it, none is stored");
    }
    let mut registry = Registry::with_builtins();
    for what in &args.allow {
        registry.allow(what.name());
    }
    // the references are resolved while the file is read
    let (mut graph, file_dependencies) =
        file::read_with_dependencies(path, &registry).map_err(|e| Failure::Input(e.to_string()))?;
    let (keys, mut dependencies) = if args.get.is_empty() {
        let ids = sinks_of(&graph, &file_dependencies);
        let d = file_dependencies;
        let keys: Vec<Key> = ids.iter().map(|&i| graph.key(i).clone()).collect();
        (keys, Some((ids, d)))
    } else {
        (args.get.iter().map(|k| Key::parse(k)).collect(), None)
    };
    // (the sinks are keys of the graph: only asked-for keys are checked)
    if let Some(missing) = keys
        .iter()
        .find(|k| dependencies.is_none() && !graph.contains(k))
    {
        return Err(in_file(path, format!("no key {missing:?} to get")));
    }
    if args.optimize {
        dependencies = None; // of the graph before
        graph = optimize::inline(&graph, &keys).map_err(|e| in_file(path, e))?;
        graph = optimize::fuse(&graph, &keys)
            .map_err(|e| in_file(path, e))?
            .graph;
    }
    let t_plan = Instant::now();
    let mut plan = match dependencies.take() {
        // the keys are the sinks, found from every task's dependencies:
        // no reference is looked up twice
        Some((ids, d)) => Plan::with_dependencies(&graph, d, &ids),
        None => Plan::for_keys(&graph, &keys),
    }
    .map_err(|e| in_file(path, e))?;
    if args.get.is_empty() && plan.len() < graph.len() {
        // in an acyclic graph every task leads to a key nothing depends on:
        // the tasks left out are on or behind a cycle
        deps::toposort(&graph).map_err(|e| in_file(path, e))?;
    }
    let mut cached = None;
    if let Some(cache) = &cache {
        // cached results load, the others are stored as they finish
        let prepared = rask::cache::prepare_plan(&graph, &plan, cache);
        cached = Some((prepared.executed, prepared.cached));
        graph = prepared.graph;
        let ids = keys
            .iter()
            .map(|k| {
                graph
                    .id(k)
                    .ok_or_else(|| in_file(path, format!("no key {k:?} to get")))
            })
            .collect::<Result<Vec<TaskId>, _>>()?;
        plan = Plan::with_dependencies(&graph, prepared.dependencies, &ids)
            .map_err(|e| in_file(path, e))?;
    }
    let load_s = t0.elapsed().as_secs_f64();
    let plan_s = t_plan.elapsed().as_secs_f64();
    if args.retries > 0 && args.scheduler != SchedulerName::Processes {
        return Err(Failure::Input(
            "--retries needs --scheduler processes (only a worker process dies and is replaced)"
                .into(),
        ));
    }
    let executor: Box<dyn Executor> = match args.scheduler {
        SchedulerName::Sync => Box::new(rask::Sync),
        SchedulerName::Threads => Box::new(match args.workers {
            Some(n) => rask::Threads::new(n as usize),
            None => rask::Threads::default(),
        }),
        #[cfg(feature = "mpi")]
        SchedulerName::Mpi => {
            let mut mpi = rask::Mpi::builder();
            if let Some(n) = args.workers {
                mpi = mpi.threads(n as usize);
            }
            Box::new(
                mpi.init()
                    .map_err(|e| Failure::Input(format!("--scheduler mpi: {e}")))?,
            )
        }
        SchedulerName::Processes => Box::new(
            match args.workers {
                Some(n) => rask::Processes::new(n as usize),
                None => rask::Processes::default(),
            }
            .retries(args.retries),
        ),
    };
    if let Some(p) = &args.profile {
        // a bad name or an unwritable place fails before the run, not after
        let bad = |e: rask::diagnostics::DiagnosticsError| Failure::Input(e.to_string());
        ProfileFormat::from_path(p).map_err(bad)?;
        std::fs::File::create(p).map_err(|e| {
            bad(rask::diagnostics::DiagnosticsError::Write {
                path: p.clone(),
                source: e,
            })
        })?;
    }
    let progress = args.progress.then(ProgressBar::new);
    let profiler = args
        .profile
        .as_ref()
        .map(|_| (Profiler::new(), ResourceMonitor::default()));
    let timeout = args
        .timeout
        .map(|limit| crate::timeout::Timeout::new(limit, path.display().to_string()));
    let mut callbacks: Vec<&dyn Callback> = Vec::new();
    if let Some(t) = &timeout {
        callbacks.push(t);
    }
    if let Some(p) = &progress {
        callbacks.push(p);
    }
    if let Some((p, m)) = &profiler {
        callbacks.extend([p as &dyn Callback, m]);
    }
    let t1 = Instant::now();
    let result = rask::compute(executor.as_ref(), &graph, &plan, &callbacks);
    let run_s = t1.elapsed().as_secs_f64();
    // the programs the tasks started end with the run, before its result
    // is printed (a process pool is gone by now: nothing else waits)
    crate::interrupt::wait_if_interrupted();
    crate::interrupt::end_programs();
    #[cfg(feature = "mpi")]
    if args.scheduler == SchedulerName::Mpi && rask::Mpi::new().is_ok_and(|m| !m.is_root()) {
        // every rank ran its share; rank 0 prints the result and the stats
        return result
            .map(drop)
            .map_err(|e| Failure::Task(format!("{}: {e}", path.display())));
    }
    if let (Some(path), Some((p, m))) = (&args.profile, &profiler) {
        // the profile of a failed run shows what ran up to the failure
        if let Err(e) = p.profile().write(path, Some(&m.resources())) {
            if result.is_ok() {
                return Err(Failure::Input(e.to_string()));
            }
            eprintln!("rask: error: {e}");
        }
    }
    if let Some(cache) = &cache {
        // the records of the run's last moments reach the disk now
        if let Err(e) = cache.sync() {
            eprintln!("rask: warning: {e}");
        }
        if let Some(problem) = cache.stats().first_problem {
            eprintln!("rask: warning: {problem}");
        }
    }
    if args.stats {
        let mut stats = json!({"tasks": plan.len(), "load_s": load_s, "plan_s": plan_s, "run_s": run_s, "workers": executor.workers()});
        if let Some((executed, cached)) = cached {
            stats["executed"] = executed.into();
            stats["cached"] = cached.into();
        }
        eprintln!("{stats}");
    }
    let values = result.map_err(|e: ComputeError| match e {
        ComputeError::Graph(g) => in_file(path, g),
        other => Failure::Task(format!("{}: {other}", path.display())),
    })?;
    // one JSON object, written without building it: values of any depth
    // print, and a float JSON cannot hold fails naming its key
    let mut text = b"{".to_vec();
    let mut seen = std::collections::HashSet::new();
    for (key, value) in keys.iter().zip(values) {
        let name = key.to_text();
        if !seen.insert(name.clone()) {
            continue;
        }
        if seen.len() > 1 {
            text.push(b',');
        }
        text.extend_from_slice(serde_json::Value::String(name).to_string().as_bytes());
        text.push(b':');
        value
            .write_json(&mut text)
            .map_err(|e| Failure::Task(format!("{}: task {key:?}: {e}", path.display())))?;
    }
    text.extend_from_slice(b"}\n");
    crate::print(&text)
}

pub(crate) fn check(path: &Path) -> Result<(), Failure> {
    let graph = load(path)?;
    for (key, name) in tuple_style_lists(&graph, &Registry::with_builtins()) {
        eprintln!(
            "rask: warning: {}: task {key:?}: the list [\"{name}\", ...] is a list, not a call: \
             a call is written {{\"call\": \"{name}\", \"args\": [...]}} (Dask's tuple form \
             is not read as a call)",
            path.display()
        );
    }
    let all: Vec<TaskId> = (0..graph.len() as TaskId).collect();
    Plan::new(&graph, &all).map_err(|e| in_file(path, e))?;
    let (outputs, dependencies) = sinks(&graph, path)?;
    let plan =
        Plan::with_dependencies(&graph, dependencies, &outputs).map_err(|e| in_file(path, e))?;
    let mut text = format!(
        "{}: ok: {} tasks, {} edges, {} outputs, peak {} live values in priority order\n",
        path.display(),
        plan.len(),
        plan.deps().edges(),
        outputs.len(),
        plan.peak_live()
    );
    for (needs, keys) in needed(&graph) {
        let shown: Vec<String> = keys.iter().take(5).map(|k| format!("{k:?}")).collect();
        let more = keys.len().saturating_sub(shown.len());
        text.push_str(&format!(
            "{}: needs --allow {needs} to run: {} task(s) reach outside rask ({}{})\n",
            path.display(),
            keys.len(),
            shown.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        ));
    }
    crate::print(text.as_bytes())
}

/// The tasks with a list that starts with the name of a registered
/// function (and not of a key): Dask's tuple form of a call, `["inc", "x"]`,
/// which a graph file reads as a list. Each task once, with the name.
fn tuple_style_lists(graph: &Graph, registry: &Registry) -> Vec<(Key, String)> {
    let mut found = Vec::new();
    for (key, task) in graph.iter() {
        let mut stack = vec![task];
        while let Some(t) = stack.pop() {
            match t {
                Task::List(items) => {
                    if let Some(Task::Value(Value::Str(name))) = items.first() {
                        if registry.get(name).is_some() && graph.id_of_str(name).is_none() {
                            found.push((key.clone(), name.to_string()));
                            break;
                        }
                    }
                    stack.extend(items.iter());
                }
                Task::Call(_, args) => stack.extend(args.iter()),
                _ => {}
            }
        }
    }
    found
}

/// What the calls of a graph need allowed to run (see
/// [`rask::Function::needs`]), each with the keys of its tasks, in file
/// order.
fn needed(graph: &Graph) -> Vec<(&'static str, Vec<Key>)> {
    let mut found: Vec<(&'static str, Vec<Key>)> = Vec::new();
    for (key, task) in graph.iter() {
        let mut stack = vec![task];
        let mut here: Vec<&'static str> = Vec::new();
        while let Some(t) = stack.pop() {
            match t {
                Task::Call(f, args) => {
                    here.extend(f.needed());
                    stack.extend(args.iter());
                }
                Task::List(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
        here.sort_unstable();
        here.dedup();
        for needs in here {
            match found.iter_mut().find(|(n, _)| *n == needs) {
                Some((_, keys)) => keys.push(key.clone()),
                None => found.push((needs, vec![key.clone()])),
            }
        }
    }
    found
}
