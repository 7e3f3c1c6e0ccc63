use super::{parse_rss, parse_stat};

#[test]
fn stat_fields_are_counted_after_the_last_parenthesis() {
    // a command name with spaces and parentheses, as /proc allows
    let stat = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                250 50 0 0 20 0 7 0 12345 1000000 300 18446744073709551615";
    assert_eq!(parse_stat(stat), Some((300, 7)));
    assert_eq!(parse_stat("garbage"), None);
}

#[test]
fn rss_is_read_in_bytes() {
    let status = "Name:\tx\nVmPeak:\t  2000 kB\nVmRSS:\t    1500 kB\nThreads:\t3\n";
    assert_eq!(parse_rss(status), Some(1500 * 1024));
    assert_eq!(parse_rss("Name:\tx\n"), None);
}

#[cfg(target_os = "linux")]
#[test]
fn this_process_and_its_children_are_read() {
    let mut child = std::process::Command::new("sleep")
        .arg("5")
        .spawn()
        .expect("sleep runs");
    let tree = super::read_tree();
    let _ = child.kill();
    let _ = child.wait();
    let me = &tree.processes[0];
    assert_eq!(me.pid, std::process::id());
    assert!(me.rss_bytes > 0 && me.threads >= 1);
    assert!(
        tree.processes.iter().any(|r| r.pid == child.id()),
        "{tree:?}"
    );
    // this thread has run
    assert!(tree.cpu_ns.values().any(|&ns| ns > 0), "{tree:?}");
}
