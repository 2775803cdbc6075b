//! Measures what the emulated network really does: the round trip of a
//! one-byte TCP ping-pong and the rate of one bulk TCP transfer between
//! two parties, to hold against the profile.

use crate::netns::{address, enter, Parties};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const PORT: u16 = 5399;

/// Runs `f` on a thread inside party `rank`'s namespace.
fn in_party<T: Send + 'static>(
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

fn joined<T>(h: std::thread::JoinHandle<io::Result<T>>) -> io::Result<T> {
    h.join()
        .map_err(|_| io::Error::other("a measuring thread panicked"))?
}

/// A listener in party 1's namespace and a connection to it from party 0's.
fn connect(
    parties: &Parties,
) -> io::Result<(std::thread::JoinHandle<io::Result<TcpStream>>, TcpStream)> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = in_party(parties, 1, move || {
        let listener = TcpListener::bind((address(1).as_str(), PORT))?;
        let _ = ready_tx.send(());
        Ok(listener.accept()?.0)
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .map_err(|_| io::Error::other("the listener did not start"))?;
    let client = joined(in_party(parties, 0, || {
        TcpStream::connect((address(1).as_str(), PORT))
    }))?;
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

/// The rate, in bits per second, of one TCP transfer from party 0 to party 1
/// for `length`, counted over its last two thirds (after slow start).
pub fn bulk_rate(parties: &Parties, length: Duration) -> io::Result<f64> {
    let (server, mut client) = connect(parties)?;
    let receiver = std::thread::spawn(move || -> io::Result<f64> {
        let mut s = joined(server)?;
        let mut buf = vec![0u8; 1 << 20];
        let start = Instant::now();
        let (mut counted, mut from) = (0u64, None);
        loop {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if start.elapsed() >= length / 3 {
                from.get_or_insert_with(Instant::now);
                counted += n as u64;
            }
        }
        let secs = from.map_or(0.0, |f| f.elapsed().as_secs_f64());
        Ok(if secs > 0.0 {
            counted as f64 * 8.0 / secs
        } else {
            0.0
        })
    });
    let chunk = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    while start.elapsed() < length {
        client.write_all(&chunk)?;
    }
    client.shutdown(std::net::Shutdown::Write)?;
    joined(receiver)
}
