//! Large values in memory as they cross ranks, without copies: the bytes a
//! value is sent from and the buffer it is received into.
//!
//! - A string is sent from its own bytes, a `Vec<f64>` or `Vec<i64>` from
//!   its own words (on little-endian machines, where they are the wire's
//!   little-endian words): no encoding pass, no second buffer.
//! - The receiver learns each payload's [`Form`] and length from the frame
//!   before the payload arrives, allocates the memory of the final value
//!   once (an `Arc<[u8]>` that becomes the `Arc<str>`, or the `Vec` itself)
//!   and MPI receives straight into it ([`Landing`]); the value is then
//!   built around that memory ([`Body`], [`into_str`]): nothing copies the
//!   bytes. A string's bytes are validated as UTF-8 as they land, window
//!   by window (MPI messages of at most [`STR_FRAGMENT`] bytes), while they
//!   are still in the cache, rather than in a pass over the whole string
//!   from memory once it arrived.
//! - Fresh memory costs a page fault per page on first touch, which for a
//!   large buffer costs more than the transfer itself: a buffer of
//!   [`HUGE_BYTES`] or more is advised to use transparent huge pages
//!   (`madvise(MADV_HUGEPAGE)`, Linux), 512 times fewer faults (the
//!   transfer benchmark in docs/mpi.md measures the difference), whose
//!   pages a thread of their own maps while the receive fills them (see
//!   `prefault.rs`).

use std::mem::MaybeUninit;
use std::sync::Arc;

use rask_graph::Value;

use crate::prefault::{Prefaulter, Ticket};

/// What a payload holds, which decides the memory it is received into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// Bytes: a value encoded by the codec.
    Bytes,
    /// A string's UTF-8 bytes, validated as they land.
    Str,
    /// The little-endian words of a `Vec<f64>`.
    F64,
    /// The little-endian words of a `Vec<i64>`.
    I64,
}

impl Form {
    pub(crate) fn code(self) -> u8 {
        match self {
            Form::Bytes => 0,
            Form::F64 => 1,
            Form::I64 => 2,
            Form::Str => 3,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Form> {
        match code {
            0 => Some(Form::Bytes),
            1 => Some(Form::F64),
            2 => Some(Form::I64),
            3 => Some(Form::Str),
            _ => None,
        }
    }
}

/// A payload that arrived, in the memory it was received into.
#[derive(Debug)]
pub(crate) enum Body {
    Bytes(Arc<[u8]>),
    /// Bytes of form [`Form::Str`] that landed valid UTF-8.
    Str(Arc<str>),
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl Body {
    /// Its size on the wire.
    pub(crate) fn len(&self) -> usize {
        match self {
            Body::Bytes(b) => b.len(),
            Body::Str(s) => s.len(),
            Body::F64(v) => v.len() * 8,
            Body::I64(v) => v.len() * 8,
        }
    }

    /// A body of `form` holding a copy of `bytes` (for links that do not
    /// receive into a [`Landing`], such as the tests' in-process one);
    /// words of a length that is not a multiple of 8 stay bytes.
    #[cfg(test)]
    pub(crate) fn copy_of(form: Form, bytes: &[u8]) -> Body {
        let mut landing = Landing::new(form, bytes.len());
        if let Some(dst) = landing.next(bytes.len()) {
            for (d, &s) in dst.iter_mut().zip(bytes) {
                d.write(s);
            }
            // SAFETY: the loop wrote every byte of the window
            unsafe { landing.advance(bytes.len()) };
        }
        match landing.finish() {
            Ok(body) => body,
            Err(_) => unreachable!("a landing filled with all its bytes is complete"),
        }
    }
}

/// The form and bytes of a value that travels from its own memory: a
/// `Vec<f64>` or `Vec<i64>` on a little-endian machine.
pub(crate) fn words_of(value: &Value) -> Option<(Form, &[u8])> {
    if cfg!(target_endian = "big") {
        return None;
    }
    if let Some(v) = value.downcast_ref::<Vec<f64>>() {
        // SAFETY: `f64` has no padding and no invalid bit patterns as
        // bytes; the slice covers exactly the vector's initialized
        // elements and borrows the vector
        return Some((Form::F64, unsafe {
            std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 8)
        }));
    }
    if let Some(v) = value.downcast_ref::<Vec<i64>>() {
        // SAFETY: as above, for `i64`
        return Some((Form::I64, unsafe {
            std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 8)
        }));
    }
    None
}

/// The value of a body of words, without copying it (on a big-endian
/// machine, after putting the little-endian words in its byte order);
/// `None` for a body of bytes.
pub(crate) fn words_value(body: Body) -> Option<Value> {
    match body {
        Body::F64(mut v) => {
            if cfg!(target_endian = "big") {
                for x in &mut v {
                    *x = f64::from_bits(u64::from_le(x.to_bits()));
                }
            }
            Some(Value::opaque(v))
        }
        Body::I64(mut v) => {
            if cfg!(target_endian = "big") {
                for x in &mut v {
                    *x = i64::from_le(*x);
                }
            }
            Some(Value::opaque(v))
        }
        Body::Bytes(_) | Body::Str(_) => None,
    }
}

/// The string whose UTF-8 bytes `bytes` holds, sharing its allocation.
/// Without this a 100 MB string that arrived from another rank would be
/// copied once more into a new `Arc<str>` (the transfer benchmark in the
/// docs/mpi.md measures the difference).
pub(crate) fn into_str(bytes: Arc<[u8]>) -> Result<Arc<str>, String> {
    std::str::from_utf8(&bytes).map_err(|e| format!("a string payload is not UTF-8: {e}"))?;
    // SAFETY: checked just above
    Ok(unsafe { into_str_unchecked(bytes) })
}

/// The string `bytes` holds, sharing its allocation.
///
/// # Safety
/// `bytes` is UTF-8.
unsafe fn into_str_unchecked(bytes: Arc<[u8]>) -> Arc<str> {
    let raw = Arc::into_raw(bytes) as *const str;
    // SAFETY: `str` has the layout of `[u8]`, so the pointer (with the same
    // length metadata) comes from `Arc::into_raw` of an `Arc` of a type of
    // the same size and alignment, as `Arc::from_raw` requires, and the
    // caller promises UTF-8
    unsafe { Arc::from_raw(raw) }
}

/// A string payload larger than this travels in MPI messages of this size
/// (or `max_message`, if smaller): the receiver validates each as it
/// lands, while it is still in the cache, rather than the whole string
/// after the last byte arrived, from memory.
pub(crate) const STR_FRAGMENT: usize = 4 << 20;

/// Buffers at least this large are advised to use huge pages.
pub(crate) const HUGE_BYTES: usize = 4 << 20;

/// The memory a payload is received into, which becomes the value: bytes
/// are filled front to back, in windows (MPI messages of any size).
#[derive(Debug)]
pub(crate) struct Landing {
    /// The prefaulting of `buf`, if any: first, so that it is dropped (and
    /// waits for the thread to leave the memory) before `buf` is.
    ticket: Option<Ticket>,
    buf: Buf,
    len: usize,
    filled: usize,
    /// For [`Form::Str`]: the bytes known to be valid UTF-8, up to a
    /// character boundary, and whether an invalid sequence was seen.
    checked: usize,
    invalid: bool,
}

#[derive(Debug)]
enum Buf {
    Bytes(Arc<[MaybeUninit<u8>]>),
    Str(Arc<[MaybeUninit<u8>]>),
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl Landing {
    /// Uninitialized memory for `len` bytes of `form` (words whose length
    /// is not a multiple of 8 land as bytes, which the decoder rejects).
    pub(crate) fn new(form: Form, len: usize) -> Landing {
        let words = len.is_multiple_of(8);
        let mut buf = match form {
            Form::F64 if words => Buf::F64(Vec::with_capacity(len / 8)),
            Form::I64 if words => Buf::I64(Vec::with_capacity(len / 8)),
            Form::Str => Buf::Str(Arc::new_uninit_slice(len)),
            _ => Buf::Bytes(Arc::new_uninit_slice(len)),
        };
        if len >= HUGE_BYTES {
            let ptr = match &mut buf {
                Buf::Bytes(b) | Buf::Str(b) => b.as_ptr().cast::<u8>(),
                Buf::F64(v) => v.as_ptr().cast::<u8>(),
                Buf::I64(v) => v.as_ptr().cast::<u8>(),
            };
            advise_huge_pages(ptr as usize, len);
        }
        Landing {
            ticket: None,
            buf,
            len,
            filled: 0,
            checked: 0,
            invalid: false,
        }
    }

    /// Has `prefaulter` map the pages of a buffer of [`HUGE_BYTES`] or more
    /// while it is being filled.
    pub(crate) fn prefault(&mut self, prefaulter: &Prefaulter) {
        if self.len < HUGE_BYTES || self.filled > 0 {
            return;
        }
        let ptr = match &self.buf {
            Buf::Bytes(b) | Buf::Str(b) => b.as_ptr().cast::<u8>(),
            Buf::F64(v) => v.as_ptr().cast::<u8>(),
            Buf::I64(v) => v.as_ptr().cast::<u8>(),
        };
        // the buffer lives (and is written only through this landing)
        // until the ticket is dropped, which `ticket` being the first
        // field ensures
        self.ticket = prefaulter.prefault(ptr as usize, self.len);
    }

    /// Bytes still to fill.
    pub(crate) fn remaining(&self) -> usize {
        self.len - self.filled
    }

    /// The next `n` bytes to fill, or `None` if fewer remain.
    pub(crate) fn next(&mut self, n: usize) -> Option<&mut [MaybeUninit<u8>]> {
        if n > self.remaining() {
            return None;
        }
        let at = self.filled;
        let all: &mut [MaybeUninit<u8>] = match &mut self.buf {
            Buf::Bytes(b) | Buf::Str(b) => Arc::get_mut(b)?,
            Buf::F64(v) => as_bytes(v.spare_capacity_mut()),
            Buf::I64(v) => as_bytes(v.spare_capacity_mut()),
        };
        all.get_mut(at..at + n)
    }

    /// Counts the window of `n` bytes last returned by [`Landing::next`]
    /// as filled.
    ///
    /// # Safety
    /// Every byte of that window was written.
    pub(crate) unsafe fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.remaining());
        self.filled = (self.filled + n).min(self.len);
        if let Buf::Str(b) = &self.buf {
            if self.invalid {
                return;
            }
            let new = &b[self.checked..self.filled];
            // SAFETY: the first `filled` bytes were written (the caller's
            // promise, and the windows before); `MaybeUninit<u8>` has the
            // layout of `u8`
            let new = unsafe { std::slice::from_raw_parts(new.as_ptr().cast::<u8>(), new.len()) };
            match std::str::from_utf8(new) {
                Ok(_) => self.checked = self.filled,
                // a character cut at the end of the window: the rest of it
                // comes with the next one
                Err(e) if e.error_len().is_none() => self.checked += e.valid_up_to(),
                Err(_) => self.invalid = true,
            }
        }
    }

    /// The body, once every byte was filled; the landing itself before.
    pub(crate) fn finish(mut self) -> Result<Body, Landing> {
        if self.filled != self.len {
            return Err(self);
        }
        // the prefaulting thread leaves the memory before it is a value
        drop(self.ticket.take());
        // SAFETY (all arms): every byte of the first `len` bytes was
        // written, in windows whose writers promised so to `advance`
        // (windows are consecutive from byte 0 and `filled` counts them)
        Ok(match self.buf {
            Buf::Bytes(b) => Body::Bytes(unsafe { b.assume_init() }),
            Buf::Str(b) => {
                let b = unsafe { b.assume_init() };
                if !self.invalid && self.checked == self.len {
                    // SAFETY: every byte was checked to be UTF-8, in
                    // windows that end at character boundaries
                    Body::Str(unsafe { into_str_unchecked(b) })
                } else {
                    // the decoder validates it again and reports the error
                    Body::Bytes(b)
                }
            }
            Buf::F64(mut v) => {
                unsafe { v.set_len(self.len / 8) };
                Body::F64(v)
            }
            Buf::I64(mut v) => {
                unsafe { v.set_len(self.len / 8) };
                Body::I64(v)
            }
        })
    }
}

/// The uninitialized spare capacity of a vector of 8-byte words as bytes.
fn as_bytes<W>(words: &mut [MaybeUninit<W>]) -> &mut [MaybeUninit<u8>] {
    let n = std::mem::size_of_val(words);
    // SAFETY: the same memory, exclusively borrowed for the same lifetime;
    // `MaybeUninit<u8>` has alignment 1 and no validity requirement
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<MaybeUninit<u8>>(), n) }
}

/// Asks the kernel to back the 2 MiB-aligned part of `[addr, addr + len)`
/// with transparent huge pages (Linux; advice only, never an error: the
/// kernel may have them disabled). The range is memory of a live
/// allocation that nothing has touched yet.
fn advise_huge_pages(addr: usize, len: usize) {
    /// `MADV_HUGEPAGE` of Linux's architectures (asm-generic/mman-common.h).
    const MADV_HUGEPAGE: std::ffi::c_int = 14;
    const HUGE: usize = 2 << 20;
    let start = addr.div_ceil(HUGE) * HUGE;
    let end = (addr + len) / HUGE * HUGE;
    if end > start {
        // whole pages of a live allocation; MADV_HUGEPAGE changes no byte
        // of memory, and is only advice: a refusal is no error
        let _ = crate::prefault::advise(start, end - start, MADV_HUGEPAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_share_the_buffer() {
        let s: Arc<str> = Arc::from("héllo");
        let b = Arc::<[u8]>::from(s);
        let ptr = b.as_ptr();
        let back = into_str(b).unwrap();
        assert_eq!(&*back, "héllo");
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let b: Arc<[u8]> = Arc::from(&[0xff_u8, 0xfe][..]);
        assert!(into_str(b).unwrap_err().contains("not UTF-8"));
    }

    /// Fills a landing of `form` with `bytes` in windows of `step` bytes.
    fn land(form: Form, bytes: &[u8], step: usize) -> Body {
        let mut l = Landing::new(form, bytes.len());
        let mut at = 0;
        while at < bytes.len() {
            let n = step.min(bytes.len() - at);
            let dst = l.next(n).unwrap();
            for (d, &s) in dst.iter_mut().zip(&bytes[at..at + n]) {
                d.write(s);
            }
            unsafe { l.advance(n) };
            at += n;
            if at < bytes.len() {
                l = l.finish().unwrap_err();
            }
        }
        l.finish().unwrap()
    }

    #[test]
    fn words_land_in_the_vector_in_any_windows() {
        let v: Vec<f64> = (0..100_003).map(|i| i as f64 * 0.5 - 7.0).collect();
        let value = Value::opaque(v.clone());
        let (form, bytes) = words_of(&value).unwrap();
        assert_eq!(form, Form::F64);
        // windows that split words, as fragments of any size do
        for step in [1, 7, 8, 4099, bytes.len()] {
            let back = words_value(land(form, bytes, step)).unwrap();
            assert_eq!(back.downcast_ref::<Vec<f64>>(), Some(&v));
        }
        let w: Vec<i64> = (0..HUGE_BYTES as i64 / 8 + 3).map(|i| i * -3).collect();
        let value = Value::opaque(w.clone());
        let (form, bytes) = words_of(&value).unwrap();
        assert_eq!(form, Form::I64);
        let back = words_value(land(form, bytes, 1 << 20)).unwrap();
        assert_eq!(back.downcast_ref::<Vec<i64>>(), Some(&w));
    }

    #[test]
    fn empty_and_odd_payloads() {
        let empty = words_value(land(Form::F64, &[], 8)).unwrap();
        assert_eq!(empty.downcast_ref::<Vec<f64>>(), Some(&Vec::new()));
        // words of a length that is not a multiple of 8 stay bytes
        assert!(matches!(land(Form::I64, &[1, 2, 3], 2), Body::Bytes(_)));
        let odd = "é".repeat(HUGE_BYTES / 2 + 1) + "x";
        let Body::Bytes(b) = land(Form::Bytes, odd.as_bytes(), 999_999) else {
            panic!("bytes")
        };
        assert_eq!(&*into_str(b).unwrap(), odd);
    }

    #[test]
    fn strings_are_validated_as_they_land() {
        let s = "aé€😀".repeat(1000) + "z";
        // windows that cut characters anywhere
        for step in [1, 2, 3, 5, 4096, s.len()] {
            let Body::Str(back) = land(Form::Str, s.as_bytes(), step) else {
                panic!("not validated in windows of {step}")
            };
            assert_eq!(&*back, s);
        }
        // invalid anywhere, or cut short at the very end: bytes, which the
        // decoder rejects with the UTF-8 error
        let mut bad = s.clone().into_bytes();
        bad[1001] = 0xff;
        let cut = &s.as_bytes()[..s.len() - 2];
        for b in [&bad[..], &[0xe2, 0x82][..], cut] {
            for step in [1, 7, b.len().max(1)] {
                let Body::Bytes(got) = land(Form::Str, b, step) else {
                    panic!("invalid UTF-8 validated")
                };
                assert!(into_str(got).is_err());
            }
        }
        assert!(matches!(land(Form::Str, b"", 1), Body::Str(e) if e.is_empty()));
    }

    #[test]
    fn windows_past_the_end_are_refused() {
        let mut l = Landing::new(Form::Bytes, 10);
        assert!(l.next(11).is_none());
        assert_eq!(l.next(10).unwrap().len(), 10);
        assert!(l.finish().is_err());
        assert!(matches!(
            Body::copy_of(Form::F64, &[0; 16]),
            Body::F64(v) if v == [0.0, 0.0]
        ));
        assert!(words_of(&Value::from("no words")).is_none());
    }
}
