//! Link resume on real sockets: when the connection between two live
//! parties breaks, the link is made again and every message still arrives
//! exactly once, intact and in order.
//!
//! The connection is broken by a [`CuttingProxy`] between the parties.

mod common;

use common::cutting_proxy::CuttingProxy;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

#[test]
fn the_cutting_proxy_resets_both_ends_and_keeps_accepting() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = CuttingProxy::start(target.local_addr().unwrap()).unwrap();
    let connect = || {
        let client = TcpStream::connect(proxy.addr()).unwrap();
        let (server, _) = target.accept().unwrap();
        for s in [&client, &server] {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        }
        (client, server)
    };
    let exchange = |client: &mut TcpStream, server: &mut TcpStream| {
        let mut got = [0u8; 5];
        client.write_all(b"hello").unwrap();
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        server.write_all(b"world").unwrap();
        client.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"world");
    };

    let (mut client, mut server) = connect();
    exchange(&mut client, &mut server);
    assert_eq!(proxy.cut_all(), 1);
    for end in [&mut client, &mut server] {
        let err = end.read(&mut [0u8; 1]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    }
    assert_eq!(proxy.cut_all(), 0, "nothing is left to cut");

    let (mut client, mut server) = connect();
    exchange(&mut client, &mut server);
    assert_eq!((proxy.forwarded(), proxy.cuts()), (2, 1));
}
