//! The ring benchmark: Secrecy's communication pattern (send to the
//! predecessor, receive from the successor) timed by one party, written
//! once so the hosted and in-kernel backends run the very same workload.

use super::comm::Comm;
use crate::clock::Clock;
use alloc::vec;
use alloc::vec::Vec;
use ternion_core::time::Duration;

/// How much ring traffic to time.
#[derive(Debug, Clone, Copy)]
pub struct RingBenchPlan {
    /// 8-byte exchanges per timed batch.
    pub exchanges_per_batch: usize,
    /// Timed batches of 8-byte exchanges (the median batch is reported).
    pub batches: usize,
    /// `u64` elements in each large exchange.
    pub elements: usize,
    /// Timed large exchanges (the median is reported).
    pub large_exchanges: usize,
}

impl RingBenchPlan {
    /// The figures the benchmark report quotes: 8-byte latency over 20
    /// batches of 200, and 5 exchanges of a million elements.
    pub const STANDARD: RingBenchPlan = RingBenchPlan {
        exchanges_per_batch: 200,
        batches: 20,
        elements: 1 << 20,
        large_exchanges: 5,
    };

    /// A smoke-test plan that finishes in moments.
    pub const QUICK: RingBenchPlan = RingBenchPlan {
        exchanges_per_batch: 20,
        batches: 3,
        elements: 1 << 14,
        large_exchanges: 2,
    };
}

/// One party's measurements.
#[derive(Debug, Clone, Copy)]
pub struct RingBenchReport {
    /// Median over batches of the mean time of one 8-byte exchange.
    pub latency_8b: Duration,
    /// Median time of one exchange of `elements` values.
    pub large_exchange: Duration,
    /// `u64` elements per large exchange.
    pub elements: usize,
}

/// Runs `plan` as this party. All three parties must run the same plan.
/// Every received value is checked against what the successor sent, so a
/// fast but wrong layer fails instead of winning.
pub fn ring_benchmark<C: Comm>(
    comm: &mut C,
    clock: &impl Clock,
    plan: RingBenchPlan,
) -> Result<Result<RingBenchReport, RingBenchMismatch>, C::Error> {
    let rank = comm.rank();
    let successor = rank.succ().index() as u64;
    let mut batch_means = Vec::with_capacity(plan.batches);
    let mut received = [0u64];
    // One untimed batch warms the links (and synchronises the parties).
    for round in 0..=plan.batches {
        let start = clock.now();
        for i in 0..plan.exchanges_per_batch {
            let value = (round * plan.exchanges_per_batch + i) as u64;
            comm.exchange_u64s(&[value ^ ((rank.index() as u64) << 56)], &mut received)?;
            if received[0] != value ^ (successor << 56) {
                return Ok(Err(RingBenchMismatch));
            }
        }
        let elapsed = clock.now().saturating_since(start);
        if round > 0 {
            batch_means.push(elapsed / plan.exchanges_per_batch.max(1) as u32);
        }
    }
    let send: Vec<u64> = (0..plan.elements as u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ rank.index() as u64)
        .collect();
    let mut recv = vec![0u64; plan.elements];
    let mut large = Vec::with_capacity(plan.large_exchanges);
    for _ in 0..plan.large_exchanges {
        let start = clock.now();
        comm.exchange_u64s(&send, &mut recv)?;
        large.push(clock.now().saturating_since(start));
        let expected = |i: usize| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ successor;
        if recv.iter().enumerate().any(|(i, &v)| v != expected(i)) {
            return Ok(Err(RingBenchMismatch));
        }
    }
    Ok(Ok(RingBenchReport {
        latency_8b: median(&mut batch_means),
        large_exchange: median(&mut large),
        elements: plan.elements,
    }))
}

/// A received value was not what its sender sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingBenchMismatch;

impl core::fmt::Display for RingBenchMismatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "a ring exchange delivered the wrong values")
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

impl core::fmt::Display for RingBenchReport {
    /// One line the QEMU scripts parse: `latency_8b_us=… exchange_1m_ms=…`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "latency_8b_us={:.2} exchange_{}_ms={:.3}",
            self.latency_8b.as_nanos() as f64 / 1e3,
            self.elements,
            self.large_exchange.as_nanos() as f64 / 1e6
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_comm::{run_on_threads, ChannelComm};
    use core::cell::Cell;
    use ternion_core::time::Instant;

    struct Ticks(Cell<u64>);
    impl Clock for Ticks {
        fn now(&self) -> Instant {
            self.0.set(self.0.get() + 1);
            Instant::from_micros(self.0.get())
        }
    }

    #[test]
    fn three_parties_agree_and_report() {
        let reports = run_on_threads(ChannelComm::trio(), |mut comm| {
            ring_benchmark(&mut comm, &Ticks(Cell::new(0)), RingBenchPlan::QUICK)
        });
        for report in reports {
            let report = report.unwrap().unwrap();
            assert_eq!(report.elements, RingBenchPlan::QUICK.elements);
            // Each reading of the fake clock advances it by one microsecond.
            assert_eq!(report.large_exchange, Duration::from_micros(1));
            assert!(report.latency_8b < Duration::from_micros(1));
        }
    }
}
