//! smoltcp's `phy` layer for one party: its port onto the medium.
//!
//! The device only queues packets. The world moves them between its queues
//! and the medium, so the interface above knows nothing of delays or faults.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium as PhyMedium};
use smoltcp::time::Instant as SmolInstant;

/// Smallest and largest IP MTU the device accepts: IPv4's minimum, and the
/// largest packet an IPv4 length field can describe.
const MIN_MTU: usize = 576;
const MAX_MTU: usize = 65_535;

/// One party's network device: packets arrived from the medium, and packets
/// the interface sent, waiting to be put on the medium.
#[derive(Debug)]
pub(crate) struct SimDevice {
    mtu: usize,
    arrived: VecDeque<Vec<u8>>,
    sent: Vec<Vec<u8>>,
}

impl SimDevice {
    /// A device carrying IP packets of up to `mtu` bytes (clamped to 576..=65535).
    pub fn new(mtu: usize) -> SimDevice {
        SimDevice {
            mtu: mtu.clamp(MIN_MTU, MAX_MTU),
            arrived: VecDeque::new(),
            sent: Vec::new(),
        }
    }

    /// Queues a packet from the medium for the interface to read.
    pub fn deliver(&mut self, packet: Vec<u8>) {
        self.arrived.push_back(packet);
    }

    /// Packets the interface has read nothing of yet.
    pub fn pending(&self) -> usize {
        self.arrived.len()
    }

    /// Takes the packets the interface sent, oldest first.
    pub fn take_sent(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.sent)
    }
}

/// A packet the interface may read.
pub(crate) struct SimRxToken {
    packet: Vec<u8>,
}

impl phy::RxToken for SimRxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.packet)
    }
}

/// Room for one packet the interface writes.
pub(crate) struct SimTxToken<'a> {
    sent: &'a mut Vec<Vec<u8>>,
}

impl phy::TxToken for SimTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut packet = vec![0; len];
        let result = f(&mut packet);
        self.sent.push(packet);
        result
    }
}

impl Device for SimDevice {
    type RxToken<'a> = SimRxToken;
    type TxToken<'a> = SimTxToken<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(SimRxToken, SimTxToken<'_>)> {
        let packet = self.arrived.pop_front()?;
        Some((
            SimRxToken { packet },
            SimTxToken {
                sent: &mut self.sent,
            },
        ))
    }

    /// The medium never pushes back: it has no bandwidth limit, only delay.
    fn transmit(&mut self, _now: SmolInstant) -> Option<SimTxToken<'_>> {
        Some(SimTxToken {
            sent: &mut self.sent,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = PhyMedium::Ip;
        caps.max_transmission_unit = self.mtu;
        // Checksums are computed and verified in full (the default), so a
        // corrupted packet is dropped by the stack, as on a real network.
        caps
    }
}
