use std::sync::Arc;

use super::*;

fn round_trip(msg: &Msg) -> Msg {
    let frame = encode(7, msg).unwrap();
    let lens = payload_lens(&frame.bytes).unwrap();
    assert_eq!(lens.len(), frame.payloads.len());
    let payloads: Vec<Arc<[u8]>> = frame
        .payloads
        .iter()
        .zip(&lens)
        .map(|(p, &n)| {
            assert_eq!(p.as_slice().len() as u64, n);
            Arc::from(p.as_slice())
        })
        .collect();
    let (epoch, back) = decode(&frame.bytes, payloads).unwrap();
    assert_eq!(epoch, 7);
    back
}

#[test]
fn control_messages_round_trip() {
    let msgs = [
        Msg::Hello {
            fingerprint: 0xdead_beef_0123,
            tasks: 42,
            threads: 3,
        },
        Msg::Run { ids: vec![1, 2, 3] },
        Msg::Push {
            to: 2,
            ids: vec![9],
        },
        Msg::Free { ids: vec![] },
        Msg::Done {
            items: vec![Done {
                id: 4,
                bytes: 9,
                nanos: 1000,
                thread: 1,
            }],
        },
        Msg::Failed {
            failure: Failure::Task {
                id: 3,
                function: "fail".into(),
                message: "boom".into(),
            },
        },
        Msg::Stop {
            failure: Some(Failure::Panic {
                id: 1,
                message: "p".into(),
            }),
        },
        Msg::Stop { failure: None },
        Msg::Stop {
            failure: Some(Failure::Run {
                message: "different graphs".into(),
            }),
        },
        Msg::Finished,
    ];
    for m in &msgs {
        assert_eq!(format!("{:?}", round_trip(m)), format!("{m:?}"));
    }
}

#[test]
fn small_values_are_inline_and_large_ones_payloads() {
    let big = "x".repeat(PAYLOAD_BYTES as usize + 1);
    let big_list = Value::list((0..20_000).map(Value::Int));
    let msg = Msg::Data {
        sent_at: 12,
        values: vec![
            (1, Value::Int(5)),
            (2, Value::from(big.clone())),
            (3, big_list.clone()),
            (4, Value::from("small")),
        ],
    };
    let frame = encode(1, &msg).unwrap();
    assert_eq!(frame.payloads.len(), 2);
    let Msg::Data { sent_at, values } = round_trip(&msg) else {
        panic!("not data")
    };
    assert_eq!(sent_at, 12);
    assert_eq!(values[0], (1, Value::Int(5)));
    assert_eq!(values[1].1.as_str(), Some(big.as_str()));
    assert_eq!(values[2].1, big_list);
    assert_eq!(values[3].1.as_str(), Some("small"));
}

#[test]
fn a_value_without_codec_names_its_task() {
    struct NoCodec;
    let msg = Msg::Data {
        sent_at: 0,
        values: vec![(5, Value::opaque(NoCodec))],
    };
    match encode(1, &msg).unwrap_err() {
        Failure::Codec { id, message } => {
            assert_eq!(id, 5);
            assert!(message.contains("NoCodec"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_frames_are_errors() {
    let frame = encode(1, &Msg::Run { ids: vec![1, 2] }).unwrap();
    for n in 0..frame.bytes.len() {
        assert!(decode(&frame.bytes[..n], Vec::new()).is_err());
    }
    let mut long = frame.bytes.clone();
    long.push(0);
    assert!(decode(&long, Vec::new()).is_err());
}
