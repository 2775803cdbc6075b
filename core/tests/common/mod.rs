//! The harness shared by the whole-protocol tests: three endpoints in one
//! thread over in-memory sockets, stepped with a simulated clock.
#![allow(dead_code)] // each test file uses its own part of the harness

use ternion_core::secure::{public_key, Aead, SecureConfig};
use ternion_core::testing::{MemNetwork, MemSocket};
use ternion_core::{
    Buffer, Completion, Duration, Endpoint, EndpointConfig, Event, Instant, Rank, RequestId,
};

pub type Ep = Endpoint<MemSocket, Vec<u8>, Vec<u8>>;

pub const SESSION: [u8; 16] = *b"ternion-test-ses";

pub fn r(i: u8) -> Rank {
    Rank::new(i).unwrap()
}

/// Three endpoints, their networks and a simulated clock.
pub struct Trio {
    pub eps: Vec<Option<Ep>>,
    pub nets: [MemNetwork; 3],
    pub now: Instant,
}

impl Trio {
    pub fn with_config(capacity: usize, tweak: impl Fn(&mut EndpointConfig)) -> Trio {
        let nets = MemNetwork::three(capacity);
        for n in &nets {
            n.listen(true);
        }
        let now = Instant::from_micros(1);
        let eps = Rank::ALL
            .iter()
            .map(|&rank| {
                let mut cfg = EndpointConfig::new(rank, SESSION);
                tweak(&mut cfg);
                Some(Endpoint::new(cfg, now))
            })
            .collect();
        Trio { eps, nets, now }
    }

    pub fn new() -> Trio {
        Trio::with_config(1 << 16, |_| {})
    }

    pub fn ep(&mut self, i: u8) -> &mut Ep {
        self.eps[i as usize].as_mut().unwrap()
    }

    /// Polls every endpoint once; advances the clock 1 ms if nothing moved.
    pub fn step(&mut self) -> bool {
        let mut progressed = false;
        for (ep, net) in self.eps.iter_mut().zip(self.nets.iter_mut()) {
            if let Some(ep) = ep {
                progressed |= ep.poll(net, self.now);
            }
        }
        if !progressed {
            self.now = self.now + Duration::from_millis(1);
        }
        progressed
    }

    pub fn run_until(&mut self, mut done: impl FnMut(&mut Trio) -> bool) {
        for _ in 0..200_000 {
            if done(self) {
                return;
            }
            self.step();
        }
        panic!("condition not reached");
    }

    pub fn established() -> Trio {
        let mut t = Trio::new();
        t.run_until(|t| (0..3).all(|i| t.ep(i).is_established()));
        t
    }

    pub fn wait(&mut self, i: u8, id: RequestId) -> Completion<Vec<u8>, Vec<u8>> {
        self.run_until(|t| t.ep(i).is_complete(id) == Ok(true));
        self.ep(i).take(id).unwrap().unwrap()
    }

    pub fn recv_bytes(&mut self, i: u8, id: RequestId) -> (Vec<u8>, u64) {
        let done = self.wait(i, id);
        let status = done.result.expect("receive failed");
        match done.buffer {
            Buffer::Recv(b) => (b, status.len),
            Buffer::Send(_) => panic!("not a receive"),
        }
    }
}

pub fn events(ep: &mut Ep) -> Vec<Event<u32>> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

const PRIVATE_KEYS: [[u8; 32]; 3] = [[11; 32], [22; 32], [33; 32]];

/// Gives each party its key and everyone's public keys.
pub fn secure(cfg: &mut EndpointConfig) {
    cfg.secure = Some(SecureConfig {
        private_key: PRIVATE_KEYS[cfg.rank.index()],
        public_keys: PRIVATE_KEYS.map(|k| public_key(&k)),
        aead: Aead::AesGcm,
        seed: [cfg.rank.index() as u8 + 7; 32],
        ciphers: None,
    });
}
