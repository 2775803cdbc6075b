//! Three network namespaces, one per party, each with a TUN device whose
//! packets the emulator reads and writes. Nothing outside these namespaces
//! is changed (the host's list of allowed congestion controls may gain one
//! for a moment, see [`set_congestion`]); dropping [`Parties`] deletes them.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::process::Command;

/// The parties' addresses are `10.79.0.(rank + 1)`.
pub const SUBNET: [u8; 3] = [10, 79, 0];
const DEVICE: &str = "wan0";

/// Party `rank`'s address.
pub fn address(rank: usize) -> String {
    format!("{}.{}.{}.{}", SUBNET[0], SUBNET[1], SUBNET[2], rank + 1)
}

/// The rank a packet is for, from its IPv4 destination address.
pub fn destination(packet: &[u8]) -> Option<usize> {
    let header = packet.get(..20)?;
    if header[0] >> 4 != 4 || header[16..19] != SUBNET {
        return None;
    }
    (1..=3)
        .contains(&header[19])
        .then(|| header[19] as usize - 1)
}

/// How each party's kernel runs TCP. New namespaces take some of these
/// from the host (here BBR as the congestion control, a 32 MiB receive
/// buffer): each is set explicitly, to a fresh Linux's defaults unless a
/// measurement asks otherwise, so a run means the same on every machine.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTcp {
    /// `net.ipv4.tcp_congestion_control`.
    pub congestion: String,
    /// The largest send and receive buffers autotuning may grow to; `None`
    /// keeps Linux's defaults (4 MiB to send, 6 MiB to receive).
    pub buffer_max: Option<u64>,
    /// `net.ipv4.tcp_slow_start_after_idle`: a connection idle for longer
    /// than its retransmission timeout starts again from the initial window.
    pub slow_start_after_idle: bool,
}

impl Default for HostTcp {
    fn default() -> HostTcp {
        HostTcp {
            congestion: "cubic".into(),
            buffer_max: None,
            slow_start_after_idle: true,
        }
    }
}

impl HostTcp {
    /// The sysctl settings, as `key=value`, but for the congestion
    /// control (see [`set_congestion`]).
    fn settings(&self) -> Vec<String> {
        let (rmem, wmem) = match self.buffer_max {
            Some(max) => (max, max),
            None => (6 << 20, 4 << 20),
        };
        vec![
            "net.ipv6.conf.all.disable_ipv6=1".into(),
            format!("net.ipv4.tcp_rmem=4096 131072 {rmem}"),
            format!("net.ipv4.tcp_wmem=4096 16384 {wmem}"),
            format!(
                "net.ipv4.tcp_slow_start_after_idle={}",
                u8::from(self.slow_start_after_idle)
            ),
        ]
    }
}

/// The three namespaces and their TUN devices.
pub struct Parties {
    names: Vec<String>,
    /// Each party's TUN device, non-blocking.
    pub tuns: Vec<File>,
}

impl Parties {
    /// Creates `twan<pid>-0`, `-1` and `-2`, each with its TUN device up,
    /// its address and `mtu`, loopback up, IPv6 off and TCP run as `tcp`
    /// says.
    pub fn create(mtu: u32, tcp: &HostTcp) -> io::Result<Parties> {
        let mut parties = Parties {
            names: Vec::new(),
            tuns: Vec::new(),
        };
        remove_stale();
        for rank in 0..3 {
            let name = format!("twan{}-{rank}", std::process::id());
            ip(&["netns", "add", &name])?;
            parties.names.push(name.clone());
            let tun = std::thread::scope(|s| s.spawn(|| open_tun_in(&name)).join())
                .map_err(|_| io::Error::other("the TUN thread panicked"))??;
            parties.tuns.push(tun);
            for setting in tcp.settings() {
                sysctl_in(&name, &setting)?;
            }
            sysctl_in(
                &name,
                &format!("net.ipv4.tcp_congestion_control={}", tcp.congestion),
            )
            .or_else(|_| set_congestion(&name, &tcp.congestion))?;
            let mtu = mtu.to_string();
            let cidr = format!("{}/24", address(rank));
            ip(&["-n", &name, "link", "set", "lo", "up"])?;
            ip(&["-n", &name, "addr", "add", &cidr, "dev", DEVICE])?;
            ip(&["-n", &name, "link", "set", DEVICE, "mtu", &mtu, "up"])?;
        }
        Ok(parties)
    }

    /// Party `rank`'s namespace, for `ip netns exec`.
    pub fn name(&self, rank: usize) -> &str {
        &self.names[rank]
    }
}

impl Drop for Parties {
    fn drop(&mut self) {
        for name in &self.names {
            kill_processes_in(name);
            if let Err(e) = ip(&["netns", "delete", name]) {
                eprintln!("ternion-wan: could not delete namespace {name}: {e}");
            }
        }
    }
}

/// Kills what still runs in namespace `name` (a party the command left
/// behind, in a session of its own): deleting the namespace would only
/// unname it, and a party that polls would keep a core busy for ever.
fn kill_processes_in(name: &str) {
    let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() else {
        return;
    };
    for pid in String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse::<libc::pid_t>().ok())
    {
        eprintln!("ternion-wan: killing process {pid}, left running in namespace {name}");
        // SAFETY: kill takes a pid and a signal number, no pointers.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

fn sysctl_in(namespace: &str, setting: &str) -> io::Result<()> {
    run(Command::new("ip")
        .args(["netns", "exec", namespace, "sysctl", "-q", "-w"])
        .arg(setting))
}

const ALLOWED_CONGESTION: &str = "/proc/sys/net/ipv4/tcp_allowed_congestion_control";

/// Makes `congestion` the congestion control of `namespace` where the host
/// does not allow it yet: a namespace may only default to one the host's
/// `tcp_allowed_congestion_control` lists. The host's list gains it for
/// the moment it takes to set, and is then written back as it was.
fn set_congestion(namespace: &str, congestion: &str) -> io::Result<()> {
    let allowed = std::fs::read_to_string(ALLOWED_CONGESTION)?;
    let allowed = allowed.trim();
    if allowed.split_whitespace().any(|c| c == congestion) {
        return sysctl_in(
            namespace,
            &format!("net.ipv4.tcp_congestion_control={congestion}"),
        );
    }
    std::fs::write(ALLOWED_CONGESTION, format!("{allowed} {congestion}"))?;
    let set = sysctl_in(
        namespace,
        &format!("net.ipv4.tcp_congestion_control={congestion}"),
    );
    let restored = std::fs::write(ALLOWED_CONGESTION, allowed);
    set.and(restored)
}

/// Deletes the namespaces of earlier runs that were killed before they
/// could (`twan<pid>-<rank>` whose process is gone).
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(pid) = name
            .strip_prefix("twan")
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists()
            && ip(&["netns", "delete", name]).is_ok()
        {
            eprintln!("ternion-wan: deleted namespace {name}, left by a run that was killed");
        }
    }
}

fn ip(args: &[&str]) -> io::Result<()> {
    run(Command::new("ip").args(args))
}

fn run(command: &mut Command) -> io::Result<()> {
    let out = command.output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

/// Moves the calling thread into namespace `name` (for a thread of its
/// own: the rest of the process stays where it is).
pub fn enter(name: &str) -> io::Result<()> {
    let ns = File::open(format!("/var/run/netns/{name}"))?;
    // SAFETY: setns is given an open namespace descriptor and the matching
    // type; it changes only this thread's namespace.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `struct ifreq` as TUNSETIFF reads it: a name and the flags.
#[repr(C)]
struct TunRequest {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Opens a TUN device in namespace `name`. Runs on a thread of its own,
/// which it moves into the namespace: the device is made where the thread
/// is, and stays there after the thread ends.
fn open_tun_in(name: &str) -> io::Result<File> {
    enter(name)?;
    // SAFETY: a plain open(2) of a NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c"/dev/net/tun".as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just opened and is owned by nothing else.
    let tun = unsafe { File::from_raw_fd(fd) };
    let mut request = TunRequest {
        name: [0; libc::IFNAMSIZ],
        flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
        _pad: [0; 22],
    };
    request.name[..DEVICE.len()].copy_from_slice(DEVICE.as_bytes());
    // SAFETY: TUNSETIFF reads (and may update) one ifreq-sized struct,
    // which `request` is, for the TUN descriptor `tun`.
    if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &mut request) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(tun)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn packets_are_routed_by_their_ipv4_destination() {
        let mut packet = [0u8; 20];
        packet[0] = 0x45;
        packet[16..20].copy_from_slice(&[10, 79, 0, 3]);
        assert_eq!(destination(&packet), Some(2));
        packet[19] = 9;
        assert_eq!(destination(&packet), None, "not a party");
        packet[16..20].copy_from_slice(&[192, 168, 0, 1]);
        assert_eq!(destination(&packet), None, "outside the namespaces");
        packet[0] = 0x60;
        assert_eq!(destination(&packet), None, "IPv6");
        assert_eq!(destination(&packet[..19]), None, "short");
    }
}
