//! Tokens: deterministic names of arrays, made from the operation and its
//! inputs, so that the same program builds the same keys in every run (and
//! on every MPI rank), and two equal expressions share their tasks.
//!
//! A token is 128 bits of a keyed multiply-rotate hash over the words
//! written into a [`Tokenizer`]; no randomness, no counter.

use std::fmt::Write as _;

const P1: u64 = 0x9E37_79B9_7F4A_7C15;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// Builds the name `op-<32 hex digits>` of an array from what defines it.
#[derive(Debug, Clone)]
pub(crate) struct Tokenizer {
    op: &'static str,
    a: u64,
    b: u64,
}

fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Tokenizer {
    /// A tokenizer for operation `op` (the name's prefix).
    pub(crate) fn new(op: &'static str) -> Tokenizer {
        let mut t = Tokenizer {
            op,
            a: 0x243F_6A88_85A3_08D3,
            b: 0x1319_8A2E_0370_7344,
        };
        t.str(op);
        t
    }

    /// Mixes one word.
    pub(crate) fn u64(&mut self, w: u64) -> &mut Tokenizer {
        self.a = (self.a ^ w).wrapping_mul(P1).rotate_left(29);
        self.b = (self.b ^ w.rotate_left(17))
            .wrapping_mul(P2)
            .rotate_left(31)
            ^ self.a;
        self
    }

    /// Mixes a string (its length, then its bytes).
    pub(crate) fn str(&mut self, s: &str) -> &mut Tokenizer {
        self.bytes(s.as_bytes())
    }

    /// Mixes bytes (their length, then the bytes, 8 at a time).
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> &mut Tokenizer {
        self.u64(bytes.len() as u64);
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.u64(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = words.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.u64(u64::from_le_bytes(tail))
    }

    /// Mixes a list of integers (its length first).
    pub(crate) fn usizes(&mut self, v: &[usize]) -> &mut Tokenizer {
        self.u64(v.len() as u64);
        for &x in v {
            self.u64(x as u64);
        }
        self
    }

    /// Mixes a chunk grid.
    pub(crate) fn chunks(&mut self, chunks: &[Vec<usize>]) -> &mut Tokenizer {
        self.u64(chunks.len() as u64);
        for c in chunks {
            self.usizes(c);
        }
        self
    }

    /// The name: `op-` and 32 hexadecimal digits.
    pub(crate) fn finish(&self) -> String {
        let x = avalanche(self.a ^ avalanche(self.b));
        let y = avalanche(self.b.wrapping_add(x));
        let mut s = String::with_capacity(self.op.len() + 33);
        s.push_str(self.op);
        s.push('-');
        let _ = write!(s, "{x:016x}{y:016x}");
        s
    }
}

impl Tokenizer {
    /// The 32 hexadecimal digits alone.
    pub(crate) fn hex(&self) -> String {
        let name = self.finish();
        name[self.op.len() + 1..].to_string()
    }
}
