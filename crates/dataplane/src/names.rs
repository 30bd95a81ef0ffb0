//! Pool names of the current and the most recently retired generations, so
//! the control core can name the pool of every sample it drains.
//!
//! A worker records a pool by its id, which means something only within the
//! generation that classified the frame. Samples wait in the rings for a
//! control-loop tick or more, and several publications can happen between two
//! drains, so a sample is often drained after its generation retired. Naming
//! it by the retired generation's own names keeps the blocked-flow log and
//! `GET /v1/top` right, and keeps the set of distinct pool labels bounded by
//! the pool names actually configured (a label per generation made the top-N
//! window grow with every swap).
//!
//! Bound: the names of [`KEPT_GENERATIONS`] generations at most (the current
//! one included). A sample from an older generation (only after the control
//! loop stopped draining for that many publications) is labelled
//! `#ID (generation N)`.

use std::collections::VecDeque;
use std::sync::Arc;

/// Generations whose pool names are kept, the current one included. The
/// control loop publishes at most 17 times between two drains (16 queued
/// requests and a SIGHUP per tick), so 64 leaves a wide margin; at 100 pools
/// of 32-byte names the whole history is about 300 KiB.
pub const KEPT_GENERATIONS: usize = 64;

/// The pool names of the last few generations, newest last.
#[derive(Debug, Clone)]
pub struct PoolNames {
    kept: VecDeque<(u64, Arc<[String]>)>,
    capacity: usize,
}

impl Default for PoolNames {
    fn default() -> Self {
        PoolNames::new(KEPT_GENERATIONS)
    }
}

impl PoolNames {
    /// A history of at most `capacity` generations (at least 1).
    pub fn new(capacity: usize) -> PoolNames {
        let capacity = capacity.max(1);
        PoolNames {
            kept: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Records the names of `generation` (pool id = index), forgetting the
    /// oldest generation once `capacity` are kept.
    pub fn push(&mut self, generation: u64, names: Vec<String>) {
        if self.kept.len() == self.capacity {
            self.kept.pop_front();
        }
        self.kept.push_back((generation, names.into()));
    }

    /// Generations kept now.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The names of `generation`, if it is still kept.
    pub fn of(&self, generation: u64) -> Option<&[String]> {
        // Newest first: nearly every sample is from the current generation.
        self.kept
            .iter()
            .rev()
            .find(|(g, _)| *g == generation)
            .map(|(_, n)| &**n)
    }

    /// The name of pool `pool` of `generation`; `#ID (generation N)` when that
    /// generation is no longer kept (or the id is out of range, which a worker
    /// never records).
    pub fn resolve(&self, generation: u64, pool: u16) -> String {
        match self
            .of(generation)
            .and_then(|names| names.get(usize::from(pool)))
        {
            Some(name) => name.clone(),
            None => format!("#{pool} (generation {generation})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_sample_of_a_retired_generation_gets_that_generations_name() {
        let mut n = PoolNames::new(4);
        n.push(1, names(&["ftth", "mobile"]));
        n.push(2, names(&["mobile", "ftth"]));
        // Pool 0 is a different pool in each generation.
        assert_eq!(n.resolve(1, 0), "ftth");
        assert_eq!(n.resolve(2, 0), "mobile");
        assert_eq!(n.resolve(1, 1), "mobile");
    }

    #[test]
    fn keeps_a_bounded_history_and_labels_older_samples_by_id() {
        let mut n = PoolNames::new(3);
        for g in 1..=1000 {
            n.push(g, names(&["dyn"]));
        }
        assert_eq!(n.len(), 3);
        assert_eq!(n.resolve(1000, 0), "dyn");
        assert_eq!(n.resolve(998, 0), "dyn");
        assert_eq!(n.resolve(997, 0), "#0 (generation 997)");
        assert_eq!(n.resolve(1000, 7), "#7 (generation 1000)");
    }

    #[test]
    fn distinct_labels_stay_bounded_by_the_configured_names_across_swaps() {
        // The soak's leak: each swap turned the samples still in the rings
        // into a new label `#0 (generation N)`, which the top-N window then
        // kept per subscriber for its whole window.
        let mut n = PoolNames::default();
        let mut labels = std::collections::BTreeSet::new();
        for g in 1..=5000u64 {
            n.push(g, names(&["ftth-dynamic", "mobile"]));
            // Samples drained after the next publication.
            if g > 1 {
                labels.insert(n.resolve(g - 1, (g % 2) as u16));
            }
            labels.insert(n.resolve(g, 0));
        }
        assert_eq!(
            labels.into_iter().collect::<Vec<_>>(),
            ["ftth-dynamic", "mobile"]
        );
    }
}
