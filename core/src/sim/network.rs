//! The core's [`Network`] for one party: dial a peer's listening port, and
//! accept what the host's listen backlog has caught.

use super::address::endpoint_of;
use super::host::SimHost;
use super::socket::SimSocket;
use crate::rank::Rank;
use crate::socket::{Network, SocketError};
use alloc::rc::Rc;
use core::cell::RefCell;

/// One party's view of the simulated network, through its own host.
#[derive(Debug, Clone)]
pub(crate) struct SimNetwork {
    host: Rc<RefCell<SimHost>>,
}

impl SimNetwork {
    /// The network as seen from `host`.
    pub fn new(host: Rc<RefCell<SimHost>>) -> SimNetwork {
        SimNetwork { host }
    }
}

impl Network for SimNetwork {
    type Socket = SimSocket;

    /// Starts a TCP handshake with `peer`'s listening port; the socket
    /// reports `WouldBlock` until it completes.
    fn connect(&mut self, peer: Rank) -> Result<SimSocket, SocketError> {
        let remote = endpoint_of(peer);
        let handle = self.host.borrow_mut().connect(remote)?;
        Ok(SimSocket::new(self.host.clone(), handle, remote, false))
    }

    /// The oldest inbound connection whose handshake has completed. The
    /// host keeps listening, so links that reconnect are accepted too.
    fn accept(&mut self) -> Result<Option<SimSocket>, SocketError> {
        let accepted = self.host.borrow_mut().accept();
        Ok(
            accepted
                .map(|(handle, remote)| SimSocket::new(self.host.clone(), handle, remote, true)),
        )
    }
}
