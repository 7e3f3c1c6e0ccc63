//! The ready set: the tasks whose inputs are all computed, ranked by
//! priority.
//!
//! Priorities are a permutation of `0..n`, so the set is a bitset over
//! priorities with summary levels above it (bit `i` of a level-`k+1` word
//! says whether word `i` of level `k` is non-zero). Insert and pop-min
//! touch one word per level — four levels cover 16 million tasks — and the
//! set costs an eighth of a byte per task, where a binary heap needs eight
//! bytes per ready task and a cache miss per level on pop. A fan whose
//! million leaves are all ready at the start pops in constant time.
//!
//! ```text
//! level 1:  0b0101                       words 0 and 2 of level 0 hold tasks
//! level 0:  [0b1000, 0, 0b0011, 0]       priorities 3, 128 and 129
//! pop_min:  level 1 -> word 0 -> bit 3   => 3
//! ```

/// A set of priorities `0..n` with insert and remove-the-smallest.
#[derive(Debug, Clone)]
pub(crate) struct ReadySet {
    /// `levels[0]` has one bit per priority; each next level one bit per
    /// word of the level below; the last level is a single word.
    levels: Vec<Vec<u64>>,
    len: usize,
}

impl ReadySet {
    /// An empty set for priorities `0..n`.
    pub(crate) fn new(n: usize) -> ReadySet {
        let mut levels = Vec::new();
        let mut words = n.div_ceil(64).max(1);
        loop {
            levels.push(vec![0_u64; words]);
            if words == 1 {
                break;
            }
            words = words.div_ceil(64);
        }
        ReadySet { levels, len: 0 }
    }

    /// How many priorities are in the set.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds priority `p` (which must not be in the set).
    pub(crate) fn insert(&mut self, p: u32) {
        let mut index = p as usize;
        for level in &mut self.levels {
            let word = &mut level[index / 64];
            let was_empty = *word == 0;
            *word |= 1 << (index % 64);
            if !was_empty {
                break;
            }
            index /= 64;
        }
        self.len += 1;
    }

    /// Removes and returns the smallest priority.
    pub(crate) fn pop_min(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let mut index = 0_usize;
        for level in self.levels.iter().rev() {
            let word = level[index];
            index = index * 64 + word.trailing_zeros() as usize;
        }
        let found = index;
        for level in &mut self.levels {
            let word = &mut level[index / 64];
            *word &= !(1 << (index % 64));
            if *word != 0 {
                break;
            }
            index /= 64;
        }
        self.len -= 1;
        Some(found as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::ReadySet;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn pops_in_increasing_order_across_levels() {
        let mut r = ReadySet::new(300_000);
        for p in [299_999, 5, 64, 4096, 262_143, 0, 63] {
            r.insert(p);
        }
        let mut out = Vec::new();
        while let Some(p) = r.pop_min() {
            out.push(p);
        }
        assert_eq!(out, vec![0, 5, 63, 64, 4096, 262_143, 299_999]);
        assert_eq!(r.len(), 0);
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(n in 1_usize..20_000, ops in prop::collection::vec((any::<bool>(), any::<u32>()), 0..400)) {
            let mut r = ReadySet::new(n);
            let mut model = BTreeSet::new();
            for (insert, x) in ops {
                let p = x % n as u32;
                if insert && !model.contains(&p) {
                    r.insert(p);
                    model.insert(p);
                } else {
                    prop_assert_eq!(r.pop_min(), model.pop_first());
                }
                prop_assert_eq!(r.len(), model.len());
            }
        }
    }
}
