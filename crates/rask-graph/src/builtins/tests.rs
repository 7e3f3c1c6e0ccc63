use super::*;
use crate::Registry;

fn call(name: &str, args: &[Value]) -> Result<Value, CallError> {
    let reg = Registry::with_builtins();
    let f = reg.get(name).ok_or_else(|| CallError::msg("missing"))?;
    f.call(args)
}

fn l(items: &[Value]) -> Value {
    Value::list(items.iter().cloned())
}

#[test]
fn arithmetic_follows_python() {
    use Value::{Float as F, Int as I};
    assert_eq!(call("inc", &[I(1)]).ok(), Some(I(2)));
    assert_eq!(call("dec", &[F(1.5)]).ok(), Some(F(0.5)));
    assert_eq!(call("neg", &[I(3)]).ok(), Some(I(-3)));
    assert_eq!(call("add", &[I(1), F(0.5)]).ok(), Some(F(1.5)));
    assert_eq!(call("sub", &[I(1), I(3)]).ok(), Some(I(-2)));
    assert_eq!(call("mul", &[I(4), I(3)]).ok(), Some(I(12)));
    assert_eq!(call("div", &[I(4), I(2)]).ok(), Some(F(2.0)));
    assert_eq!(
        call("div", &[I(1), I(0)])
            .map_err(|e| e.to_string())
            .err()
            .as_deref(),
        Some("division by zero")
    );
    assert!(call("add", &[I(i64::MAX), I(1)]).is_err());
    assert_eq!(
        call("add", &["a".into(), "b".into()]).ok(),
        Some("ab".into())
    );
    let e = call("add", &[I(1), "b".into()])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(e, "argument 2 must be a number, got str \"b\"");
}

#[test]
fn list_functions() {
    use Value::{Float as F, Int as I};
    assert_eq!(call("sum", &[l(&[I(1), I(2), F(0.5)])]).ok(), Some(F(3.5)));
    assert_eq!(call("sum", &[l(&[])]).ok(), Some(I(0)));
    assert_eq!(call("min", &[l(&[I(3), F(1.5), I(2)])]).ok(), Some(F(1.5)));
    assert_eq!(
        call("max", &[l(&["a".into(), "c".into(), "b".into()])]).ok(),
        Some("c".into())
    );
    assert!(call("max", &[l(&[])]).is_err());
    assert!(call("max", &[l(&[I(1), "a".into()])]).is_err());
    assert_eq!(call("len", &[l(&[I(3), I(1)])]).ok(), Some(I(2)));
    assert_eq!(call("len", &["héllo".into()]).ok(), Some(I(5)));
    assert_eq!(
        call("concat", &[l(&[I(1)]), l(&[I(2), I(3)])]).ok(),
        Some(l(&[I(1), I(2), I(3)]))
    );
    assert_eq!(
        call("concat", &["a".into(), "b".into(), "c".into()]).ok(),
        Some("abc".into())
    );
    assert!(call("concat", &["a".into(), l(&[])]).is_err());
    assert!(call("concat", &["a".into()]).is_err());
}

#[test]
fn shell_runs_programs_without_a_shell() {
    assert_eq!(
        call("shell", &["echo".into(), "a b".into(), Value::Int(3)]).ok(),
        Some("a b 3\n".into())
    );
    let e = call(
        "shell",
        &["sh".into(), "-c".into(), "echo oops >&2; exit 3".into()],
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("oops") && e.contains('3'), "{e}");
    let e = call("shell", &["/no/such/program".into()])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("cannot run"), "{e}");
}

#[test]
fn fail_and_sleep() {
    assert_eq!(
        call("fail", &["boom".into()])
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("boom")
    );
    assert_eq!(
        call("sleep_ms", &[Value::Int(7), Value::Int(1)]).ok(),
        Some(Value::Int(7))
    );
    assert_eq!(
        call("spin_ms", &[Value::Int(7), Value::Int(1)]).ok(),
        Some(Value::Int(7))
    );
    assert!(call("sleep_ms", &[Value::Int(7), Value::Int(-1)]).is_err());
}

#[test]
fn sleeps_and_spins_are_at_most_an_hour() {
    // regression: sleep_ms accepted 11 days
    for name in ["sleep_ms", "spin_ms"] {
        for ms in [3_600_001.0, 1e9, f64::NAN, -1.0] {
            let e = call(name, &[Value::Int(1), Value::Float(ms)])
                .map_err(|e| e.to_string())
                .err()
                .unwrap_or_default();
            assert!(
                e.contains("is not a duration in milliseconds from 0 to 3600000 (one hour)"),
                "{name} {ms}: {e}"
            );
        }
        assert_eq!(
            call(name, &[Value::Int(1), Value::Int(0)]).ok(),
            Some(Value::Int(1))
        );
    }
}
