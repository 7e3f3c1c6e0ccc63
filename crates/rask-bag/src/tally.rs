//! Counting the distinct items of one partition, for `frequencies`: a
//! plain hash table while counting, handed on as a map in the order the
//! items first appear.
//!
//! An ordered map (`IndexMap`) reaches an entry through its index table
//! and then its entry list, one memory access more per item than a plain
//! table, which matters when there are many distinct items (a hundred
//! thousand logins do not fit a core's cache). So the counting uses a
//! plain table that remembers each item's first position, and the order
//! is made once per distinct item at the end.

use std::hash::{BuildHasher, Hash};

use hashbrown::hash_table::{Entry as Slot, HashTable};
use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use rustc_hash::FxBuildHasher;

use crate::reduce::OrderedMap;

/// One distinct item: its count, its hash, and its first position among
/// the distinct items.
struct Counted<T> {
    item: T,
    hash: u64,
    count: u64,
    first: usize,
}

/// The counts of the items seen so far.
pub(crate) struct Tally<T> {
    table: HashTable<Counted<T>>,
}

impl<T: Hash + Eq> Tally<T> {
    /// Room for `n` distinct items before the table grows.
    pub(crate) fn with_capacity(n: usize) -> Tally<T> {
        Tally {
            table: HashTable::with_capacity(n),
        }
    }

    /// The number of distinct items.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Counts `item`.
    #[inline]
    pub(crate) fn add(&mut self, item: T) {
        let hash = FxBuildHasher.hash_one(&item);
        let first = self.table.len();
        match self.table.entry(hash, |c| c.item == item, |c| c.hash) {
            Slot::Occupied(mut c) => c.get_mut().count += 1,
            Slot::Vacant(v) => {
                v.insert(Counted {
                    item,
                    hash,
                    count: 1,
                    first,
                });
            }
        }
    }

    /// Counts a lent `item`, copying it only when it is new.
    #[inline]
    pub(crate) fn add_ref(&mut self, item: &T)
    where
        T: Clone,
    {
        let hash = FxBuildHasher.hash_one(item);
        match self.table.find_mut(hash, |c| c.item == *item) {
            Some(c) => c.count += 1,
            None => {
                let first = self.table.len();
                self.table.insert_unique(
                    hash,
                    Counted {
                        item: item.clone(),
                        hash,
                        count: 1,
                        first,
                    },
                    |c| c.hash,
                );
            }
        }
    }

    /// The counts, in the order the items first appeared.
    pub(crate) fn into_ordered(self) -> OrderedMap<T, u64> {
        let n = self.table.len();
        let mut in_order: Vec<Option<Counted<T>>> =
            std::iter::repeat_with(|| None).take(n).collect();
        for c in self.table {
            let at = c.first;
            in_order[at] = Some(c);
        }
        let mut map = OrderedMap::with_capacity_and_hasher(n, FxBuildHasher);
        for c in in_order.into_iter().flatten() {
            // each item is distinct: no comparison needed
            if let RawEntryMut::Vacant(v) = map.raw_entry_mut_v1().from_hash(c.hash, |_| false) {
                v.insert_hashed_nocheck(c.hash, c.item, c.count);
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_the_order_items_first_appear() {
        let items = ["b", "a", "b", "c", "a", "b", "d"];
        let mut owned = Tally::with_capacity(0);
        let mut lent = Tally::with_capacity(2);
        for x in items {
            owned.add(x.to_string());
            lent.add_ref(&x.to_string());
        }
        let want = [("b", 3), ("a", 2), ("c", 1), ("d", 1)];
        for tally in [owned, lent] {
            let got: Vec<(String, u64)> = tally.into_ordered().into_iter().collect();
            let want: Vec<(String, u64)> = want.iter().map(|&(k, n)| (k.to_string(), n)).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn the_ordered_map_finds_every_item() {
        let mut t = Tally::with_capacity(0);
        for i in 0..10_000_u64 {
            t.add(i * 7 % 1000);
        }
        let m = t.into_ordered();
        assert_eq!(m.len(), 1000);
        for k in 0..1000_u64 {
            assert_eq!(m.get(&k), Some(&10), "{k}");
        }
        assert_eq!(m.get_index(1), Some((&7, &10)));
    }
}
