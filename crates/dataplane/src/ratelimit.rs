//! The per-worker reply rate limit: a token bucket on the TSC, in integer
//! arithmetic (no floating point, no system call on the hot path).

/// Tokens are kept scaled by the TSC frequency: one reply costs `hz` units and
/// each TSC cycle adds `rate` units, so no division happens per packet.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    hz: u64,
    rate: u64,
    cap: u64,
    units: u64,
    last: u64,
}

impl TokenBucket {
    /// `rate` replies per second, with a burst allowance of a tenth of a second
    /// (at least one burst of 64), on a clock of `hz` ticks per second, starting full.
    pub fn new(rate_per_sec: u32, hz: u64, now: u64) -> Self {
        let hz = hz.max(1);
        let rate = u64::from(rate_per_sec);
        let burst = (rate / 10).max(64).min(rate.max(1));
        let cap = burst.saturating_mul(hz);
        TokenBucket {
            hz,
            rate,
            cap,
            units: cap,
            last: now,
        }
    }

    /// Changes the rate (a new config), keeping the tokens already earned.
    pub fn set_rate(&mut self, rate_per_sec: u32) {
        if u64::from(rate_per_sec) != self.rate {
            let now = self.last;
            let units = self.units;
            *self = TokenBucket::new(rate_per_sec, self.hz, now);
            self.units = units.min(self.cap);
        }
    }

    /// Takes one token at time `now` (TSC); false when the bucket is empty.
    #[inline]
    pub fn take(&mut self, now: u64) -> bool {
        let elapsed = now.saturating_sub(self.last).min(self.hz); // at most 1 s of refill
        self.last = now.max(self.last);
        self.units = self
            .units
            .saturating_add(elapsed.saturating_mul(self.rate))
            .min(self.cap);
        if self.units >= self.hz {
            self.units -= self.hz;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_allows_its_burst_then_the_rate() {
        let hz = 1_000_000; // a 1 MHz clock keeps the numbers readable
        let mut b = TokenBucket::new(1000, hz, 0);
        let burst = (0..10_000).take_while(|_| b.take(0)).count();
        assert_eq!(burst, 100, "a tenth of a second of replies");
        assert!(!b.take(0));
        // One second later: 1000 more, never more than the burst cap.
        let n = (0..10_000).filter(|_| b.take(hz)).count();
        assert_eq!(n, 100, "refill is capped at the burst");
        // Steady state: one token per millisecond.
        let mut t = hz;
        let mut granted = 0;
        for _ in 0..5000 {
            t += hz / 1000;
            if b.take(t) {
                granted += 1;
            }
        }
        assert_eq!(granted, 5000);
        let extra = (0..10).filter(|_| b.take(t)).count();
        assert_eq!(extra, 0);
    }

    #[test]
    fn a_clock_going_backwards_or_jumping_cannot_overflow() {
        let mut b = TokenBucket::new(1_000_000, 3_000_000_000, u64::MAX - 10);
        assert!(b.take(5)); // TSC went back (another core): no panic, no refill
        assert!(b.take(u64::MAX));
        b.set_rate(1);
        let n = (0..100).filter(|_| b.take(u64::MAX)).count();
        assert!(n <= 64);
    }
}
