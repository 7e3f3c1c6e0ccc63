//! The communication thread: the one thread of a rank that calls MPI.
//!
//! It initializes MPI with `MPI_THREAD_FUNNELED` (so, in MPI's terms, it is
//! the process's main thread and the only one that may call MPI, which any
//! MPI build supports), duplicates `MPI_COMM_WORLD` for rask's own
//! messages, and then loops until the [`Comm`] is dropped, which finalizes
//! MPI from the same thread:
//!
//! - commands from the rank (send a frame, run a closure on the world
//!   communicator) arrive on a channel; the sender unparks the thread;
//! - frames to send are posted as non-blocking sends (`MPI_Isend`), the
//!   frame on tag [`FRAME`] then each payload in fragments of at most
//!   `max_message` bytes (a string's of at most [`STR_FRAGMENT`], which the
//!   receiver validates as they land) on tag [`PAYLOAD`]; while they
//!   complete the thread
//!   keeps receiving, so two ranks sending large values to each other
//!   never wait on one another;
//! - arriving messages are found with `MPI_Improbe` and received with
//!   `MPI_Mrecv`: a frame, then its payloads straight into the memory of
//!   the values they become (a string's bytes, a `Vec<f64>`'s words: see
//!   `bytes.rs`), then the whole is handed to the rank on the inbox
//!   channel. MPI keeps the messages of one sender in order, so the
//!   fragments of a payload follow their frame.
//!
//! When there is nothing to do the thread spins briefly, then yields, then
//! parks for growing intervals up to [`MAX_PARK`]; an idle rank therefore
//! costs almost no CPU, and a message waits at most that long.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mpi::datatype::{DynBufferMut, Equivalence};
use mpi::point_to_point::Message;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Threading;

use crate::bytes::{Form, Landing, STR_FRAGMENT};
use crate::executor::InitError;
use crate::prefault::Prefaulter;
use crate::rank::{Incoming, Link};
use crate::wire::{payload_heads, Frame};

/// The tag of frames.
pub(crate) const FRAME: i32 = 1;
/// The tag of payload fragments.
pub(crate) const PAYLOAD: i32 = 2;
/// The longest an idle communication thread sleeps between polls.
pub(crate) const MAX_PARK: Duration = Duration::from_micros(200);

/// A closure run on the communication thread with the world communicator.
pub(crate) type WorldCall = Box<dyn FnOnce(&SimpleCommunicator) + Send>;

enum Command {
    Send { dest: u32, frame: Frame },
    Call(WorldCall),
    Abort(i32),
}

/// What the communication thread learned when MPI started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WorldInfo {
    pub(crate) rank: u32,
    pub(crate) size: u32,
    /// The task threads of this rank.
    pub(crate) threads: usize,
    /// The task threads of all ranks.
    pub(crate) total_threads: usize,
}

/// A rank's handle on its communication thread.
#[derive(Debug)]
pub(crate) struct Comm {
    pub(crate) info: WorldInfo,
    commands: Sender<Command>,
    inbox: Receiver<Incoming>,
    waker: Thread,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Send { dest, .. } => write!(f, "Send to {dest}"),
            Command::Call(_) => f.write_str("Call"),
            Command::Abort(c) => write!(f, "Abort({c})"),
        }
    }
}

/// Set once MPI was finalized: it cannot start again in this process.
pub(crate) static FINALIZED: AtomicBool = AtomicBool::new(false);

impl Comm {
    /// Starts the communication thread, which initializes MPI. `threads`:
    /// task threads for this rank (default: the cores of this node shared
    /// among its ranks).
    pub(crate) fn start(threads: Option<usize>, max_message: usize) -> Result<Comm, InitError> {
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<WorldInfo, InitError>>(1);
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded::<Command>();
        let (in_tx, in_rx) = crossbeam_channel::unbounded::<Incoming>();
        let max_message = max_message.clamp(1, i32::MAX as usize);
        let thread = std::thread::Builder::new()
            .name("rask-mpi-comm".into())
            .spawn(move || {
                let Some((universe, provided)) =
                    mpi::initialize_with_threading(Threading::Funneled)
                else {
                    let _ = ready_tx.send(Err(InitError::AlreadyInitialized));
                    return;
                };
                if matches!(provided, Threading::Single) {
                    let _ = ready_tx.send(Err(InitError::Threading));
                    return;
                }
                let world = universe.world();
                let proto = world.duplicate();
                let local = world.split_shared(world.rank()).size().max(1) as usize;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let mine = threads.unwrap_or(cores / local).max(1);
                let mut all = vec![0_u64; world.size() as usize];
                world.all_gather_into(&(mine as u64), &mut all[..]);
                let info = WorldInfo {
                    rank: world.rank() as u32,
                    size: world.size() as u32,
                    threads: mine,
                    total_threads: all.iter().sum::<u64>() as usize,
                };
                if ready_tx.send(Ok(info)).is_err() {
                    return;
                }
                let mut rx = Receiving {
                    inbox: in_tx,
                    partial: HashMap::new(),
                    prefaulter: Prefaulter::start(),
                };
                serve(&world, &proto, &cmd_rx, &mut rx, max_message);
                drop(proto);
                drop(world);
                FINALIZED.store(true, Ordering::SeqCst);
                drop(universe); // MPI_Finalize, on this thread
            })
            .map_err(InitError::Thread)?;
        let waker = thread.thread().clone();
        match ready_rx.recv() {
            Ok(Ok(info)) => Ok(Comm {
                info,
                commands: cmd_tx,
                inbox: in_rx,
                waker,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(InitError::Died)
            }
        }
    }

    fn command(&self, c: Command) -> bool {
        let ok = self.commands.send(c).is_ok();
        self.waker.unpark();
        ok
    }

    /// Runs `f` on the communication thread with the world communicator.
    pub(crate) fn call(&self, f: WorldCall) -> bool {
        self.command(Command::Call(f))
    }

    /// Aborts the whole MPI job (every rank) with `code`.
    pub(crate) fn abort(&self, code: i32) {
        self.command(Command::Abort(code));
        // the job ends; wait for it rather than go on
        loop {
            std::thread::park();
        }
    }
}

impl Drop for Comm {
    /// Stops the thread, which finalizes MPI.
    fn drop(&mut self) {
        let (tx, _) = crossbeam_channel::bounded(0);
        // closing the command channel is the signal to stop
        self.commands = tx;
        self.waker.unpark();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Link for Comm {
    fn rank(&self) -> u32 {
        self.info.rank
    }
    fn size(&self) -> u32 {
        self.info.size
    }
    fn send(&self, dest: u32, frame: Frame) {
        self.command(Command::Send { dest, frame });
    }
    fn inbox(&self) -> &Receiver<Incoming> {
        &self.inbox
    }
}

/// The thread's loop, until the command channel closes.
fn serve(
    world: &SimpleCommunicator,
    proto: &SimpleCommunicator,
    commands: &Receiver<Command>,
    rx: &mut Receiving,
    max_message: usize,
) {
    let mut s = Serving {
        world,
        proto,
        commands,
        max_message,
        closing: false,
    };
    let mut idle = 0_u32;
    loop {
        let mut busy = s.pump(rx);
        if s.closing {
            return;
        }
        while rx.poll(proto) {
            busy = true;
        }
        if busy {
            idle = 0;
        } else {
            idle = idle.saturating_add(1);
            back_off(idle);
        }
    }
}

/// Waits a little, longer the longer nothing happened.
fn back_off(idle: u32) {
    if idle < 64 {
        std::hint::spin_loop();
    } else if idle < 128 {
        std::thread::yield_now();
    } else {
        let micros = 5_u64 << ((idle - 128) / 16).min(6);
        std::thread::park_timeout(Duration::from_micros(micros).min(MAX_PARK));
    }
}

struct Serving<'a> {
    world: &'a SimpleCommunicator,
    proto: &'a SimpleCommunicator,
    commands: &'a Receiver<Command>,
    max_message: usize,
    /// The command channel closed: finish the sends, then stop.
    closing: bool,
}

impl Serving<'_> {
    /// Takes commands and receives until every send it posted completed;
    /// whether anything happened. Frames are posted (`MPI_Isend`) as they
    /// come; a closure runs as it comes, after the frames queued before it
    /// were posted but without waiting for them to complete: a collective
    /// in a closure must not wait for this rank's sends to a rank that is
    /// in the same collective, and must not overtake the frames before it.
    fn pump(&mut self, rx: &mut Receiving) -> bool {
        // the frames live until every send of this call completed
        let frames: typed_arena::Arena<(u32, Frame)> = typed_arena::Arena::new();
        let proto = self.proto;
        let max_message = self.max_message;
        mpi::request::scope(|scope| {
            let mut pending = Vec::new();
            let mut busy = false;
            let mut idle = 0_u32;
            loop {
                let mut took = false;
                while !self.closing {
                    match self.commands.try_recv() {
                        Ok(Command::Send { dest, frame }) => {
                            let (dest, frame) = &*frames.alloc((dest, frame));
                            let p = proto.process_at_rank(*dest as i32);
                            pending.push(p.immediate_send_with_tag(scope, &frame.bytes[..], FRAME));
                            for payload in &frame.payloads {
                                let step = match payload.form() {
                                    Form::Str => max_message.min(STR_FRAGMENT),
                                    _ => max_message,
                                };
                                for chunk in payload.as_slice().chunks(step) {
                                    pending.push(p.immediate_send_with_tag(scope, chunk, PAYLOAD));
                                }
                            }
                        }
                        Ok(Command::Call(f)) => f(self.world),
                        Ok(Command::Abort(code)) => self.world.abort(code),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => self.closing = true,
                    }
                    took = true;
                }
                let before = pending.len();
                pending = pending.into_iter().filter_map(|r| r.test().err()).collect();
                let received = rx.poll(proto);
                let progress = took || received || pending.len() < before;
                busy |= progress;
                if pending.is_empty() {
                    return busy;
                }
                if progress {
                    idle = 0;
                } else {
                    idle = idle.saturating_add(1);
                    if idle > 64 {
                        std::thread::yield_now();
                    }
                }
            }
        })
    }
}

/// A frame whose payloads are still arriving, into the memory of their
/// values, which MPI fills (no zeroing pass before).
struct Partial {
    frame: Vec<u8>,
    bufs: Vec<Landing>,
    /// The payload being filled.
    index: usize,
}

impl Partial {
    /// Skips to the next payload that still needs bytes.
    fn settle(&mut self) {
        while self.index < self.bufs.len() && self.bufs[self.index].remaining() == 0 {
            self.index += 1;
        }
    }

    fn is_complete(&self) -> bool {
        self.index == self.bufs.len()
    }
}

struct Receiving {
    inbox: Sender<Incoming>,
    partial: HashMap<i32, Partial>,
    /// Maps the pages of large payloads while they arrive.
    prefaulter: Option<Prefaulter>,
}

impl Receiving {
    /// Receives one message if one is waiting.
    fn poll(&mut self, proto: &SimpleCommunicator) -> bool {
        let Some((msg, status)) = proto.any_process().immediate_matched_probe() else {
            return false;
        };
        let source = status.source_rank();
        let n = status.count(u8::equivalent_datatype()).max(0) as usize;
        if status.tag() == FRAME {
            let mut frame = vec![0_u8; n];
            msg.matched_receive_into(&mut frame[..]);
            // a frame that announces no payloads it can hold fails to
            // decode in the rank, which reports it
            let heads = payload_heads(&frame).unwrap_or_default();
            let mut p = Partial {
                frame,
                bufs: heads
                    .iter()
                    .map(|&(form, n)| {
                        let mut l = Landing::new(form, n as usize);
                        if let Some(p) = &self.prefaulter {
                            l.prefault(p);
                        }
                        l
                    })
                    .collect(),
                index: 0,
            };
            p.settle();
            if p.is_complete() {
                self.deliver(source, p);
            } else {
                self.partial.insert(source, p);
            }
        } else {
            self.fragment(source, msg, n);
        }
        true
    }

    fn fragment(&mut self, source: i32, msg: Message, n: usize) {
        let window = self
            .partial
            .get_mut(&source)
            .and_then(|p| p.bufs.get_mut(p.index))
            .and_then(|b| b.next(n));
        let Some(dst) = window else {
            // a fragment without its frame, or larger than what its
            // payload still needs: a bug; receive and drop it
            let mut sink = vec![0_u8; n];
            msg.matched_receive_into(&mut sink[..]);
            return;
        };
        // SAFETY: `dst` is `n` bytes of memory that this thread owns
        // exclusively (borrowed from the payload's landing), valid for
        // writes of `n` bytes of `u8`, whose datatype is `MPI_BYTE`;
        // uninitialized `u8` memory may be written through a raw pointer.
        // The buffer outlives the blocking receive below.
        let mut into = unsafe {
            DynBufferMut::from_raw(
                dst.as_mut_ptr().cast::<u8>(),
                n as mpi::Count,
                u8::equivalent_datatype(),
            )
        };
        // a message of exactly `n` bytes: MPI writes all of `dst`
        msg.matched_receive_into(&mut into);
        let Some(p) = self.partial.get_mut(&source) else {
            return;
        };
        let index = p.index;
        // SAFETY: the receive above wrote all `n` bytes of the window
        // `next(n)` returned, the last one taken from this landing
        unsafe { p.bufs[index].advance(n) };
        p.settle();
        if p.is_complete() {
            if let Some(p) = self.partial.remove(&source) {
                self.deliver(source, p);
            }
        }
    }

    /// Hands a complete frame to the rank.
    fn deliver(&mut self, source: i32, p: Partial) {
        debug_assert!(p.is_complete());
        // every landing is complete (`settle` moved past each only once
        // it had no byte left to fill)
        let payloads = p.bufs.into_iter().filter_map(|b| b.finish().ok()).collect();
        let _ = self.inbox.send(Incoming {
            source: source as u32,
            frame: p.frame,
            payloads,
        });
    }
}
