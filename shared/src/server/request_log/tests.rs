use std::collections::VecDeque;
use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::executor::block_on;
use tower::ServiceExt as _;

use super::*;

/// The log lines written while `f` runs, with a subscriber of its own.
fn captured(f: impl FnOnce()) -> Vec<String> {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    text.lines().filter(|line| line.contains("grpc request")).map(str::to_owned).collect()
}

/// A response body made of fixed frames.
#[derive(Default)]
struct Frames(VecDeque<Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

fn request(path: &str) -> http::Request<()> {
    http::Request::builder().uri(path).body(()).unwrap()
}

async fn drain<B: Body + Unpin>(mut body: B) {
    while std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await.is_some() {}
}

#[test]
fn a_trailers_only_error_is_logged_with_its_code() {
    let lines = captured(|| {
        let service = RequestLogLayer.layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(tonic::Status::not_found("no such serial").into_http::<Frames>())
        }));
        block_on(async {
            let response =
                service.oneshot(request("/regserial.serial.v1.SerialService/GetSerial")).await.unwrap();
            drain(response.into_body()).await;
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("INFO"), "{}", lines[0]);
    assert!(
        lines[0].contains("grpc.method=\"/regserial.serial.v1.SerialService/GetSerial\""),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("grpc.code=NotFound") && lines[0].contains("latency_ms="), "{}", lines[0]);
}

#[test]
fn a_streamed_response_is_logged_once_its_trailers_pass() {
    let lines = captured(|| {
        let service = RequestLogLayer.layer(tower::service_fn(|_req: http::Request<()>| async {
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", "0".parse().unwrap());
            let frames = VecDeque::from([Frame::data(Bytes::from_static(b"x")), Frame::trailers(trailers)]);
            Ok::<_, Infallible>(http::Response::new(Frames(frames)))
        }));
        block_on(async {
            let response = service.oneshot(request("/a.v1.S/M")).await.unwrap();
            drain(response.into_body()).await;
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("grpc.code=Ok"), "{}", lines[0]);
}

#[test]
fn a_call_dropped_before_its_end_is_logged_as_cancelled() {
    let lines = captured(|| {
        let service = RequestLogLayer.layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(http::Response::new(Frames(VecDeque::from([Frame::data(Bytes::new())]))))
        }));
        block_on(async {
            let response = service.oneshot(request("/a.v1.S/M")).await.unwrap();
            drop(response);
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("grpc.code=Cancelled"), "{}", lines[0]);
}

#[test]
fn health_checks_are_logged_at_debug() {
    let lines = captured(|| {
        let service = RequestLogLayer.layer(tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Frames>())
        }));
        block_on(async {
            drop(service.oneshot(request("/grpc.health.v1.Health/Check")).await.unwrap());
        });
    });
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("DEBUG"), "{}", lines[0]);
}
