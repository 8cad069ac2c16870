//! A real OTLP/gRPC trace receiver for tests and benchmarks: a tonic server implementing the
//! collector's `TraceService` on `127.0.0.1:0`, on a runtime of its own that outlives the tests
//! (the exporter's connection lives there too), keeping what it receives.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
pub use opentelemetry_proto::tonic::trace::v1::Span;
pub use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use tokio_stream::wrappers::TcpListenerStream;

/// A span as received, with the `service.name` of the resource that sent it.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub service_name: String,
    pub span: Span,
}

impl ReceivedSpan {
    /// The span's attribute `key`, if it is a string or an integer (as text).
    pub fn attribute(&self, key: &str) -> Option<String> {
        attribute(&self.span.attributes, key)
    }

    pub fn kind(&self) -> SpanKind {
        SpanKind::try_from(self.span.kind).unwrap_or(SpanKind::Unspecified)
    }

    /// Whether the span's status is ERROR.
    pub fn is_error(&self) -> bool {
        self.span.status.as_ref().is_some_and(|status| status.code == 2)
    }

    pub fn trace_id_hex(&self) -> String {
        hex(&self.span.trace_id)
    }

    pub fn span_id_hex(&self) -> String {
        hex(&self.span.span_id)
    }

    pub fn parent_span_id_hex(&self) -> String {
        hex(&self.span.parent_span_id)
    }
}

/// The receiver; dropping it leaves the server running until the process ends.
pub struct OtlpCollector {
    address: SocketAddr,
    runtime: tokio::runtime::Handle,
    received: Arc<Received>,
}

#[derive(Default)]
struct Received {
    /// Kept spans (none when only counting).
    spans: Mutex<Vec<ReceivedSpan>>,
    count: AtomicU64,
    keep: bool,
}

impl OtlpCollector {
    /// A receiver that keeps every span.
    pub fn start() -> OtlpCollector {
        Self::start_with(true)
    }

    /// A receiver that only counts spans (for benchmarks, which send millions).
    pub fn start_counting() -> OtlpCollector {
        Self::start_with(false)
    }

    fn start_with(keep: bool) -> OtlpCollector {
        let received = Arc::new(Received { keep, ..Received::default() });
        let service = TraceServiceServer::new(Receiver(received.clone()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("otlp-collector".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("a runtime for the collector");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the collector");
                    let address = listener.local_addr().expect("the collector's address");
                    ready_tx.send((address, tokio::runtime::Handle::current())).expect("the starter waits");
                    tonic::transport::Server::builder()
                        .add_service(service)
                        .serve_with_incoming(TcpListenerStream::new(listener))
                        .await
                        .expect("the collector serves");
                });
            })
            .expect("a thread for the collector");
        let (address, runtime) = ready_rx.recv().expect("the collector started");
        OtlpCollector { address, runtime, received }
    }

    /// `http://127.0.0.1:port`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The collector's runtime, which lives as long as the process.
    pub fn runtime(&self) -> tokio::runtime::Handle {
        self.runtime.clone()
    }

    /// Spans received so far.
    pub fn count(&self) -> u64 {
        self.received.count.load(Ordering::SeqCst)
    }

    /// Every kept span.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.spans.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The kept spans of trace `trace_id` (32 hex digits).
    pub fn trace(&self, trace_id: &str) -> Vec<ReceivedSpan> {
        let spans = self.received.spans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        spans.iter().filter(|span| span.trace_id_hex() == trace_id).cloned().collect()
    }
}

struct Receiver(Arc<Received>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let attributes = resource_spans.resource.map(|resource| resource.attributes).unwrap_or_default();
            let service_name = attribute(&attributes, "service.name").unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push(ReceivedSpan { service_name: service_name.clone(), span });
                }
            }
        }
        self.0.count.fetch_add(received.len() as u64, Ordering::SeqCst);
        if self.0.keep {
            self.0.spans.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(received);
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value {
        AnyValue { value: Some(any_value::Value::StringValue(text)) } => Some(text.clone()),
        AnyValue { value: Some(any_value::Value::IntValue(number)) } => Some(number.to_string()),
        AnyValue { value: Some(any_value::Value::BoolValue(flag)) } => Some(flag.to_string()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
