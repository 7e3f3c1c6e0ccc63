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
fn this_process_can_be_read() {
    let (cpu, rss, threads) = super::read_proc().expect("/proc/self is readable");
    assert!(cpu >= 0.0);
    assert!(rss > 0);
    assert!(threads >= 1);
}
