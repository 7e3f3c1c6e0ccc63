//! The built-in functions that graph files can call by name.
//!
//! | name | does |
//! | --- | --- |
//! | `inc(x)`, `dec(x)`, `neg(x)` | `x + 1`, `x - 1`, `-x` |
//! | `add(a, b)`, `sub(a, b)`, `mul(a, b)` | arithmetic; integers stay integers, a float makes a float; `add` also joins two strings or two lists |
//! | `div(a, b)` | true division, always a float (Python's `/`); by zero a task error |
//! | `sum(list)`, `min(list)`, `max(list)` | of one list (`min`/`max` of an empty list is an error) |
//! | `len(x)` | items of a list or object, characters of a string |
//! | `concat(a, b, ...)` | two or more lists, or two or more strings, joined in order |
//! | `identity(x)` | `x` |
//! | `sleep_ms(value, ms)` | `value`, after sleeping `ms` milliseconds (at most an hour, [`MAX_MILLIS`]) |
//! | `spin_ms(value, ms)` | `value`, after keeping a core busy for `ms` milliseconds (at most an hour) |
//! | `fail(message)` | a task error with that message |
//! | `shell(command, args...)` | runs `command` (no shell) with the arguments as given, returns its standard output; a non-zero exit is a task error carrying its standard error |
//!
//! Integer arithmetic that overflows is a task error, not a wrapped result.
//!
//! `shell` reaches outside the process: a graph file may call it only when
//! its registry allows `"shell"` ([`Registry::allow`](crate::Registry::allow),
//! `rask run --allow shell`). Its program runs in a process group of its
//! own, which the executors end with the run ([`crate::programs`]).
//!
//! ```
//! use rask::{builtins, Value};
//! let reg = rask::Registry::with_builtins();
//! let div = reg.get("div").unwrap();
//! assert_eq!(div.call(&[Value::Int(1), Value::Int(2)]).unwrap(), Value::Float(0.5));
//! assert!(div.call(&[Value::Int(1), Value::Int(0)]).is_err());
//! ```

use std::cmp::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::function::{Arity, CallError, Function};
use crate::value::Value;

/// Every built-in function.
pub fn all() -> Vec<Function> {
    fn f(
        name: &str,
        arity: Arity,
        imp: impl Fn(&[Value]) -> Result<Value, CallError> + Send + Sync + 'static,
    ) -> Function {
        Function::dynamic(name, arity, imp)
    }
    vec![
        f("inc", Arity::exactly(1), |a| {
            arith(&a[0], &Value::Int(1), Op::Add, 1)
        })
        .cheap(),
        f("dec", Arity::exactly(1), |a| {
            arith(&a[0], &Value::Int(1), Op::Sub, 1)
        })
        .cheap(),
        f("neg", Arity::exactly(1), |a| {
            arith(&Value::Int(0), &a[0], Op::Sub, 1)
        })
        .cheap(),
        f("add", Arity::exactly(2), |a| add(&a[0], &a[1])).cheap(),
        f("sub", Arity::exactly(2), |a| {
            arith(&a[0], &a[1], Op::Sub, 1)
        })
        .cheap(),
        f("mul", Arity::exactly(2), |a| {
            arith(&a[0], &a[1], Op::Mul, 1)
        })
        .cheap(),
        f("div", Arity::exactly(2), |a| div(&a[0], &a[1])).cheap(),
        f("sum", Arity::exactly(1), |a| sum(&a[0])),
        f("min", Arity::exactly(1), |a| {
            extreme(&a[0], Ordering::Less, "min")
        }),
        f("max", Arity::exactly(1), |a| {
            extreme(&a[0], Ordering::Greater, "max")
        }),
        f("len", Arity::exactly(1), |a| len(&a[0])).cheap(),
        f("concat", Arity::at_least(2), concat),
        f("identity", Arity::exactly(1), |a| Ok(a[0].clone())).cheap(),
        f("sleep_ms", Arity::exactly(2), |a| {
            std::thread::sleep(millis(&a[1], 2)?);
            Ok(a[0].clone())
        }),
        f("spin_ms", Arity::exactly(2), |a| {
            let d = millis(&a[1], 2)?;
            let start = Instant::now();
            let mut x = 0_u64;
            while start.elapsed() < d {
                for _ in 0..1000 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            Ok(a[0].clone())
        }),
        f("fail", Arity::exactly(1), |a| {
            Err(CallError::msg(match &a[0] {
                Value::Str(s) => s.to_string(),
                other => format!("{other:?}"),
            }))
        }),
        f("shell", Arity::at_least(1), shell).needs("shell"),
    ]
}

#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

fn num(v: &Value, position: usize) -> Result<Num, CallError> {
    match v {
        Value::Int(i) => Ok(Num::I(*i)),
        Value::Float(f) => Ok(Num::F(*f)),
        Value::Bool(b) => Ok(Num::I(i64::from(*b))),
        other => Err(CallError::ArgType {
            position,
            expected: "a number",
            got: format!("{} {other:?}", other.type_name()),
        }),
    }
}

fn float(n: Num) -> f64 {
    match n {
        Num::I(i) => i as f64,
        Num::F(f) => f,
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
}

fn arith(a: &Value, b: &Value, op: Op, first: usize) -> Result<Value, CallError> {
    let (x, y) = (num(a, first)?, num(b, first + 1)?);
    match (x, y) {
        (Num::I(x), Num::I(y)) => {
            let r = match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                Op::Mul => x.checked_mul(y),
            };
            r.map(Value::Int)
                .ok_or_else(|| CallError::msg("integer overflow"))
        }
        _ => {
            let (x, y) = (float(x), float(y));
            Ok(Value::Float(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            }))
        }
    }
}

fn add(a: &Value, b: &Value) -> Result<Value, CallError> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(Value::Str(Arc::from(format!("{x}{y}")))),
        (Value::List(x), Value::List(y)) => {
            Ok(Value::List(x.iter().chain(y.iter()).cloned().collect()))
        }
        _ => arith(a, b, Op::Add, 1),
    }
}

fn div(a: &Value, b: &Value) -> Result<Value, CallError> {
    let (x, y) = (float(num(a, 1)?), float(num(b, 2)?));
    if y == 0.0 {
        return Err(CallError::msg("division by zero"));
    }
    Ok(Value::Float(x / y))
}

fn list(v: &Value, position: usize) -> Result<&[Value], CallError> {
    v.as_list().ok_or_else(|| CallError::ArgType {
        position,
        expected: "a list",
        got: v.type_name().to_string(),
    })
}

fn sum(v: &Value) -> Result<Value, CallError> {
    let items = list(v, 1)?;
    // integers add up in a tight loop; the first item that is not an
    // integer (or an overflow) hands over to the general loop below
    let mut int_total = 0_i64;
    let mut done = 0;
    for item in items {
        match item {
            Value::Int(x) => match int_total.checked_add(*x) {
                Some(t) => int_total = t,
                None => break,
            },
            _ => break,
        }
        done += 1;
    }
    if done == items.len() {
        return Ok(Value::Int(int_total));
    }
    let mut total = Value::Int(int_total);
    for (i, item) in items.iter().enumerate().skip(done) {
        total = arith(&total, item, Op::Add, 1).map_err(|e| match e {
            CallError::ArgType { got, .. } => {
                CallError::msg(format!("item {i} of the list is not a number: {got}"))
            }
            other => other,
        })?;
    }
    Ok(total)
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => {
            let (x, y) = (num(a, 1).ok()?, num(b, 1).ok()?);
            match (x, y) {
                (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
                _ => float(x).partial_cmp(&float(y)),
            }
        }
    }
}

fn extreme(v: &Value, want: Ordering, name: &str) -> Result<Value, CallError> {
    let items = list(v, 1)?;
    let mut best = items
        .first()
        .ok_or_else(|| CallError::msg(format!("{name} of an empty list")))?;
    for item in &items[1..] {
        match compare(item, best) {
            Some(o) if o == want => best = item,
            Some(_) => {}
            None => {
                return Err(CallError::msg(format!(
                    "cannot compare {} with {}",
                    item.type_name(),
                    best.type_name()
                )))
            }
        }
    }
    Ok(best.clone())
}

fn len(v: &Value) -> Result<Value, CallError> {
    let n = match v {
        Value::List(l) => l.len(),
        Value::Dict(d) => d.len(),
        Value::Str(s) => s.chars().count(),
        other => {
            return Err(CallError::ArgType {
                position: 1,
                expected: "a list, string or object",
                got: other.type_name().to_string(),
            })
        }
    };
    Ok(Value::new(n))
}

fn concat(args: &[Value]) -> Result<Value, CallError> {
    if args.iter().all(|a| matches!(a, Value::Str(_))) {
        let s: String = args.iter().filter_map(Value::as_str).collect();
        return Ok(Value::Str(Arc::from(s)));
    }
    if args.iter().all(|a| matches!(a, Value::List(_))) {
        return Ok(Value::List(
            args.iter()
                .filter_map(Value::as_list)
                .flatten()
                .cloned()
                .collect(),
        ));
    }
    let kinds: Vec<&str> = args.iter().map(Value::type_name).collect();
    Err(CallError::msg(format!(
        "concat joins lists or strings, all of one kind; got {}",
        kinds.join(", ")
    )))
}

/// The longest `sleep_ms` or `spin_ms` may take: one hour.
pub const MAX_MILLIS: f64 = 3_600_000.0;

fn millis(v: &Value, position: usize) -> Result<Duration, CallError> {
    let ms = float(num(v, position)?);
    if !(0.0..=MAX_MILLIS).contains(&ms) {
        return Err(CallError::msg(format!(
            "argument {position}: {ms} is not a duration in milliseconds from 0 to {MAX_MILLIS} \
             (one hour)"
        )));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

fn shell(args: &[Value]) -> Result<Value, CallError> {
    let text = |v: &Value| match v {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    };
    let program = args[0].as_str().ok_or_else(|| CallError::ArgType {
        position: 1,
        expected: "a program name (str)",
        got: args[0].type_name().to_string(),
    })?;
    let mut command = std::process::Command::new(program);
    command
        .args(args[1..].iter().map(text))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // its own process group, recorded in the run's `Programs`: the program
    // and what it leaves in the background end with the run (and a Ctrl-C
    // at the terminal reaches rask, which ends them); it stays a child of
    // the thread's process
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .spawn()
        .map_err(|e| CallError::msg(format!("cannot run {program:?}: {e}")))?;
    #[cfg(unix)]
    crate::programs::started(child.id());
    let out = child
        .wait_with_output()
        .map_err(|e| CallError::msg(format!("cannot run {program:?}: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(CallError::msg(format!(
            "{program:?} exited with {}: {}",
            out.status,
            stderr.trim_end()
        )));
    }
    String::from_utf8(out.stdout)
        .map(|s| Value::Str(Arc::from(s)))
        .map_err(|_| CallError::msg(format!("{program:?} wrote output that is not UTF-8")))
}

#[cfg(test)]
mod tests;
