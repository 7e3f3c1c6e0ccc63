use std::collections::HashMap;
use std::time::Duration;

use rask_graph::{graph, Graph, Task};

use super::{colormap, short_duration, to_dot, Coloring, DotOptions, HEAT, VIRIDIS};

#[test]
fn captions_read_short_durations() {
    assert_eq!(short_duration(Duration::from_micros(250)), "250 us");
    assert_eq!(short_duration(Duration::from_micros(12_500)), "12.5 ms");
    assert_eq!(short_duration(Duration::from_millis(1500)), "1.5s");
}

fn inc(x: i64) -> i64 {
    x + 1
}

#[test]
fn colormap_ends_are_the_stops() {
    assert_eq!(colormap(&VIRIDIS, 0.0), ("#440154".to_string(), true));
    assert_eq!(colormap(&VIRIDIS, 1.0), ("#fde725".to_string(), false));
    assert_eq!(colormap(&HEAT, 2.0).0, "#800026");
    assert_eq!(colormap(&HEAT, f64::NAN).0, "#ffffcc");
}

#[test]
fn keys_with_quotes_backslashes_and_markup_are_escaped() {
    let mut g = Graph::new();
    g.insert("a \"quoted\" \\ key", 1);
    g.insert(
        "<b>&",
        Task::call(
            &rask_graph::Function::new("inc", inc),
            ["a \"quoted\" \\ key"],
        ),
    );
    let dot = to_dot(&g, &DotOptions::default()).unwrap();
    assert!(dot.contains(r#"label="a \"quoted\" \\ key""#), "{dot}");
    // in the HTML-like label markup is escaped; in the quoted tooltip not
    assert!(dot.contains(">&lt;b&gt;&amp;</font>>"), "{dot}");
    assert!(dot.contains(r#"tooltip="<b>& = inc(...)""#), "{dot}");
}

#[test]
fn duration_colouring_leaves_unmeasured_keys_white_and_dashed() {
    let g = graph! { "x" => 1, "y" => (inc, "x") };
    let d: HashMap<String, Duration> = [("y".to_string(), Duration::from_millis(3))].into();
    let dot = to_dot(
        &g,
        &DotOptions {
            coloring: Coloring::Duration(d),
        },
    )
    .unwrap();
    let y = dot
        .lines()
        .find(|l| l.trim_start().starts_with("n1 "))
        .unwrap();
    assert!(y.contains("fillcolor=\"#800026\""), "{y}");
    let x = dot
        .lines()
        .find(|l| l.trim_start().starts_with("n0 "))
        .unwrap();
    assert!(x.contains("dashed"), "{x}");
}

#[test]
fn order_colouring_of_a_cycle_is_an_error_naming_it() {
    let g = graph! { "a" => (inc, "b"), "b" => (inc, "a") };
    assert!(to_dot(&g, &DotOptions::default()).is_ok());
    let e = to_dot(
        &g,
        &DotOptions {
            coloring: Coloring::Order,
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
}
