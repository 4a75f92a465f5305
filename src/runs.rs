//! Sorting a write's version-index entries when they may not fit in memory.
//!
//! A write inserts its version entries after its log records, in key order
//! (see [`crate::append`]). Up to `run_entries` entries are kept in memory;
//! each time the buffer fills, it is sorted and written to an unnamed
//! temporary file (gone when closed, even after a crash), and
//! [`SortedRuns::finish`] merges the runs.
//!
//! Hand-written rather than taken from the `extsort` crate: extsort 0.5.0
//! returns nothing at all when the number of items is an exact multiple of
//! its segment size plus one (its `done` ignores the spilled segments when
//! the in-memory buffer happens to be empty), and it brings 18 crates.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use crate::index::IndexEntry;

/// Entries pushed in any order, given back sorted by [`SortedRuns::finish`].
pub struct SortedRuns {
    run_entries: usize,
    buffer: Vec<IndexEntry>,
    runs: Vec<BufReader<File>>,
}

impl SortedRuns {
    /// Keeps at most `run_entries` entries (at least one) in memory.
    pub fn new(run_entries: usize) -> SortedRuns {
        SortedRuns {
            run_entries: run_entries.max(1),
            buffer: Vec::new(),
            runs: Vec::new(),
        }
    }

    /// Adds an entry; writes a sorted run to a temporary file when the
    /// buffer is full.
    pub fn push(&mut self, entry: IndexEntry) -> io::Result<()> {
        self.buffer.push(entry);
        if self.buffer.len() >= self.run_entries {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort_unstable();
        let mut w = BufWriter::new(tempfile::tempfile()?);
        for (k, v) in self.buffer.drain(..) {
            write_part(&mut w, &k)?;
            write_part(&mut w, &v)?;
        }
        let mut file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(BufReader::new(file));
        Ok(())
    }

    /// Every entry pushed, in ascending order.
    pub fn finish(mut self) -> io::Result<Merge> {
        self.buffer.sort_unstable();
        let mut merge = Merge {
            memory: std::mem::take(&mut self.buffer).into_iter(),
            runs: self.runs,
            heads: BinaryHeap::new(),
        };
        for source in 0..=merge.runs.len() {
            merge.refill(source)?;
        }
        Ok(merge)
    }
}

/// The sorted entries of a [`SortedRuns`]: a k-way merge of its runs.
pub struct Merge {
    /// The entries that were never spilled, sorted: source `runs.len()`.
    memory: std::vec::IntoIter<IndexEntry>,
    runs: Vec<BufReader<File>>,
    /// The smallest unread entry of each source that has one.
    heads: BinaryHeap<Reverse<(IndexEntry, usize)>>,
}

impl Merge {
    fn refill(&mut self, source: usize) -> io::Result<()> {
        let next = match self.runs.get_mut(source) {
            Some(run) => read_entry(run)?,
            None => self.memory.next(),
        };
        if let Some(entry) = next {
            self.heads.push(Reverse((entry, source)));
        }
        Ok(())
    }
}

impl Iterator for Merge {
    type Item = io::Result<IndexEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((entry, source)) = self.heads.pop()?;
        Some(self.refill(source).map(|()| entry))
    }
}

fn write_part(w: &mut impl Write, part: &[u8]) -> io::Result<()> {
    let len = u32::try_from(part.len()).map_err(|_| io::Error::other("index entry too long"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(part)
}

/// The next entry of a run; `None` at its end.
fn read_entry(r: &mut impl Read) -> io::Result<Option<IndexEntry>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut key = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut key)?;
    r.read_exact(&mut len)?;
    let mut value = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut value)?;
    Ok(Some((key, value)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sorted(entries: Vec<IndexEntry>, run_entries: usize) -> Vec<IndexEntry> {
        let mut runs = SortedRuns::new(run_entries);
        for e in entries {
            runs.push(e).unwrap();
        }
        runs.finish().unwrap().map(Result::unwrap).collect()
    }

    proptest! {
        /// Whatever the run size, including counts that are exact multiples
        /// of it, the merge gives back every entry, in order.
        #[test]
        fn merge_equals_a_plain_sort(
            entries in prop::collection::vec(
                (prop::collection::vec(any::<u8>(), 0..6), prop::collection::vec(any::<u8>(), 0..3)),
                0..200,
            ),
            run_entries in 1usize..40,
        ) {
            let mut expected = entries.clone();
            expected.sort();
            prop_assert_eq!(sorted(entries, run_entries), expected);
        }
    }

    #[test]
    fn exact_multiples_of_the_run_size_lose_nothing() {
        for n in [0usize, 1, 7, 8, 14, 16, 56, 64] {
            let entries: Vec<IndexEntry> = (0..n as u32)
                .rev()
                .map(|i| (i.to_be_bytes().to_vec(), vec![1]))
                .collect();
            let out = sorted(entries.clone(), 8);
            assert_eq!(out.len(), n, "{n} entries");
            assert!(out.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
