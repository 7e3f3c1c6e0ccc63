//! The messages between the scheduler and a worker process: length-framed
//! batches of tasks (ids and input values) one way, and of results (values
//! or errors) the other way. Values travel in the binary form of
//! [`rask_graph::codec`]; keys and code never travel, since a forked worker
//! already holds the graph.

use std::io::{self, Read, Write};

use rask_graph::{codec, TaskId, Value};

/// How one task ended in a worker.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Its value, encoded.
    Value(Vec<u8>),
    /// The task returned an error: the function's name and the message.
    Failed { function: String, message: String },
    /// The task panicked.
    Panicked(String),
    /// The value has no codec, or an input did not decode.
    Codec(String),
}

/// Writes one frame: its length, then its bytes.
pub(crate) fn send(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    w.write_all(&(payload.len() as u64).to_le_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub(crate) fn receive(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Option<()>> {
    let mut len = [0_u8; 8];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u64::from_le_bytes(len);
    // the buffer grows with the bytes that come, not with the length the
    // prefix claims: a damaged prefix is not an allocation of exabytes
    buf.clear();
    buf.reserve(usize::try_from(len.min(RESERVE)).unwrap_or(0));
    r.take(len).read_to_end(buf)?;
    if (buf.len() as u64) < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "truncated frame",
        ));
    }
    Ok(Some(()))
}

/// At most this much is reserved ahead of a frame's bytes.
const RESERVE: u64 = 64 << 20;

/// The length that marks an input as the result of an earlier task of the
/// same batch (followed by that task's position), not as a value.
pub(crate) const EARLIER: u64 = u64::MAX;

/// One input of a task in a batch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Input<'v> {
    /// A value, sent along.
    Value(&'v Value),
    /// The result of the task at this position of the batch.
    Earlier(u32),
}

/// Builds a batch of tasks: `[count][id, n, (len, value | EARLIER, item)*]*`.
#[derive(Debug, Default)]
pub(crate) struct BatchWriter {
    pub(crate) bytes: Vec<u8>,
    count: u32,
}

impl BatchWriter {
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.bytes.extend_from_slice(&0_u32.to_le_bytes());
        self.count = 0;
    }

    /// Adds task `id` with its inputs; a value without a codec is returned
    /// as an error (the batch is then unusable).
    pub(crate) fn push<'v>(
        &mut self,
        id: TaskId,
        inputs: impl ExactSizeIterator<Item = Input<'v>>,
    ) -> Result<(), codec::NoCodec> {
        if self.bytes.is_empty() {
            self.clear();
        }
        self.bytes.extend_from_slice(&id.to_le_bytes());
        self.bytes
            .extend_from_slice(&(inputs.len() as u32).to_le_bytes());
        for input in inputs {
            match input {
                Input::Value(v) => {
                    let at = self.bytes.len();
                    self.bytes.extend_from_slice(&[0; 8]);
                    codec::write(v, &mut self.bytes)?;
                    let len = (self.bytes.len() - at - 8) as u64;
                    self.bytes[at..at + 8].copy_from_slice(&len.to_le_bytes());
                }
                Input::Earlier(item) => {
                    self.bytes.extend_from_slice(&EARLIER.to_le_bytes());
                    self.bytes.extend_from_slice(&item.to_le_bytes());
                }
            }
        }
        self.count += 1;
        self.bytes[..4].copy_from_slice(&self.count.to_le_bytes());
        Ok(())
    }
}

/// A cursor over a received frame.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "truncated frame"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    pub(crate) fn u32(&mut self) -> io::Result<u32> {
        let mut a = [0_u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    pub(crate) fn u64(&mut self) -> io::Result<u64> {
        let mut a = [0_u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn bytes(&mut self) -> io::Result<&'a [u8]> {
        let n = usize::try_from(self.u64()?)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "length too large"))?;
        self.take(n)
    }

    pub(crate) fn text(&mut self) -> io::Result<String> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
}

/// When a task ran in the worker: nanoseconds from the worker's receipt of
/// its batch to the task's start and end.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    pub(crate) start_ns: u64,
    pub(crate) end_ns: u64,
}

/// Appends one result: `[id][start_ns][end_ns][status][payload...]`.
pub(crate) fn push_outcome(out: &mut Vec<u8>, id: TaskId, span: Span, outcome: &Outcome) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&span.start_ns.to_le_bytes());
    out.extend_from_slice(&span.end_ns.to_le_bytes());
    let put = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
        out.extend_from_slice(b);
    };
    match outcome {
        Outcome::Value(v) => {
            out.push(0);
            put(out, v);
        }
        Outcome::Failed { function, message } => {
            out.push(1);
            put(out, function.as_bytes());
            put(out, message.as_bytes());
        }
        Outcome::Panicked(m) => {
            out.push(2);
            put(out, m.as_bytes());
        }
        Outcome::Codec(m) => {
            out.push(3);
            put(out, m.as_bytes());
        }
    }
}

/// Reads one result written by [`push_outcome`].
pub(crate) fn read_outcome(c: &mut Cursor<'_>) -> io::Result<(TaskId, Span, Outcome)> {
    let id = c.u32()?;
    let span = Span {
        start_ns: c.u64()?,
        end_ns: c.u64()?,
    };
    let status = c.take(1)?[0];
    let outcome = match status {
        0 => Outcome::Value(c.bytes()?.to_vec()),
        1 => Outcome::Failed {
            function: c.text()?,
            message: c.text()?,
        },
        2 => Outcome::Panicked(c.text()?),
        3 => Outcome::Codec(c.text()?),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unknown result status",
            ))
        }
    };
    Ok((id, span, outcome))
}

#[cfg(test)]
mod fuzz;
