//! The few system calls std does not offer, behind safe wrappers: vectored
//! socket I/O without SIGPIPE, poll(2) and an eventfd waker.
//!
//! All of ternion-linux's `unsafe` for the operating system lives here.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Most buffers one vectored call passes to the kernel.
const MAX_IOV: usize = 64;

/// Reads from `fd` into `bufs` in order, like readv(2).
pub fn read_vectored(fd: RawFd, bufs: &mut [&mut [u8]]) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_IOV];
    let mut n = 0;
    for buf in bufs.iter_mut().filter(|b| !b.is_empty()).take(MAX_IOV) {
        iov[n] = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        n += 1;
    }
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: each iovec points into a distinct live `&mut [u8]` borrowed for
    // the duration of the call, with its exact length; `n <= MAX_IOV`.
    let got = unsafe { libc::readv(fd, iov.as_ptr(), n as libc::c_int) };
    if got < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(got as usize)
    }
}

/// Writes `bufs` in order to the socket `fd`, like writev(2) but never
/// raising SIGPIPE (a C program embedding ternion keeps the default handler).
pub fn send_vectored(fd: RawFd, bufs: &[&[u8]]) -> io::Result<usize> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_IOV];
    let mut n = 0;
    for buf in bufs.iter().filter(|b| !b.is_empty()).take(MAX_IOV) {
        iov[n] = libc::iovec {
            iov_base: buf.as_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        n += 1;
    }
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: msghdr is plain data; zeroed is its empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = n as _;
    // SAFETY: the iovecs point into live shared borrows with exact lengths;
    // sendmsg only reads them.
    let sent = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

/// One entry of a poll(2) set.
pub type PollFd = libc::pollfd;

/// Builds a poll entry for `fd`.
pub fn poll_entry(fd: RawFd, read: bool, write: bool) -> PollFd {
    let mut events = 0;
    if read {
        events |= libc::POLLIN;
    }
    if write {
        events |= libc::POLLOUT;
    }
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// Sleeps until an entry is ready or `timeout` passes (`None`: no limit).
pub fn poll(fds: &mut [PollFd], timeout: Option<Duration>) -> io::Result<usize> {
    let ms = match timeout {
        None => -1,
        // Round up so a deadline 0.3 ms away is not turned into a busy loop.
        Some(t) => t.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int,
    };
    // SAFETY: `fds` is a valid, exclusively borrowed array of pollfd of the given length.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(n as usize)
}

/// An eventfd that makes a thread blocked in [`poll`] return.
#[derive(Debug)]
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// A new, unsignalled eventfd.
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd has no pointer arguments; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
        Ok(EventFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Makes the eventfd readable.
    pub fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64, as eventfd requires.
        // A failure can only mean the counter is saturated: it is readable anyway.
        let _ = unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Resets the eventfd to unsignalled.
    pub fn drain(&self) {
        let mut value: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64; EAGAIN (already clear) is fine.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Restarts the machine at once (the caller has flushed what it needs).
pub fn restart_machine() -> io::Error {
    // SAFETY: reboot(2) takes no pointers; it returns only on failure.
    unsafe { libc::sync() };
    // SAFETY: as above.
    unsafe { libc::reboot(libc::RB_AUTOBOOT) };
    io::Error::last_os_error()
}

/// Asks for congestion control `name` (TCP_CONGESTION) on the TCP socket
/// `fd`; fails where the kernel lacks it, or does not let this process
/// choose it (`tcp_allowed_congestion_control`).
pub fn set_tcp_congestion(fd: RawFd, name: &str) -> io::Result<()> {
    // SAFETY: setsockopt reads `name.len()` bytes from the string, which
    // lives for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets TCP_NOTSENT_LOWAT on the TCP socket `fd`: the socket reports
/// room to write only while fewer than `bytes` written bytes wait unsent.
pub fn set_tcp_notsent_lowat(fd: RawFd, bytes: u32) -> io::Result<()> {
    let value = bytes as libc::c_int;
    // SAFETY: setsockopt reads one c_int, which `value` is, for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NOTSENT_LOWAT,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The start of the kernel's `struct tcp_info` (linux/tcp.h), up to
/// `tcpi_min_rtt` (Linux 4.10), laid out as the kernel writes it: only
/// the fields ternion reads are named.
#[repr(C)]
struct TcpInfo {
    /// State, options, window scales, and 24 counters and times.
    head: [u8; 104],
    /// Pacing rates, bytes acknowledged and received.
    rates_and_bytes: [u64; 4],
    /// Segments out and in, bytes not yet sent.
    segments_and_notsent: [u32; 3],
    /// Microseconds.
    min_rtt: u32,
}

// `tcpi_min_rtt` ends at byte 152 of the kernel's structure.
const _: () = assert!(std::mem::size_of::<TcpInfo>() == 152);

/// The least round-trip time the kernel has measured on the TCP connection
/// `fd` (`tcpi_min_rtt`, in microseconds): the path's own delay, without
/// the queueing that inflates the smoothed estimate (on a busy loopback
/// that reads milliseconds). `None` before the first measurement, or on a
/// kernel too old to report it.
pub fn tcp_min_round_trip(fd: RawFd) -> io::Result<Option<Duration>> {
    // SAFETY: TcpInfo is plain data; zeroed is a valid value of it.
    let mut info: TcpInfo = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<TcpInfo>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `info`, which is
    // that large and lives for the call, and stores the length it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut TcpInfo).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let reported = len as usize >= std::mem::size_of::<TcpInfo>();
    // The kernel reports "none yet" as the largest value.
    let measured = info.min_rtt > 0 && info.min_rtt != u32::MAX;
    Ok((reported && measured).then(|| Duration::from_micros(u64::from(info.min_rtt))))
}

#[cfg(test)]
mod test {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_loopback_connection_reports_a_round_trip_of_microseconds() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let mut byte = [0u8; 1];
        for _ in 0..10 {
            client.write_all(&[1]).unwrap();
            server.read_exact(&mut byte).unwrap();
            server.write_all(&byte).unwrap();
            client.read_exact(&mut byte).unwrap();
        }
        let rtt = tcp_min_round_trip(client.as_raw_fd()).unwrap();
        let rtt = rtt.expect("a measured round trip after ten exchanges");
        assert!(rtt < Duration::from_millis(5), "loopback: {rtt:?}");
    }
}
