//! Fuzzing of the frames between the scheduler and a worker (issue 13,
//! item 7): arbitrary, truncated and damaged frames are errors, never a
//! panic or an allocation of the size a damaged length claims. Few cases
//! by default; `RASK_FUZZ_CASES` scales them up (`scripts/fuzz.sh`).

use std::io;

use proptest::prelude::*;

use super::*;

fn cases(default: u32) -> u32 {
    std::env::var("RASK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Reads a stream of frames to its end, as a worker or the pool does.
fn receive_all(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buf = Vec::new();
    while let Ok(Some(())) = receive(&mut bytes, &mut buf) {
        frames.push(buf.clone());
    }
    frames
}

/// Walks a batch as the worker does (`worker::serve`), decoding inputs.
fn walk_batch(frame: &[u8]) -> io::Result<()> {
    let mut c = Cursor::new(frame);
    let count = c.u32()?;
    let mut seen = 0_u32;
    for _ in 0..count {
        let (_id, n) = (c.u32()?, c.u32()?);
        for _ in 0..n {
            let len = c.u64()?;
            if len == EARLIER {
                let item = c.u32()?;
                if item >= seen {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "no such task"));
                }
                continue;
            }
            let len = usize::try_from(len)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "too long"))?;
            let _ = codec::from_bytes(c.take(len)?);
        }
        seen += 1;
    }
    Ok(())
}

/// Walks results as the pool does.
fn walk_results(frame: &[u8]) -> Vec<(TaskId, Outcome)> {
    let mut c = Cursor::new(frame);
    let count = c.u32().unwrap_or(0);
    let mut out = Vec::new();
    for _ in 0..count {
        let Ok((id, _, outcome)) = read_outcome(&mut c) else {
            break;
        };
        out.push((id, outcome));
    }
    out
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Outcome::Value),
        (".{0,4}", ".{0,8}").prop_map(|(function, message)| Outcome::Failed { function, message }),
        ".{0,8}".prop_map(Outcome::Panicked),
        ".{0,8}".prop_map(Outcome::Codec),
    ]
}

fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Value(a), Outcome::Value(b)) => a == b,
        (
            Outcome::Failed { function, message },
            Outcome::Failed {
                function: f,
                message: m,
            },
        ) => function == f && message == m,
        (Outcome::Panicked(a), Outcome::Panicked(b)) | (Outcome::Codec(a), Outcome::Codec(b)) => {
            a == b
        }
        _ => false,
    }
}

/// A frame whose length prefix claims far more than follows.
#[test]
fn a_huge_frame_length_is_an_error_not_an_allocation() {
    for claimed in [u64::MAX, u64::MAX / 2, 1 << 48, 1 << 40] {
        let mut bytes = claimed.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"a few bytes");
        let mut buf = Vec::new();
        let e = receive(&mut &bytes[..], &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{claimed}");
        assert!(buf.capacity() <= RESERVE as usize + bytes.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1024), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_streams_of_frames(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for frame in receive_all(&bytes) {
            let _ = walk_batch(&frame);
            let _ = walk_results(&frame);
        }
    }

    #[test]
    fn arbitrary_frames(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = walk_batch(&bytes);
        let _ = walk_results(&bytes);
    }

    #[test]
    fn results_round_trip_and_truncated_results_are_errors(
        results in prop::collection::vec((any::<u32>(), any::<u64>(), any::<u64>(), outcome()), 0..6),
        cut in any::<prop::sample::Index>(),
        flip in (any::<prop::sample::Index>(), 1..=255_u8),
    ) {
        let mut frame = (results.len() as u32).to_le_bytes().to_vec();
        for (id, start_ns, end_ns, o) in &results {
            push_outcome(&mut frame, *id, Span { start_ns: *start_ns, end_ns: *end_ns }, o);
        }
        let mut stream = Vec::new();
        send(&mut stream, &frame).unwrap();
        let got = receive_all(&stream);
        prop_assert_eq!(got.len(), 1);
        let back = walk_results(&got[0]);
        prop_assert_eq!(back.len(), results.len());
        for ((id, o), (i, _, _, r)) in back.iter().zip(&results) {
            prop_assert_eq!(id, i);
            prop_assert!(same(o, r));
        }
        // truncated anywhere: fewer results, never a panic
        let at = cut.index(frame.len() + 1);
        let fewer = walk_results(&frame[..at]);
        prop_assert!(fewer.len() <= results.len() && (at == frame.len() || fewer.len() < results.len().max(1)));
        // a truncated stream ends the frames
        prop_assert!(receive_all(&stream[..cut.index(stream.len())]).is_empty());
        // a damaged byte: still no panic
        let mut damaged = frame.clone();
        if !damaged.is_empty() {
            let i = flip.0.index(damaged.len());
            damaged[i] ^= flip.1;
            let _ = walk_results(&damaged);
        }
    }

    #[test]
    fn batches_round_trip_and_damaged_batches_are_errors(
        tasks in prop::collection::vec((any::<u32>(), prop::collection::vec(prop_oneof![
            any::<i64>().prop_map(|i| Some(Value::Int(i))),
            ".{0,6}".prop_map(|s: String| Some(Value::Str(s.as_str().into()))),
            Just(None),
        ], 0..4)), 1..5),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut w = BatchWriter::default();
        w.clear();
        for (i, (id, inputs)) in tasks.iter().enumerate() {
            let inputs: Vec<Input<'_>> = inputs
                .iter()
                .map(|v| match v {
                    Some(v) => Input::Value(v),
                    None => Input::Earlier(i.saturating_sub(1) as u32),
                })
                .collect();
            w.push(*id, inputs.into_iter()).unwrap();
        }
        let frame = w.bytes.clone();
        // task 0's "earlier" input points at itself: only later ones walk
        if tasks[0].1.iter().all(Option::is_some) {
            prop_assert!(walk_batch(&frame).is_ok());
        }
        let _ = walk_batch(&frame[..cut.index(frame.len() + 1)]);
        let mut damaged = frame;
        for (i, b) in edits {
            let n = damaged.len();
            damaged[i.index(n)] = b;
        }
        let _ = walk_batch(&damaged);
    }
}
