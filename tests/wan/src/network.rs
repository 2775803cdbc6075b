//! The emulated network, up: the three namespaces and the emulator's
//! thread forwarding between them.

use crate::netns::{HostTcp, Parties};
use crate::profile::Profile;
use crate::switch::{Outage, Switch};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The network, up: the namespaces and the emulator's thread.
pub struct Network {
    pub parties: Parties,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<Switch>>>,
}

impl Network {
    pub fn start(profile: Profile, outages: &[Outage], tcp: &HostTcp) -> std::io::Result<Network> {
        let mut parties = Parties::create(profile.mtu, tcp)?;
        let mut tuns = std::mem::take(&mut parties.tuns);
        let stop = Arc::new(AtomicBool::new(false));
        let mut switch = Switch::new(profile, outages, 0x7e51, Instant::now());
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || switch.run(&mut tuns, &flag).map(|()| switch));
        Ok(Network {
            parties,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the emulator; prints each path's counters if `report`.
    pub fn stop(mut self, report: bool) -> std::io::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        let switch = self
            .thread
            .take()
            .map(|t| {
                t.join()
                    .map_err(|_| std::io::Error::other("the emulator panicked"))?
            })
            .transpose()?;
        if let Some(switch) = switch.filter(|_| report) {
            for from in 0..3 {
                for to in (0..3).filter(|&t| t != from) {
                    let s = switch.stats(from, to);
                    eprintln!(
                        "ternion-wan: {from} -> {to}: {} delivered, {} lost, {} over the buffer, {} in outages",
                        s.delivered, s.lost, s.buffer_full, s.outage
                    );
                }
            }
        }
        Ok(())
    }
}
