//! A cgroup (v2) of its own for a run, where one can be made (Linux, a
//! writable cgroup v2 hierarchy: usually not inside a container): every
//! process the run starts is born in it, whatever it does later (`setsid`,
//! double forks, re-parenting to `init` when no subreaper is there to take
//! it), and `cgroup.kill` ends all of them at once, also those that fork
//! while they are killed. It complements the subreaper sweep of
//! [`crate::reaper`], which works everywhere on Linux but follows only the
//! process tree.
//!
//! [`RunCgroup::enter`] makes `rask-run-PID` below this process's cgroup
//! and moves this process into it (so it must come before the run starts
//! anything); [`RunCgroup::end`] moves this process back, kills what is
//! left in the run's cgroup and removes it.
//!
//! ```no_run
//! use std::time::Duration;
//! use rask::reaper::RunCgroup;
//! match RunCgroup::enter() {
//!     Ok(cgroup) => {
//!         // ... run graphs: every program they start is in `cgroup` ...
//!         let killed = cgroup.end(Duration::from_secs(1)).unwrap();
//!         println!("ended {killed} process(es) left in {}", cgroup.path().display());
//!     }
//!     Err(e) => eprintln!("no cgroup of its own for the run: {e}"),
//! }
//! ```

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a run's cgroup could not be made or ended.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// No cgroup v2 hierarchy is mounted (or `/proc` cannot tell).
    #[error("no cgroup v2 hierarchy is mounted")]
    NotMounted,
    /// This process's cgroup v2 is not known (no `0::` line in
    /// `/proc/self/cgroup`).
    #[error("this process is in no cgroup v2")]
    NoOwnCgroup,
    /// A cgroup file or directory could not be read, written or removed
    /// (a read-only hierarchy, no permission).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The run's cgroup still had processes when the time to end them was
    /// up.
    #[error("{}: processes still there after {waited:?}", path.display())]
    StillPopulated {
        /// The run's cgroup.
        path: PathBuf,
        /// How long it was waited for.
        waited: Duration,
    },
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The cgroup a run's processes are born in.
#[derive(Debug)]
pub struct RunCgroup {
    /// The run's cgroup.
    dir: PathBuf,
    /// The cgroup this process was in, to go back to.
    home: PathBuf,
}

impl RunCgroup {
    /// Makes a cgroup `rask-run-PID` below this process's cgroup v2 and
    /// moves this process (all its threads) into it. Fails, changing
    /// nothing, where there is no cgroup v2 hierarchy or it is not
    /// writable. On the way, removes the empty cgroups that runs killed
    /// before they could (`SIGKILL`) left beside it.
    pub fn enter() -> Result<RunCgroup, CgroupError> {
        let home = own_cgroup()?;
        remove_stale(&home);
        let dir = home.join(format!("rask-run-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(at(&dir))?;
        let procs = dir.join("cgroup.procs");
        if let Err(e) = std::fs::write(&procs, std::process::id().to_string()) {
            let _ = std::fs::remove_dir(&dir);
            return Err(CgroupError::Io {
                path: procs,
                source: e,
            });
        }
        Ok(RunCgroup { dir, home })
    }

    /// The run's cgroup directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves this process back to its cgroup, kills every process left in
    /// the run's cgroup and below it (`cgroup.kill`, or `SIGKILL` to each
    /// where the kernel has no `cgroup.kill`), waits up to `timeout` for
    /// them to go, and removes the cgroups. Returns how many processes
    /// were killed. The killed processes that were this process's children
    /// are left to reap ([`crate::reaper::reap_ended`]).
    pub fn end(&self, timeout: Duration) -> Result<usize, CgroupError> {
        let home = self.home.join("cgroup.procs");
        std::fs::write(&home, std::process::id().to_string()).map_err(at(&home))?;
        let dirs = tree(&self.dir);
        let killed: usize = dirs.iter().map(|d| procs(d).len()).sum();
        let kill = self.dir.join("cgroup.kill");
        if kill.exists() {
            std::fs::write(&kill, "1").map_err(at(&kill))?;
        }
        let deadline = Instant::now() + timeout;
        while dirs.iter().any(|d| !procs(d).is_empty()) {
            if !kill.exists() {
                for d in &dirs {
                    for pid in procs(d) {
                        // SAFETY: sends a signal to a process of the run's
                        // cgroup; no memory is shared.
                        unsafe {
                            libc::kill(pid, libc::SIGKILL);
                        }
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(CgroupError::StillPopulated {
                    path: self.dir.clone(),
                    waited: timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        // the deepest first: a cgroup with children cannot be removed
        for d in dirs.iter().rev() {
            std::fs::remove_dir(d).map_err(at(d))?;
        }
        Ok(killed)
    }
}

/// Removes the cgroups `rask-run-PID` in `home` whose process is gone and
/// which hold no process (those of runs that were killed; one that still
/// holds programs is left for `cgroup.kill` by hand).
fn remove_stale(home: &Path) {
    let Ok(entries) = std::fs::read_dir(home) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("rask-run-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let dirs = tree(&entry.path());
        if dirs.iter().all(|d| procs(d).is_empty()) {
            for d in dirs.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// The directory of this process's cgroup v2.
fn own_cgroup() -> Result<PathBuf, CgroupError> {
    let (mount, root) = v2_mount()?;
    let text =
        std::fs::read_to_string("/proc/self/cgroup").map_err(at(Path::new("/proc/self/cgroup")))?;
    let own = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or(CgroupError::NoOwnCgroup)?;
    // the path is relative to the namespace's root, which is the mount's
    let own = own.strip_prefix(root.as_str()).unwrap_or(own);
    Ok(mount.join(own.trim_start_matches('/')))
}

/// Where the cgroup v2 hierarchy is mounted, and the root of the mount.
fn v2_mount() -> Result<(PathBuf, String), CgroupError> {
    let text =
        std::fs::read_to_string("/proc/self/mountinfo").map_err(|_| CgroupError::NotMounted)?;
    text.lines()
        .find_map(parse_mount)
        .ok_or(CgroupError::NotMounted)
}

/// The mount point and root of a `/proc/self/mountinfo` line of a cgroup2
/// file system: `ID PARENT MAJ:MIN ROOT POINT OPTIONS [FIELDS...] - TYPE ...`
/// (spaces in paths are written `\040`).
fn parse_mount(line: &str) -> Option<(PathBuf, String)> {
    let (fields, rest) = line.split_once(" - ")?;
    if rest.split_whitespace().next()? != "cgroup2" {
        return None;
    }
    let mut fields = fields.split_whitespace().skip(3);
    let root = fields.next()?.replace("\\040", " ");
    let point = fields.next()?.replace("\\040", " ");
    Some((PathBuf::from(point), root))
}

/// The process ids in a cgroup (not below it).
fn procs(dir: &Path) -> Vec<libc::pid_t> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// A cgroup and every cgroup below it, parents first (with a stack, not
/// recursion).
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_path_buf()];
    let mut next = 0;
    while next < found.len() {
        let here = found[next].clone();
        next += 1;
        if let Ok(entries) = std::fs::read_dir(&here) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    found.push(entry.path());
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cgroup2_mount_line_gives_its_point_and_root() {
        let line = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";
        assert_eq!(
            parse_mount(line),
            Some((PathBuf::from("/sys/fs/cgroup/unified"), "/".to_string()))
        );
        let spaced = "7 1 0:9 /a\\040b /c\\040d rw shared:4 - cgroup2 none rw";
        assert_eq!(
            parse_mount(spaced),
            Some((PathBuf::from("/c d"), "/a b".to_string()))
        );
        let v1 = "35 31 0:31 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu";
        assert_eq!(parse_mount(v1), None);
        assert_eq!(parse_mount("garbage"), None);
    }
}
