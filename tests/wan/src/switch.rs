//! The emulator's loop: reads each party's packets from its TUN device,
//! passes them through the path to their destination, and writes them to
//! the destination's TUN device when the path delivers them.

use crate::netns::destination;
use crate::path::{Path, PathStats};
use crate::profile::Profile;
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The longest the loop sleeps, so that it notices when to stop.
const TICK: Duration = Duration::from_millis(10);
/// A packet due sooner than this is waited for by yielding, not sleeping:
/// waking a halted virtual CPU takes longer than a short path's delay
/// may be late by.
const SPIN: Duration = Duration::from_micros(200);
/// The same for a real-time thread, which is woken sooner: it spins less,
/// since while it spins it holds a core the parties need. Not spinning at
/// all, the 1 ms profile measured 1.13 ms; with this, 1.06 ms.
const SPIN_REALTIME: Duration = Duration::from_micros(50);
/// Larger than any packet at the devices' MTU.
const PACKET_MAX: usize = 65_536;
/// Packet buffers kept for reuse.
const SPARE_PACKETS: usize = 4096;

/// A scheduled outage: every path to and from `party` is down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    pub party: usize,
    /// After the switch starts.
    pub start: Duration,
    pub length: Duration,
}

/// The six directed paths between three parties.
pub struct Switch {
    /// `paths[from][to]`; the diagonal is unused.
    paths: Vec<Vec<Path>>,
    /// Buffers of delivered packets, read into again.
    spare: Vec<Vec<u8>>,
}

impl Switch {
    pub fn new(profile: Profile, outages: &[Outage], seed: u64, started: Instant) -> Switch {
        let paths = (0..3)
            .map(|from| {
                (0..3)
                    .map(|to| {
                        let mut path = Path::new(profile, seed ^ (from * 3 + to) as u64);
                        for o in outages.iter().filter(|o| o.party == from || o.party == to) {
                            path.add_outage(started + o.start, o.length);
                        }
                        path
                    })
                    .collect()
            })
            .collect();
        Switch {
            paths,
            spare: Vec::new(),
        }
    }

    /// Forwards between `tuns` (indexed by rank) until `stop` is set.
    pub fn run(&mut self, tuns: &mut [File], stop: &AtomicBool) -> std::io::Result<()> {
        // SAFETY: PR_SET_TIMERSLACK takes a value and no pointers; it sets
        // how late this thread's sleeps may end (1 µs instead of 50).
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong) };
        let spin = if run_before_the_parties() {
            SPIN_REALTIME
        } else {
            SPIN
        };
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let wait = self
                .next_due()
                .map_or(TICK, |due| due.saturating_duration_since(now).min(TICK));
            if wait < spin {
                std::thread::yield_now();
                wait_readable(tuns, Duration::ZERO)?;
            } else {
                wait_readable(tuns, wait - spin)?;
            }
            for (from, tun) in tuns.iter().enumerate() {
                loop {
                    let mut packet = self
                        .spare
                        .pop()
                        .unwrap_or_else(|| Vec::with_capacity(PACKET_MAX));
                    match read_packet(tun, &mut packet) {
                        Ok(()) => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            self.spare.push(packet);
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                    let Some(to) = destination(&packet).filter(|&to| to != from) else {
                        continue;
                    };
                    // A drop is the path's verdict, counted in its stats.
                    let _ = self.paths[from][to].offer(Instant::now(), packet);
                }
            }
            let now = Instant::now();
            for row in &mut self.paths {
                for (to, path) in row.iter_mut().enumerate() {
                    while let Some(p) = path.pop_due(now) {
                        match tuns[to].write(&p) {
                            Ok(_) => {}
                            // The device's queue is full: the packet is lost, as on a real link.
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                            Err(e) => return Err(e),
                        }
                        if self.spare.len() < SPARE_PACKETS {
                            self.spare.push(p);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn next_due(&self) -> Option<Instant> {
        self.paths.iter().flatten().filter_map(Path::next_due).min()
    }

    /// The counters of the path from `from` to `to`.
    pub fn stats(&self, from: usize, to: usize) -> PathStats {
        self.paths[from][to].stats()
    }
}

/// Gives this thread a real-time priority, so that it runs as soon as a
/// packet is due even when the parties keep both cores busy (three parties
/// that poll for messages, as OpenMPI's do, would otherwise hold a packet
/// back for whole scheduler time slices, and that delay would be charged
/// to the network). Without the privilege it warns and goes on. Whether
/// the thread got the priority.
fn run_before_the_parties() -> bool {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: sched_setscheduler reads one sched_param, which `param` is;
    // pid 0 is the calling thread.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
        eprintln!(
            "ternion-wan: no real-time priority for the emulator ({}); busy parties may delay packets",
            std::io::Error::last_os_error()
        );
        return false;
    }
    true
}

/// Sleeps until a device has a packet or `wait` passes (with microsecond
/// resolution, which a 1 ms round trip needs).
fn wait_readable(tuns: &[File], wait: Duration) -> std::io::Result<()> {
    let mut fds: Vec<libc::pollfd> = tuns
        .iter()
        .map(|t| libc::pollfd {
            fd: t.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let timeout = libc::timespec {
        tv_sec: wait.as_secs() as libc::time_t,
        tv_nsec: wait.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `fds` is a live array of `fds.len()` pollfd entries and
    // `timeout` a valid timespec; no signal mask is passed.
    let rc = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &timeout,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// Reads one packet from `tun` into `packet` (emptied first), which must
/// have room for [`PACKET_MAX`] bytes. Reads into the buffer's spare
/// capacity, so a buffer is never zeroed before a packet lands in it.
fn read_packet(tun: &File, packet: &mut Vec<u8>) -> std::io::Result<()> {
    packet.clear();
    packet.reserve(PACKET_MAX);
    // SAFETY: the kernel writes at most `capacity` bytes into the buffer,
    // which owns that much memory; `set_len` covers only what it wrote.
    let n = unsafe {
        libc::read(
            tun.as_raw_fd(),
            packet.as_mut_ptr().cast(),
            packet.capacity(),
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the first `n` bytes were just written by read(2).
    unsafe { packet.set_len(n as usize) };
    Ok(())
}
