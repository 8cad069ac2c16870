//! A loopback TCP proxy that injects faults between a client and a server: refuse connections
//! (the server looks down), or forward requests but swallow the answers (the server does the
//! work, the client never hears of it), switchable while connections are open.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward both ways.
    Pass,
    /// Close every connection, open or new, at once.
    Refuse,
    /// Forward what the client sends, drop what the server answers: calls reach the server and
    /// commit, and the client times out.
    SwallowResponses,
}

/// A proxy on `127.0.0.1:0` in front of `target`; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: Arc<watch::Sender<ProxyMode>>,
    accepted: Arc<AtomicUsize>,
    accept: JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(target: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(watch::Sender::new(ProxyMode::Pass));
        let accepted = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn(accept_loop(listener, target, mode.clone(), accepted.clone()));
        Ok(FaultProxy { addr, mode, accepted, accept })
    }

    /// The address clients dial instead of the target's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections clients opened through the proxy so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Switches modes; open connections follow at once (Refuse closes them).
    pub fn set(&self, mode: ProxyMode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.mode.send_replace(ProxyMode::Refuse);
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    mode: Arc<watch::Sender<ProxyMode>>,
    accepted: Arc<AtomicUsize>,
) {
    while let Ok((client, _)) = listener.accept().await {
        accepted.fetch_add(1, Ordering::SeqCst);
        if *mode.borrow() == ProxyMode::Refuse {
            drop(client);
            continue;
        }
        tokio::spawn(relay(client, target, mode.subscribe()));
    }
}

/// Copies bytes between `client` and `target` as the mode says, until either side closes or
/// the mode becomes Refuse.
async fn relay(client: TcpStream, target: SocketAddr, mut mode: watch::Receiver<ProxyMode>) {
    let Ok(server) = TcpStream::connect(target).await else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
    loop {
        tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == ProxyMode::Refuse {
                    return;
                }
            }
            read = client_rx.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if server_tx.write_all(&up[..n]).await.is_err() { return },
            },
            read = server_rx.read(&mut down) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if *mode.borrow() == ProxyMode::SwallowResponses {
                        continue;
                    }
                    if client_tx.write_all(&down[..n]).await.is_err() {
                        return;
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 || conn.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(conn: &mut TcpStream) -> Option<Vec<u8>> {
        conn.write_all(b"ping").await.ok()?;
        let mut buf = [0u8; 4];
        let read =
            tokio::time::timeout(std::time::Duration::from_millis(300), conn.read_exact(&mut buf)).await;
        matches!(read, Ok(Ok(4))).then(|| buf.to_vec())
    }

    #[tokio::test]
    async fn the_proxy_passes_swallows_and_refuses_as_told() {
        let proxy = FaultProxy::start(echo_server().await).await.unwrap();
        let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut conn).await.as_deref(), Some(&b"ping"[..]));
        assert_eq!(proxy.connections(), 1);
        proxy.set(ProxyMode::SwallowResponses);
        assert_eq!(round_trip(&mut conn).await, None, "the answer is swallowed");
        proxy.set(ProxyMode::Refuse);
        let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut fresh).await, None, "new connections are closed");
        proxy.set(ProxyMode::Pass);
        let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut again).await.as_deref(), Some(&b"ping"[..]));
    }
}
