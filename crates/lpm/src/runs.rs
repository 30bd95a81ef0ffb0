//! The answer function of a prefix set as a sorted list of runs.
//!
//! Prefixes are given as closed intervals `lo..=end` of a 128-bit position space
//! (an IPv4 address `a` is position `a << 96`, an IPv6 address is itself), each with a
//! leaf id. The longest prefix containing a position is the innermost interval, so a
//! sweep in `(lo ascending, length ascending)` order with a stack of open intervals
//! yields, for every position, the id of the longest prefix containing it (`0` where
//! none does).

/// Runs of equal answers: `starts[i]..starts[i + 1]` is answered by `ids[i]`.
/// `starts[0] == 0`, starts strictly increase, adjacent ids differ.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    pub starts: Vec<u128>,
    pub ids: Vec<u32>,
}

impl Runs {
    /// `prefixes`: `(lo, end, id)` closed intervals of properly nested prefixes (any
    /// two are disjoint or one contains the other), ids non-zero, no interval twice.
    pub(crate) fn from_prefixes(mut prefixes: Vec<(u128, u128, u32)>) -> Runs {
        // Outer (longer interval) first when two start at the same position.
        prefixes.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut runs = Runs {
            starts: vec![0],
            ids: vec![0],
        };
        let mut open: Vec<(u128, u32)> = Vec::new();
        for (lo, end, id) in prefixes {
            while let Some(&(top_end, _)) = open.last() {
                if top_end >= lo {
                    break;
                }
                open.pop();
                // top_end < lo, so top_end + 1 cannot overflow.
                runs.emit(top_end + 1, open.last().map_or(0, |t| t.1));
            }
            runs.emit(lo, id);
            open.push((end, id));
        }
        while let Some((top_end, _)) = open.pop() {
            if top_end != u128::MAX {
                runs.emit(top_end + 1, open.last().map_or(0, |t| t.1));
            }
        }
        runs
    }

    /// Starts a run answered by `id` at `pos` (never before the last start).
    fn emit(&mut self, pos: u128, id: u32) {
        let last = self.starts.len() - 1;
        if self.starts[last] == pos {
            self.ids[last] = id;
            if last > 0 && self.ids[last - 1] == id {
                self.starts.pop();
                self.ids.pop();
            }
        } else if self.ids[last] != id {
            self.starts.push(pos);
            self.ids.push(id);
        }
    }

    /// The index of the run containing `pos`.
    pub(crate) fn find(&self, pos: u128) -> usize {
        self.starts.partition_point(|&s| s <= pos) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_prefixes_give_innermost_answers_and_merge_nothing_across_ids() {
        // 0..=99 id 1, inside it 10..=19 id 2, inside that 10..=10 id 3; 200..=255 id 4.
        let r = Runs::from_prefixes(vec![(10, 19, 2), (0, 99, 1), (200, 255, 4), (10, 10, 3)]);
        assert_eq!(r.starts, vec![0, 10, 11, 20, 100, 200, 256]);
        assert_eq!(r.ids, vec![1, 3, 2, 1, 0, 4, 0]);
        assert_eq!(r.find(15), 2);
        assert_eq!(r.find(u128::MAX), 6);
    }

    #[test]
    fn full_space_prefix_has_no_trailing_run() {
        let r = Runs::from_prefixes(vec![(0, u128::MAX, 7), (5, 5, 8)]);
        assert_eq!(r.starts, vec![0, 5, 6]);
        assert_eq!(r.ids, vec![7, 8, 7]);
        assert!(Runs::from_prefixes(vec![]).starts == vec![0]);
    }
}
