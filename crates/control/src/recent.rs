//! The most recent blocked-flow samples, for `GET /v1/blocked`.

use std::collections::VecDeque;

use dataplane::SampleRecord;

/// A bounded ring of the newest samples; the oldest fall off.
#[derive(Debug)]
pub struct Recent {
    buf: VecDeque<SampleRecord>,
    capacity: usize,
    /// Samples ever added.
    pub total: u64,
}

impl Recent {
    /// A ring holding at most `capacity` samples (at least 1).
    pub fn new(capacity: usize) -> Recent {
        let capacity = capacity.max(1);
        Recent {
            buf: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            total: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Adds samples in the order they were drained (oldest first).
    pub fn extend(&mut self, records: &[SampleRecord]) {
        self.total += records.len() as u64;
        // Only the last `capacity` of a large batch can survive.
        let skip = records.len().saturating_sub(self.capacity);
        for r in &records[skip..] {
            if self.buf.len() == self.capacity {
                self.buf.pop_front();
            }
            self.buf.push_back(r.clone());
        }
    }

    /// Up to `limit` samples, newest first.
    pub fn latest(&self, limit: usize) -> Vec<SampleRecord> {
        self.buf.iter().rev().take(limit).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::record;

    #[test]
    fn keeps_the_newest_and_returns_them_newest_first() {
        let mut r = Recent::new(3);
        let recs: Vec<_> = (1..=5)
            .map(|i| record(&format!("198.51.100.{i}"), "p", false))
            .collect();
        r.extend(&recs[..2]);
        r.extend(&recs[2..]);
        assert_eq!(r.len(), 3);
        assert_eq!(r.total, 5);
        let got: Vec<String> = r.latest(10).iter().map(|s| s.src.to_string()).collect();
        assert_eq!(got, ["198.51.100.5", "198.51.100.4", "198.51.100.3"]);
        assert_eq!(r.latest(1).len(), 1);
        assert_eq!(r.latest(0).len(), 0);
    }

    #[test]
    fn a_batch_larger_than_the_ring_keeps_its_tail() {
        let mut r = Recent::new(2);
        let recs: Vec<_> = (1..=4)
            .map(|i| record(&format!("198.51.100.{i}"), "p", false))
            .collect();
        r.extend(&recs);
        let got: Vec<String> = r.latest(5).iter().map(|s| s.src.to_string()).collect();
        assert_eq!(got, ["198.51.100.4", "198.51.100.3"]);
    }
}
