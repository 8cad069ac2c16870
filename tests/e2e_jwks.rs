//! Key rotation through a JWK set that this test serves over real HTTP on 127.0.0.1: serial-svc
//! started with `--jwks-url` accepts tokens of key A; once the set is {A, B}, a token of B works
//! at once (its unknown kid refreshes the set before it would be refused) and A still works;
//! once the set is {B}, A is refused UNAUTHENTICATED after the next refresh and B works.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use regserial::serial::v1::ListSerialsRequest;
use serde_json::json;
use shared::clock::SystemClock;
use shared::testing::TestDb;
use support::grpc::Clients;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

/// A signing key of the test, known to the JWK set by `kid`.
struct Key {
    kid: &'static str,
    algorithm: Algorithm,
    encoding: EncodingKey,
}

impl Key {
    /// Key A: RSA (RS256).
    fn a() -> Key {
        let pem = include_bytes!("../shared/src/auth/testdata/rsa_private.pem");
        Key { kid: "key-a", algorithm: Algorithm::RS256, encoding: EncodingKey::from_rsa_pem(pem).unwrap() }
    }

    /// Key B: Ed25519 (EdDSA).
    fn b() -> Key {
        let pem = include_bytes!("../shared/src/auth/testdata/ed25519_private.pem");
        Key { kid: "key-b", algorithm: Algorithm::EdDSA, encoding: EncodingKey::from_ed_pem(pem).unwrap() }
    }

    fn jwk(&self) -> serde_json::Value {
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&self.encoding, self.algorithm).unwrap()).unwrap();
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk
    }

    /// A token of org [`support::ORG`] with every scope, signed by this key.
    fn token(&self) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.to_owned());
        let exp = jsonwebtoken::get_current_timestamp() + 600;
        let scope = support::ALL_SCOPES.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" ");
        let claims = json!({"org": support::ORG, "sub": "rotation-test", "scope": scope, "exp": exp});
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

/// A JWK set served over HTTP/1.1 on 127.0.0.1, replaced at will, counting its fetches.
struct JwksServer {
    addr: SocketAddr,
    body: Arc<Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl JwksServer {
    async fn start(keys: &[&Key]) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Arc::new(Mutex::new(String::new()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (body.clone(), fetches.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else { return };
                let (body, fetches) = (served.clone(), counted.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    assert!(request.starts_with(b"GET /jwks.json "), "{}", String::from_utf8_lossy(&request));
                    let body = body.lock().unwrap().clone();
                    fetches.fetch_add(1, Ordering::SeqCst);
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(response.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        let server = JwksServer { addr, body, fetches, task };
        server.publish(keys);
        server
    }

    fn publish(&self, keys: &[&Key]) {
        let keys: Vec<_> = keys.iter().map(|key| key.jwk()).collect();
        *self.body.lock().unwrap() = json!({ "keys": keys }).to_string();
    }

    fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// serial-svc verifying tokens with the JWK set at `jwks_url` only (no secret).
struct Service {
    channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    _db: TestDb,
}

impl Service {
    async fn start(db: TestDb, jwks_url: &str, refresh_interval: &str) -> Service {
        shared::telemetry::init_for_tests();
        let listener = support::bind("127.0.0.1:0".parse().unwrap()).await;
        let addr = listener.local_addr();
        let args = [
            "serial-svc",
            "--database-url",
            &db.url,
            "--jwks-url",
            jwks_url,
            "--jwks-refresh-interval",
            refresh_interval,
            "--page-token-secret",
            "rotation-test-page-secret",
        ];
        let config = <serial_svc::app::Config as clap::Parser>::try_parse_from(args).expect("valid flags");
        let (tx, rx) = oneshot::channel::<()>();
        let task =
            tokio::spawn(serial_svc::app::serve(config, listener, Arc::new(SystemClock), async move {
                let _ = rx.await;
            }));
        let channel = Channel::from_shared(format!("http://{addr}")).unwrap().connect_lazy();
        shared::testing::health::wait_for("serial-svc", ServingStatus::Serving, || async {
            assert!(!task.is_finished(), "serial-svc stopped while starting");
            shared::testing::health::health(channel.clone(), "").await
        })
        .await;
        Service { channel, shutdown: Some(tx), task, _db: db }
    }

    /// The code of one authenticated call made with `token`.
    async fn call_with(&self, token: String) -> Code {
        let mut clients = Clients::new(self.channel.clone(), token);
        match clients.serials.list_serials(ListSerialsRequest::default()).await {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        }
    }

    async fn stop(mut self) {
        let _ = self.shutdown.take().expect("running").send(());
        self.task.await.expect("serial-svc task").expect("serial-svc exits cleanly");
    }
}

/// Interval 1 h: within the test, the set changes only by the refreshes that unknown kids
/// trigger, so the fetch count tells which call caused one.
async fn a_new_key_works_at_once_by_its_unknown_kid_and_the_old_one_meanwhile(db: TestDb) {
    let (a, b) = (Key::a(), Key::b());
    let jwks = JwksServer::start(&[&a]).await;
    let svc = Service::start(db, &jwks.url(), "1h").await;
    assert_eq!(jwks.fetches(), 1, "loaded once at startup");
    assert_eq!(svc.call_with(a.token()).await, Code::Ok);

    jwks.publish(&[&a, &b]);
    assert_eq!(svc.call_with(b.token()).await, Code::Ok, "B works at once");
    assert_eq!(jwks.fetches(), 2, "B's unknown kid refreshed the set");
    assert_eq!(svc.call_with(a.token()).await, Code::Ok, "A still works");

    // Another unknown kid within 30 s of that refresh is refused without fetching the set: a
    // flood of forged kids cannot become a flood of requests to the identity provider.
    let forged = Key { kid: "key-c", ..Key::b() };
    assert_eq!(svc.call_with(forged.token()).await, Code::Unauthenticated);
    assert_eq!(jwks.fetches(), 2);
    svc.stop().await;
}

async fn during_a_rotation_both_keys_work_then_the_withdrawn_one_is_refused(db: TestDb) {
    let (a, b) = (Key::a(), Key::b());
    let jwks = JwksServer::start(&[&a]).await;
    // Refreshes every 300 ms, polled below; B must not wait for one.
    let svc = Service::start(db, &jwks.url(), "300ms").await;
    let a_token = a.token();
    assert_eq!(svc.call_with(a_token.clone()).await, Code::Ok);

    jwks.publish(&[&a, &b]);
    assert_eq!(svc.call_with(b.token()).await, Code::Ok, "B works at once");
    assert_eq!(svc.call_with(a_token.clone()).await, Code::Ok, "A still works");

    jwks.publish(&[&b]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match svc.call_with(a_token.clone()).await {
            Code::Unauthenticated => break,
            Code::Ok => {}
            other => panic!("A's token answered {other:?}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "A was still accepted 30 s after it was withdrawn");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(svc.call_with(a.token()).await, Code::Unauthenticated, "a new token of A too");
    assert_eq!(svc.call_with(b.token()).await, Code::Ok, "B works");
    svc.stop().await;
}

shared::per_backend!(
    a_new_key_works_at_once_by_its_unknown_kid_and_the_old_one_meanwhile,
    during_a_rotation_both_keys_work_then_the_withdrawn_one_is_refused,
);
