//! The messages ranks exchange, and their bytes.
//!
//! Only task ids (dense ids of the plan that every rank built the same
//! way), counts and serialized values travel; never code. Every message
//! starts with the number of the computation it belongs to (its *epoch*:
//! each rank counts its `compute` calls), so that a late message of a
//! failed run is dropped by the next one.
//!
//! A message is a *frame*, `[payloads: u32][(length: u64, form: u8)...]
//! [epoch: u32][kind: u8][fields...]`, optionally followed by *payloads*:
//! large values that travel as their own MPI messages, straight from the
//! memory of the value (a string is sent from its `Arc<str>`, a `Vec<f64>`
//! or `Vec<i64>` from its words, not copied into the frame) into memory
//! allocated once on the receiving rank that becomes the value (the
//! payload's form says which: see `bytes.rs`). Other large values are
//! encoded by their codec into a payload; small values inline in the
//! frame.
//!
//! | message | from → to | means |
//! | --- | --- | --- |
//! | `Hello` | every rank → 0 | my fingerprint, task count and threads |
//! | `Run` | 0 → rank | run these tasks (their inputs are here or pushed to you) |
//! | `Push` | 0 → holder | send these values to rank `to` |
//! | `Data` | holder → rank | values (inline or as payloads) |
//! | `Free` | 0 → rank | drop these values, nobody needs them |
//! | `Done` | rank → 0 | these tasks finished: sizes and durations |
//! | `Failed` | rank → 0 | this task failed |
//! | `Stop` | 0 → every rank | the run is over (`None`) or failed: stop, drop every value, answer `Finished` |
//! | `Finished` | rank → 0 | no task of mine runs any more |

use std::sync::Arc;

use rask_graph::{codec, TaskId, Value};

use crate::bytes::{self, Body, Form};

/// A failure that every rank reports identically.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Task `id` returned an error from `function` (empty: an input was
    /// missing) with `message`.
    Task {
        id: TaskId,
        function: String,
        message: String,
    },
    /// Task `id` panicked.
    Panic { id: TaskId, message: String },
    /// Task `id`'s value (or an input of it) could not cross ranks.
    Codec { id: TaskId, message: String },
    /// Not a task's fault (the ranks built different graphs, ...).
    Run { message: String },
}

/// One finished task, as reported to rank 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Done {
    pub(crate) id: TaskId,
    /// The approximate size of its value (see [`crate::size`]).
    pub(crate) bytes: u64,
    /// How long it ran.
    pub(crate) nanos: u64,
    /// Which thread of the rank's pool ran it.
    pub(crate) thread: u32,
}

/// A message between ranks.
#[derive(Debug, Clone)]
pub(crate) enum Msg {
    Hello {
        fingerprint: u64,
        tasks: u64,
        threads: u32,
    },
    Run {
        ids: Vec<TaskId>,
    },
    Push {
        to: u32,
        ids: Vec<TaskId>,
    },
    Data {
        /// When the sender began to encode, in nanoseconds since the Unix
        /// epoch (for [`TransferStats`](crate::rank::TransferStats)).
        sent_at: u64,
        values: Vec<(TaskId, Value)>,
    },
    Free {
        ids: Vec<TaskId>,
    },
    Done {
        items: Vec<Done>,
    },
    Failed {
        failure: Failure,
    },
    Stop {
        failure: Option<Failure>,
    },
    Finished,
}

/// A payload: bytes that travel as MPI messages of their own.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// Encoded by the codec.
    Owned(Vec<u8>),
    /// Shared with the value it came from (a string's bytes).
    Shared(Arc<[u8]>),
    /// A value sent from its own memory: a `Vec<f64>` or `Vec<i64>` (see
    /// [`bytes::words_of`]), kept alive until the send completed.
    Words(Value),
}

impl Payload {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Owned(v) => v,
            Payload::Shared(a) => a,
            Payload::Words(v) => bytes::words_of(v).map_or(&[], |(_, b)| b),
        }
    }

    /// What the receiver receives it into.
    pub(crate) fn form(&self) -> Form {
        match self {
            Payload::Owned(_) => Form::Bytes,
            Payload::Shared(_) => Form::Str,
            Payload::Words(v) => bytes::words_of(v).map_or(Form::Bytes, |(f, _)| f),
        }
    }
}

/// An encoded message: the frame and its payloads.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) bytes: Vec<u8>,
    pub(crate) payloads: Vec<Payload>,
}

/// Values at least this large travel as payloads, not inside the frame.
pub(crate) const PAYLOAD_BYTES: u64 = 64 * 1024;

const HELLO: u8 = 1;
const RUN: u8 = 2;
const PUSH: u8 = 3;
const DATA: u8 = 4;
const FREE: u8 = 5;
const DONE: u8 = 6;
const FAILED: u8 = 7;
const STOP: u8 = 8;
const FINISHED: u8 = 9;

/// How a value in a `Data` message is stored.
const INLINE: u8 = 0;
const PAYLOAD_CODEC: u8 = 1;
const PAYLOAD_STR: u8 = 2;
const PAYLOAD_WORDS: u8 = 3;

/// The payloads a frame announces, their form and length (what the
/// receiver must read after it), or `None` for a frame too short to hold
/// them or with an unknown form.
pub(crate) fn payload_heads(frame: &[u8]) -> Option<Vec<(Form, u64)>> {
    let mut r = Reader { b: frame, at: 0 };
    let n = r.u32().ok()? as usize;
    (0..n)
        .map(|_| {
            let len = r.u64().ok()?;
            Some((Form::from_code(r.u8().ok()?)?, len))
        })
        .collect()
}

/// The epoch of a frame without decoding it, or `None` for a frame too
/// short to hold it.
pub(crate) fn epoch(frame: &[u8]) -> Option<u32> {
    let mut r = Reader { b: frame, at: 0 };
    let n = r.u32().ok()? as usize;
    r.take(n.checked_mul(9)?).ok()?;
    r.u32().ok()
}

/// Encodes `msg` of computation `epoch`. A value without a codec is an
/// error naming its task.
pub(crate) fn encode(epoch: u32, msg: &Msg) -> Result<Frame, Failure> {
    let mut body = Vec::with_capacity(64);
    let mut payloads = Vec::new();
    put_u32(&mut body, epoch);
    match msg {
        Msg::Hello {
            fingerprint,
            tasks,
            threads,
        } => {
            body.push(HELLO);
            put_u64(&mut body, *fingerprint);
            put_u64(&mut body, *tasks);
            put_u32(&mut body, *threads);
        }
        Msg::Run { ids } => {
            body.push(RUN);
            put_ids(&mut body, ids);
        }
        Msg::Push { to, ids } => {
            body.push(PUSH);
            put_u32(&mut body, *to);
            put_ids(&mut body, ids);
        }
        Msg::Free { ids } => {
            body.push(FREE);
            put_ids(&mut body, ids);
        }
        Msg::Data { sent_at, values } => {
            body.push(DATA);
            put_u64(&mut body, *sent_at);
            put_u32(&mut body, values.len() as u32);
            for (id, v) in values {
                put_u32(&mut body, *id);
                match v {
                    Value::Str(s) if s.len() as u64 >= PAYLOAD_BYTES => {
                        body.push(PAYLOAD_STR);
                        payloads.push(Payload::Shared(Arc::<[u8]>::from(s.clone())));
                    }
                    Value::Opaque(_)
                        if bytes::words_of(v)
                            .is_some_and(|(_, b)| b.len() as u64 >= PAYLOAD_BYTES) =>
                    {
                        body.push(PAYLOAD_WORDS);
                        payloads.push(Payload::Words(v.clone()));
                    }
                    _ if crate::size::approx_bytes(v) >= PAYLOAD_BYTES => {
                        body.push(PAYLOAD_CODEC);
                        let mut out = Vec::with_capacity(crate::size::approx_bytes(v) as usize);
                        codec::write(v, &mut out).map_err(|e| codec_failure(*id, &e))?;
                        payloads.push(Payload::Owned(out));
                    }
                    _ => {
                        body.push(INLINE);
                        let at = body.len();
                        put_u64(&mut body, 0);
                        codec::write(v, &mut body).map_err(|e| codec_failure(*id, &e))?;
                        let n = (body.len() - at - 8) as u64;
                        body[at..at + 8].copy_from_slice(&n.to_le_bytes());
                    }
                }
            }
        }
        Msg::Done { items } => {
            body.push(DONE);
            put_u32(&mut body, items.len() as u32);
            for d in items {
                put_u32(&mut body, d.id);
                put_u64(&mut body, d.bytes);
                put_u64(&mut body, d.nanos);
                put_u32(&mut body, d.thread);
            }
        }
        Msg::Failed { failure } => {
            body.push(FAILED);
            put_failure(&mut body, failure);
        }
        Msg::Stop { failure } => {
            body.push(STOP);
            match failure {
                None => body.push(0),
                Some(f) => {
                    body.push(1);
                    put_failure(&mut body, f);
                }
            }
        }
        Msg::Finished => body.push(FINISHED),
    }
    let mut bytes = Vec::with_capacity(4 + 9 * payloads.len() + body.len());
    put_u32(&mut bytes, payloads.len() as u32);
    for p in &payloads {
        put_u64(&mut bytes, p.as_slice().len() as u64);
        bytes.push(p.form().code());
    }
    bytes.extend_from_slice(&body);
    Ok(Frame { bytes, payloads })
}

fn codec_failure(id: TaskId, e: &codec::NoCodec) -> Failure {
    Failure::Codec {
        id,
        message: format!("its value cannot move to another rank: {e}"),
    }
}

/// A frame that does not decode (a bug, or ranks running different
/// builds of the program).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("malformed message from another rank: {0}")]
pub(crate) struct Malformed(pub(crate) String);

/// Decodes a frame and its payloads into its epoch and message.
pub(crate) fn decode(frame: &[u8], payloads: Vec<Body>) -> Result<(u32, Msg), Malformed> {
    let mut r = Reader { b: frame, at: 0 };
    let n = r.u32()?;
    for _ in 0..n {
        r.u64()?;
        r.u8()?;
    }
    let epoch = r.u32()?;
    let kind = r.u8()?;
    let msg = match kind {
        HELLO => Msg::Hello {
            fingerprint: r.u64()?,
            tasks: r.u64()?,
            threads: r.u32()?,
        },
        RUN => Msg::Run { ids: r.ids()? },
        PUSH => Msg::Push {
            to: r.u32()?,
            ids: r.ids()?,
        },
        FREE => Msg::Free { ids: r.ids()? },
        DATA => {
            let sent_at = r.u64()?;
            let n = r.u32()? as usize;
            let mut payloads = payloads.into_iter();
            let mut values = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                let id = r.u32()?;
                let v = match r.u8()? {
                    INLINE => {
                        let len = r.u64()? as usize;
                        let b = r.take(len)?;
                        codec::from_bytes(b).map_err(|e| Malformed(e.to_string()))?
                    }
                    PAYLOAD_CODEC => {
                        let p = bytes_payload(payloads.next(), id)?;
                        codec::from_bytes(&p).map_err(|e| Malformed(e.to_string()))?
                    }
                    PAYLOAD_STR => match payloads.next() {
                        // validated as it landed
                        Some(Body::Str(s)) => Value::Str(s),
                        p => Value::Str(bytes::into_str(bytes_payload(p, id)?).map_err(Malformed)?),
                    },
                    PAYLOAD_WORDS => {
                        let p = payloads.next().ok_or_else(|| missing_payload(id))?;
                        bytes::words_value(p).ok_or_else(|| {
                            Malformed(format!("the payload of task {id} is not words"))
                        })?
                    }
                    other => return Err(Malformed(format!("unknown value form {other}"))),
                };
                values.push((id, v));
            }
            Msg::Data { sent_at, values }
        }
        DONE => {
            let n = r.u32()? as usize;
            let mut items = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                items.push(Done {
                    id: r.u32()?,
                    bytes: r.u64()?,
                    nanos: r.u64()?,
                    thread: r.u32()?,
                });
            }
            Msg::Done { items }
        }
        FAILED => Msg::Failed {
            failure: r.failure()?,
        },
        STOP => Msg::Stop {
            failure: match r.u8()? {
                0 => None,
                _ => Some(r.failure()?),
            },
        },
        FINISHED => Msg::Finished,
        other => return Err(Malformed(format!("unknown message kind {other}"))),
    };
    if r.at != frame.len() {
        return Err(Malformed(format!(
            "{} bytes left after the message",
            frame.len() - r.at
        )));
    }
    Ok((epoch, msg))
}

fn missing_payload(id: TaskId) -> Malformed {
    Malformed(format!("the payload of task {id} is missing"))
}

fn bytes_payload(p: Option<Body>, id: TaskId) -> Result<Arc<[u8]>, Malformed> {
    match p {
        Some(Body::Bytes(b)) => Ok(b),
        Some(_) => Err(Malformed(format!("the payload of task {id} is not bytes"))),
        None => Err(missing_payload(id)),
    }
}

fn put_u32(out: &mut Vec<u8>, x: u32) {
    out.extend_from_slice(&x.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, x: u64) {
    out.extend_from_slice(&x.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_ids(out: &mut Vec<u8>, ids: &[TaskId]) {
    put_u32(out, ids.len() as u32);
    out.reserve(4 * ids.len());
    for &id in ids {
        put_u32(out, id);
    }
}

fn put_failure(out: &mut Vec<u8>, f: &Failure) {
    match f {
        Failure::Task {
            id,
            function,
            message,
        } => {
            out.push(0);
            put_u32(out, *id);
            put_str(out, function);
            put_str(out, message);
        }
        Failure::Panic { id, message } => {
            out.push(1);
            put_u32(out, *id);
            put_str(out, message);
        }
        Failure::Codec { id, message } => {
            out.push(2);
            put_u32(out, *id);
            put_str(out, message);
        }
        Failure::Run { message } => {
            out.push(3);
            put_str(out, message);
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| Malformed(format!("truncated at byte {}", self.at)))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Malformed> {
        let mut a = [0; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn str(&mut self) -> Result<String, Malformed> {
        let n = self.u64()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|e| Malformed(e.to_string()))
    }

    fn ids(&mut self) -> Result<Vec<TaskId>, Malformed> {
        let n = self.u32()? as usize;
        let b = self.take(
            n.checked_mul(4)
                .ok_or_else(|| Malformed("too many ids".into()))?,
        )?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn failure(&mut self) -> Result<Failure, Malformed> {
        Ok(match self.u8()? {
            0 => Failure::Task {
                id: self.u32()?,
                function: self.str()?,
                message: self.str()?,
            },
            1 => Failure::Panic {
                id: self.u32()?,
                message: self.str()?,
            },
            2 => Failure::Codec {
                id: self.u32()?,
                message: self.str()?,
            },
            3 => Failure::Run {
                message: self.str()?,
            },
            other => return Err(Malformed(format!("unknown failure kind {other}"))),
        })
    }
}

#[cfg(test)]
mod tests;
