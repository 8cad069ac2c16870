//! Binding before serving, so that callers (and tests, with port 0) learn the address first;
//! and the connections it accepts.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

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
    pub(super) fn into_incoming(self) -> impl Stream<Item = io::Result<Connection>> + Send + 'static {
        TcpIncoming::from(self.inner).with_nodelay(Some(true)).map(|accepted| accepted.map(Connection))
    }
}

/// An accepted connection that tells HTTP/2 it writes one buffer at a time.
///
/// With vectored writes, h2 keeps a DATA payload of 256 bytes or more out of its write buffer
/// and flushes before it buffers the next frame: one `writev` per response, whatever else is
/// ready. A registration is a few hundred bytes, so under load every response was a system call
/// of its own. Told otherwise, h2 copies payloads under 1 KiB into its 16 KiB buffer and the
/// responses ready together leave in one write (larger payloads are still written from where
/// they are).
#[derive(Debug)]
pub(super) struct Connection(TcpStream);

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.0.connect_info()
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
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
