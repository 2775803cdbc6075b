//! The simulated network's address plan: party `r` is `10.0.0.(r+1)` and
//! listens on one port of its own.

use crate::rank::Rank;
use smoltcp::wire::{IpEndpoint, Ipv4Address};

/// The first party's listening port; party `r` listens on `LISTEN_PORT_BASE + r`.
const LISTEN_PORT_BASE: u16 = 7400;

/// The address of party `rank` on the simulated network.
pub fn address_of(rank: Rank) -> Ipv4Address {
    // Ranks are 0..=2, so the last octet is 1..=3.
    Ipv4Address::new(10, 0, 0, rank.index() as u8 + 1)
}

/// The port party `rank` listens on.
pub fn port_of(rank: Rank) -> u16 {
    LISTEN_PORT_BASE + rank.index() as u16
}

/// Where party `rank` accepts connections.
pub(crate) fn endpoint_of(rank: Rank) -> IpEndpoint {
    IpEndpoint::new(address_of(rank).into(), port_of(rank))
}
