//! What a path between two parties looks like: the named profiles and the
//! knobs that adjust them.

use std::time::Duration;

/// One direction of a path between two parties (both directions of every
/// pair get the same profile).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// One-way delay (half the round trip).
    pub delay: Duration,
    /// Each packet's delay is `delay` plus up to this much, uniformly; the
    /// path never reorders, so a packet is never delivered before the one
    /// ahead of it (in a dense stream, that holds most packets near the
    /// top of the range).
    pub jitter: Duration,
    /// Share of packets dropped, 0.0 to 1.0.
    pub loss: f64,
    /// Link rate in bits per second.
    pub rate_bps: u64,
    /// The parties' MTU. 9,000-byte jumbo frames, as clouds use, except
    /// on `region`: this emulator moves 8.1 Gbit/s of 9,000-byte packets
    /// on a 2-core machine and 9.4 of 65,000-byte ones, and that path
    /// loses nothing, so larger packets change little else.
    pub mtu: u32,
}

impl Profile {
    /// The named profiles: `region`, `cross-region` and `intercontinental`.
    pub fn named(name: &str) -> Option<Profile> {
        let ms = Duration::from_micros;
        match name {
            "region" => Some(Profile {
                delay: ms(500),
                jitter: Duration::ZERO,
                loss: 0.0,
                rate_bps: 10_000_000_000,
                mtu: 65_000,
            }),
            "cross-region" => Some(Profile {
                delay: ms(9_000),
                jitter: ms(2_000),
                loss: 0.0001,
                rate_bps: 1_000_000_000,
                mtu: 9_000,
            }),
            "intercontinental" => Some(Profile {
                delay: ms(40_000),
                jitter: Duration::ZERO,
                loss: 0.001,
                rate_bps: 500_000_000,
                mtu: 9_000,
            }),
            _ => None,
        }
    }

    /// The names [`Profile::named`] knows.
    pub const NAMES: [&'static str; 3] = ["region", "cross-region", "intercontinental"];

    /// The round trip a packet and its answer take on average.
    pub fn mean_rtt(&self) -> Duration {
        (self.delay + self.jitter / 2) * 2
    }

    /// The profile as one JSON object, under `name`.
    pub fn json(self, name: &str) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            concat!(
                "{{\"profile\": \"{}\", \"one_way_delay_ms\": {}, \"jitter_ms\": {}, ",
                "\"mean_rtt_ms\": {}, \"loss\": {}, \"rate_bps\": {}, \"mtu\": {}, ",
                "\"bdp_bytes\": {}}}"
            ),
            name,
            ms(self.delay),
            ms(self.jitter),
            ms(self.mean_rtt()),
            self.loss,
            self.rate_bps,
            self.mtu,
            self.bdp_bytes()
        )
    }

    /// Bytes in flight that fill the path: rate times round trip.
    pub fn bdp_bytes(&self) -> u64 {
        (self.rate_bps as f64 / 8.0 * self.mean_rtt().as_secs_f64()) as u64
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cross_region_is_20_ms_plus_or_minus_2_at_1_gbit() {
        let p = Profile::named("cross-region").unwrap();
        // 9 ms plus 0..2 ms each way: 18..22 ms, 20 ms on average.
        assert_eq!(p.mean_rtt(), Duration::from_millis(20));
        assert_eq!(p.bdp_bytes(), 2_500_000);
        assert!(Profile::named("moon").is_none());
        for name in Profile::NAMES {
            assert!(Profile::named(name).is_some());
        }
    }

    #[test]
    fn show_prints_the_profile_as_json() {
        let p = Profile::named("intercontinental").unwrap();
        assert_eq!(
            p.json("intercontinental"),
            concat!(
                r#"{"profile": "intercontinental", "one_way_delay_ms": 40, "jitter_ms": 0, "#,
                r#""mean_rtt_ms": 80, "loss": 0.001, "rate_bps": 500000000, "mtu": 9000, "#,
                r#""bdp_bytes": 5000000}"#
            )
        );
    }
}
