//! Binding before serving, so that callers (and tests, with port 0) learn the address first.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

/// A bound TCP listener, ready to be served by [`super::serve`].
#[derive(Debug)]
pub struct Listener {
    inner: TcpListener,
    local_addr: SocketAddr,
}

impl Listener {
    /// Binds `addr`; port 0 picks a free port, see [`Listener::local_addr`].
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Listener> {
        let inner = TcpListener::bind(addr).await?;
        let local_addr = inner.local_addr()?;
        Ok(Listener { inner, local_addr })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The accepted connections, with `TCP_NODELAY` set on each.
    pub(super) fn into_incoming(self) -> TcpIncoming {
        TcpIncoming::from(self.inner).with_nodelay(Some(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn port_zero_binds_a_free_port() {
        let listener = Listener::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        assert_ne!(listener.local_addr().port(), 0);
        assert!(listener.local_addr().ip().is_loopback());
    }
}
