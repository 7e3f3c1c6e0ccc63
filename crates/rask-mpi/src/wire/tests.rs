use std::sync::Arc;

use super::*;
use crate::bytes::{Body, Form};

fn round_trip(msg: &Msg) -> Msg {
    let frame = encode(7, msg).unwrap();
    let heads = payload_heads(&frame.bytes).unwrap();
    assert_eq!(heads.len(), frame.payloads.len());
    let payloads: Vec<Body> = frame
        .payloads
        .iter()
        .zip(&heads)
        .map(|(p, &(form, n))| {
            assert_eq!(p.as_slice().len() as u64, n);
            assert_eq!(p.form(), form);
            Body::copy_of(form, p.as_slice())
        })
        .collect();
    assert_eq!(epoch(&frame.bytes), Some(7));
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

#[test]
fn large_word_vectors_travel_from_their_own_memory() {
    let floats: Vec<f64> = (0..PAYLOAD_BYTES as usize / 8 + 5)
        .map(|i| i as f64 / 3.0)
        .collect();
    let ints: Vec<i64> = (0..PAYLOAD_BYTES as i64).map(|i| i - 77).collect();
    let small: Vec<f64> = vec![1.5, -2.0];
    let (vf, vi) = (Value::opaque(floats.clone()), Value::opaque(ints.clone()));
    let msg = Msg::Data {
        sent_at: 3,
        values: vec![
            (1, vf.clone()),
            (2, Value::opaque(small.clone())),
            (3, vi.clone()),
            (4, Value::opaque(Vec::<f64>::new())),
        ],
    };
    let frame = encode(7, &msg).unwrap();
    // the two large vectors are payloads, sent from the values' memory
    assert_eq!(frame.payloads.len(), 2);
    if cfg!(target_endian = "little") {
        let own = |v: &Value, i: usize| {
            let p = frame.payloads[i].as_slice().as_ptr();
            assert!(matches!(frame.payloads[i], Payload::Words(_)));
            p.cast::<u8>()
                == v.downcast_ref::<Vec<f64>>().map_or_else(
                    || v.downcast_ref::<Vec<i64>>().unwrap().as_ptr().cast(),
                    |f| f.as_ptr().cast(),
                )
        };
        assert!(own(&vf, 0) && own(&vi, 1));
        let heads = payload_heads(&frame.bytes).unwrap();
        assert_eq!(heads[0], (Form::F64, floats.len() as u64 * 8));
        assert_eq!(heads[1], (Form::I64, ints.len() as u64 * 8));
    }
    let Msg::Data { values, .. } = round_trip(&msg) else {
        panic!("not data")
    };
    assert_eq!(values[0].1.downcast_ref::<Vec<f64>>(), Some(&floats));
    assert_eq!(values[1].1.downcast_ref::<Vec<f64>>(), Some(&small));
    assert_eq!(values[2].1.downcast_ref::<Vec<i64>>(), Some(&ints));
    assert_eq!(values[3].1.downcast_ref::<Vec<f64>>(), Some(&Vec::new()));
}

#[test]
fn payloads_of_the_wrong_form_are_errors() {
    let big = Value::from("y".repeat(PAYLOAD_BYTES as usize));
    let words = Value::opaque(vec![0_i64; PAYLOAD_BYTES as usize]);
    for (v, wrong) in [
        (big, Body::I64(vec![0; 8])),
        (words, Body::Bytes(Arc::from(&[0_u8; 8][..]))),
    ] {
        let frame = encode(
            1,
            &Msg::Data {
                sent_at: 0,
                values: vec![(9, v)],
            },
        )
        .unwrap();
        let e = decode(&frame.bytes, vec![wrong]).unwrap_err();
        assert!(e.0.contains("task 9"), "{e}");
        assert!(decode(&frame.bytes, Vec::new())
            .unwrap_err()
            .0
            .contains("missing"));
    }
}
