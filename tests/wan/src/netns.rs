//! Three network namespaces, one per party, each with a TUN device whose
//! packets the emulator reads and writes. Nothing outside these namespaces
//! is touched; dropping [`Parties`] deletes them.

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

/// The three namespaces and their TUN devices.
pub struct Parties {
    names: Vec<String>,
    /// Each party's TUN device, non-blocking.
    pub tuns: Vec<File>,
}

impl Parties {
    /// Creates `twan<pid>-0`, `-1` and `-2`, each with its TUN device up,
    /// its address and `mtu`, loopback up, IPv6 off and TCP buffers that
    /// may grow to `tcp_buffer_max` bytes.
    pub fn create(mtu: u32, tcp_buffer_max: u64) -> io::Result<Parties> {
        let mut parties = Parties {
            names: Vec::new(),
            tuns: Vec::new(),
        };
        for rank in 0..3 {
            let name = format!("twan{}-{rank}", std::process::id());
            ip(&["netns", "add", &name])?;
            parties.names.push(name.clone());
            let tun = std::thread::scope(|s| s.spawn(|| open_tun_in(&name)).join())
                .map_err(|_| io::Error::other("the TUN thread panicked"))??;
            parties.tuns.push(tun);
            let buffers = format!("4096 131072 {tcp_buffer_max}");
            for (key, value) in [
                ("net.ipv6.conf.all.disable_ipv6", "1"),
                ("net.ipv4.tcp_rmem", buffers.as_str()),
                ("net.ipv4.tcp_wmem", buffers.as_str()),
            ] {
                run(Command::new("ip")
                    .args(["netns", "exec", &name, "sysctl", "-q", "-w"])
                    .arg(format!("{key}={value}")))?;
            }
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
            if let Err(e) = ip(&["netns", "delete", name]) {
                eprintln!("ternion-wan: could not delete namespace {name}: {e}");
            }
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
