use std::time::Duration;

use super::{duration_text, percent, rate_text};

#[test]
fn percent_rounds_down_and_caps_at_100() {
    assert_eq!(percent(0, 3), 0);
    assert_eq!(percent(1, 3), 33);
    assert_eq!(percent(2, 3), 66);
    assert_eq!(percent(999, 1000), 99);
    assert_eq!(percent(3, 3), 100);
    assert_eq!(percent(4, 3), 100);
    assert_eq!(percent(0, 0), 100);
}

#[test]
fn durations_read_as_seconds_minutes_and_hours() {
    assert_eq!(duration_text(Duration::from_millis(1234)), "1.2s");
    assert_eq!(duration_text(Duration::from_secs(123)), "2m03s");
    assert_eq!(duration_text(Duration::from_secs(3720)), "1h02m");
}

#[test]
fn rates_use_k_and_m() {
    assert_eq!(rate_text(2.5), "2.50 tasks/s");
    assert_eq!(rate_text(123.4), "123 tasks/s");
    assert_eq!(rate_text(12_345.0), "12.3k tasks/s");
    assert_eq!(rate_text(2_500_000.0), "2.5M tasks/s");
}

#[test]
fn the_terminal_bar_ends_at_the_total_and_stops_its_ticker() {
    use std::sync::Mutex;

    use rask_graph::graph;
    use rask_scheduler::{get_with, Threads};

    use super::{Output, ProgressBar};

    fn inc(x: i64) -> i64 {
        x + 1
    }
    let g = graph! { "x" => 1, "y" => (inc, "x"), "z" => (inc, "y") };
    // (under `cargo test` stderr is no terminal: indicatif draws nothing)
    let bar = ProgressBar::with_output(Output::Terminal(Mutex::new(None)));
    get_with(&Threads::new(2), &g, "z", &[&bar]).unwrap();
    assert_eq!((bar.done(), bar.total()), (3, 3));
    match &bar.output {
        Output::Terminal(slot) => assert!(slot.lock().unwrap().is_none()),
        Output::Plain(_) => unreachable!(),
    }
}
