//! Measures what the emulated network really does, with plain TCP between
//! parties 0 and 1: the round trip of a one-byte ping-pong, the rate of
//! bulk transfers over one or several connections, and how long a transfer
//! takes after the connection was idle.

use crate::netns::{address, enter, Parties};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const PORT: u16 = 5399;

/// Runs `f` on a thread inside party `rank`'s namespace.
pub fn in_party<T: Send + 'static>(
    parties: &Parties,
    rank: usize,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> std::thread::JoinHandle<io::Result<T>> {
    let name = parties.name(rank).to_string();
    std::thread::spawn(move || {
        enter(&name)?;
        f()
    })
}

pub fn joined<T>(h: std::thread::JoinHandle<io::Result<T>>) -> io::Result<T> {
    h.join()
        .map_err(|_| io::Error::other("a measuring thread panicked"))?
}

/// A listener in party 1's namespace and `n` connections to it from
/// party 0's: the accepted ends (from a thread) and the dialled ones.
type Accepted = std::thread::JoinHandle<io::Result<Vec<TcpStream>>>;

fn connect_n(parties: &Parties, n: usize) -> io::Result<(Accepted, Vec<TcpStream>)> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = in_party(parties, 1, move || {
        let listener = TcpListener::bind((address(1).as_str(), PORT))?;
        let _ = ready_tx.send(());
        (0..n).map(|_| Ok(listener.accept()?.0)).collect()
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .map_err(|_| io::Error::other("the listener did not start"))?;
    let clients = joined(in_party(parties, 0, move || {
        (0..n)
            .map(|_| TcpStream::connect((address(1).as_str(), PORT)))
            .collect()
    }))?;
    Ok((server, clients))
}

/// One connection from party 0 to party 1: the accepted end (from a
/// thread) and the dialled one.
fn connect(
    parties: &Parties,
) -> io::Result<(std::thread::JoinHandle<io::Result<TcpStream>>, TcpStream)> {
    let (server, mut clients) = connect_n(parties, 1)?;
    let server = std::thread::spawn(move || {
        joined(server)?
            .pop()
            .ok_or_else(|| io::Error::other("nothing accepted"))
    });
    let client = clients
        .pop()
        .ok_or_else(|| io::Error::other("no connection"))?;
    Ok((server, client))
}

/// The median round trip of `n` one-byte exchanges between parties 0 and 1.
pub fn round_trip(parties: &Parties, n: usize) -> io::Result<Duration> {
    let (server, mut client) = connect(parties)?;
    let echo = std::thread::spawn(move || -> io::Result<()> {
        let mut s = joined(server)?;
        s.set_nodelay(true)?;
        let mut b = [0u8; 1];
        while s.read(&mut b)? == 1 {
            s.write_all(&b)?;
        }
        Ok(())
    });
    client.set_nodelay(true)?;
    let mut samples = Vec::with_capacity(n);
    let mut b = [7u8; 1];
    for _ in 0..n {
        let t = Instant::now();
        client.write_all(&b)?;
        client.read_exact(&mut b)?;
        samples.push(t.elapsed());
    }
    drop(client);
    joined(echo)?;
    samples.sort();
    Ok(samples[n / 2])
}

/// The rate, in bits per second, of `streams` TCP connections together
/// sending from party 0 to party 1 for `length`, counted over its last two
/// thirds (after slow start).
pub fn bulk_rate(parties: &Parties, streams: usize, length: Duration) -> io::Result<f64> {
    let (server, clients) = connect_n(parties, streams)?;
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let count_from = start + length / 3;
    let total = std::sync::Arc::clone(&counted);
    let receiver = std::thread::spawn(move || -> io::Result<()> {
        let readers: Vec<_> = joined(server)?
            .into_iter()
            .map(|mut s| {
                let total = std::sync::Arc::clone(&total);
                std::thread::spawn(move || -> io::Result<()> {
                    let mut buf = vec![0u8; 1 << 20];
                    loop {
                        let n = s.read(&mut buf)?;
                        if n == 0 {
                            return Ok(());
                        }
                        if Instant::now() >= count_from {
                            total.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        readers.into_iter().try_for_each(joined)
    });
    let senders: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            std::thread::spawn(move || -> io::Result<()> {
                let chunk = vec![0x5au8; 1 << 20];
                while start.elapsed() < length {
                    c.write_all(&chunk)?;
                }
                c.shutdown(std::net::Shutdown::Write)
            })
        })
        .collect();
    senders.into_iter().try_for_each(joined)?;
    joined(receiver)?;
    let secs = start.elapsed().as_secs_f64() - (length / 3).as_secs_f64();
    Ok(counted.load(std::sync::atomic::Ordering::Relaxed) as f64 * 8.0 / secs)
}

/// How long a request of `bytes` from party 0 to party 1 and a one-byte
/// answer take: the median of `n` back to back, and the median of `n` each
/// after `idle` without traffic. The connection first carries 64 MiB, so
/// its congestion window has opened; whether an idle gap closes it again
/// is what the two figures compare.
pub fn after_idle(
    parties: &Parties,
    bytes: usize,
    idle: Duration,
    n: usize,
) -> io::Result<(Duration, Duration)> {
    let (server, mut client) = connect(parties)?;
    let answerer = std::thread::spawn(move || -> io::Result<()> {
        let mut s = joined(server)?;
        s.set_nodelay(true)?;
        let mut buf = vec![0u8; bytes.max(64 << 20)];
        s.read_exact(&mut buf[..64 << 20])?;
        s.write_all(&[1])?;
        loop {
            match s.read_exact(&mut buf[..bytes]) {
                Ok(()) => s.write_all(&[1])?,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    });
    client.set_nodelay(true)?;
    client.write_all(&vec![0u8; 64 << 20])?;
    let mut answer = [0u8; 1];
    client.read_exact(&mut answer)?;
    let request = vec![7u8; bytes];
    let mut exchange = |client: &mut TcpStream| -> io::Result<Duration> {
        let t = Instant::now();
        client.write_all(&request)?;
        client.read_exact(&mut answer)?;
        Ok(t.elapsed())
    };
    let mut back_to_back = (0..n)
        .map(|_| exchange(&mut client))
        .collect::<io::Result<Vec<_>>>()?;
    let mut idled = Vec::with_capacity(n);
    for _ in 0..n {
        std::thread::sleep(idle);
        idled.push(exchange(&mut client)?);
    }
    drop(client);
    joined(answerer)?;
    back_to_back.sort();
    idled.sort();
    Ok((back_to_back[n / 2], idled[n / 2]))
}
