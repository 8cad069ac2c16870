//! Traces end to end: both services export their spans over OTLP/gRPC to a collector inside
//! this test binary (a tonic server implementing the trace service), and one CreateRegistration
//! sent with a known `traceparent` is one trace across them, on SQLite and on PostgreSQL.
//!
//! The services of a test binary share its global subscriber, installed once by [`telemetry`]
//! before any service starts; JSON log lines go to [`LOGS`], read back by the tests.

mod support;

use std::collections::HashMap;
use std::sync::LazyLock;

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use shared::telemetry::otlp::Export;
use shared::telemetry::{LogCapture, TelemetryGuard, TestTelemetry};
use shared::testing::{OtlpCollector, ReceivedSpan, SpanKind, TestDb};
use support::ORG;
use support::registration::*;

shared::per_backend!(
    one_create_registration_is_one_trace_across_both_services,
    a_call_left_out_of_the_sample_exports_nothing_and_passes_that_on,
    log_lines_of_a_traced_call_carry_its_trace_id
);

const CREATE: &str = "regserial.registration.v1.RegistrationService/CreateRegistration";
const CLAIM: &str = "regserial.serial.v1.SerialService/ClaimSerial";

static COLLECTOR: LazyLock<OtlpCollector> = LazyLock::new(OtlpCollector::start);
static LOGS: LazyLock<LogCapture> = LazyLock::new(LogCapture::default);

/// Installs this binary's subscriber (once), exporting to [`COLLECTOR`].
fn telemetry() -> &'static opentelemetry_sdk::trace::SdkTracerProvider {
    shared::telemetry::init_for_tests_with(|| TestTelemetry {
        otlp_endpoint: COLLECTOR.endpoint(),
        runtime: COLLECTOR.runtime(),
        json_lines: Some(LOGS.clone()),
    })
}

/// A fresh trace id and the `traceparent` of a sampled caller span in it.
fn caller() -> (String, String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let parent_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    let traceparent = format!("00-{trace_id}-{parent_id}-01");
    (trace_id, parent_id, traceparent)
}

/// Creates a registration of one fresh serial with `traceparent`, which must succeed.
async fn create_traced(pair: &Pair, traceparent: &str) {
    seed_catalog(pair, ORG).await;
    add_serials(pair, ORG, &["TRACED-1"]).await;
    let mut create =
        tonic::Request::new(create_request(registration("ada@example.com", &["TRACED-1"]), None));
    create.metadata_mut().insert("traceparent", traceparent.parse().unwrap());
    pair.registrations(ORG).create_registration(create).await.expect("create registration");
}

fn only<'a>(spans: &'a [ReceivedSpan], name: &str, kind: SpanKind) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.span.name == name && s.kind() == kind).collect();
    assert_eq!(found.len(), 1, "one {kind:?} span {name} in {:#?}", names(spans));
    found[0]
}

fn names(spans: &[ReceivedSpan]) -> Vec<String> {
    spans.iter().map(|s| format!("{:?} {} ({})", s.kind(), s.span.name, s.span_id_hex())).collect()
}

fn assert_rpc(span: &ReceivedSpan, service: &str, method: &str) {
    assert_eq!(span.attribute("rpc.system").as_deref(), Some("grpc"), "{}", span.span.name);
    assert_eq!(span.attribute("rpc.service").as_deref(), Some(service), "{}", span.span.name);
    assert_eq!(span.attribute("rpc.method").as_deref(), Some(method), "{}", span.span.name);
    assert_eq!(span.attribute("rpc.grpc.status_code").as_deref(), Some("0"), "{}", span.span.name);
    assert!(!span.is_error(), "{}", span.span.name);
}

async fn one_create_registration_is_one_trace_across_both_services(db: TestDb) {
    let provider = telemetry();
    let backend = if db.url.starts_with("sqlite") { "sqlite" } else { "postgresql" };
    let pair = Pair::start(db).await;
    let (trace_id, parent_id, traceparent) = caller();
    create_traced(&pair, &traceparent).await;
    provider.force_flush().expect("spans exported");
    let spans = COLLECTOR.trace(&trace_id);

    // registration-svc's server span continues the caller's trace.
    let create = only(&spans, CREATE, SpanKind::Server);
    assert_eq!(create.parent_span_id_hex(), parent_id);
    assert_rpc(create, "regserial.registration.v1.RegistrationService", "CreateRegistration");
    // Its client span of the claim, and serial-svc's server span of it, child of that client span.
    let client = only(&spans, CLAIM, SpanKind::Client);
    let server = only(&spans, CLAIM, SpanKind::Server);
    assert_eq!(server.parent_span_id_hex(), client.span_id_hex(), "{:#?}", names(&spans));
    assert_rpc(client, "regserial.serial.v1.SerialService", "ClaimSerial");
    assert_rpc(server, "regserial.serial.v1.SerialService", "ClaimSerial");
    // Every span of the trace descends from the caller's span through spans of the trace.
    let by_id: HashMap<String, &ReceivedSpan> = spans.iter().map(|s| (s.span_id_hex(), s)).collect();
    let descends = |span: &ReceivedSpan| {
        let mut parent = span.parent_span_id_hex();
        while parent != parent_id {
            parent = by_id.get(&parent).map(|s| s.parent_span_id_hex()).unwrap_or_default();
            if parent.is_empty() {
                return false;
            }
        }
        true
    };
    assert!(spans.iter().all(descends), "{:#?}", names(&spans));
    assert!(descends(client) && by_id.contains_key(&client.parent_span_id_hex()));
    // The statements: the attempt and its completion in registration-svc, the claim in serial-svc.
    for operation in ["begin_registration", "claim_serial", "complete_registration"] {
        let db = only(&spans, operation, SpanKind::Client);
        assert_eq!(db.attribute("db.system").as_deref(), Some(backend), "{operation}");
        assert_eq!(db.attribute("db.operation").as_deref(), Some(operation));
    }
    let claim_statement = only(&spans, "claim_serial", SpanKind::Client);
    assert_eq!(
        claim_statement.parent_span_id_hex(),
        server.span_id_hex(),
        "the claim's statement is serial-svc's"
    );
    pair.stop().await;
}

/// A caller that did not sample its span (flags 00): neither service exports a span of the
/// call, its statements and its claim included, and none of them turns up elsewhere as the root
/// of a trace of its own (serial-svc was told the decision, the statements were never handed to
/// the exporter); its log lines still carry the trace id.
async fn a_call_left_out_of_the_sample_exports_nothing_and_passes_that_on(db: TestDb) {
    let provider = telemetry();
    let pair = Pair::start(db).await;
    let (trace_id, parent_id, _) = caller();
    let unsampled = format!("00-{trace_id}-{parent_id}-00");
    create_traced(&pair, &unsampled).await;
    pair.stop().await;
    provider.force_flush().expect("spans exported");
    assert_eq!(names(&COLLECTOR.trace(&trace_id)), Vec::<String>::new());
    let roots: Vec<_> = COLLECTOR.spans().into_iter().filter(|s| s.parent_span_id_hex().is_empty()).collect();
    let strays: Vec<_> =
        roots.iter().filter(|s| s.kind() == SpanKind::Client || s.span.name == CLAIM).cloned().collect();
    assert!(strays.is_empty(), "roots that only a call could have started: {:#?}", names(&strays));
    assert!(LOGS.lines().iter().any(|line| line.contains(&trace_id)), "the call's lines carry its trace id");
}

async fn log_lines_of_a_traced_call_carry_its_trace_id(db: TestDb) {
    telemetry();
    let pair = Pair::start(db).await;
    let (trace_id, _, traceparent) = caller();
    create_traced(&pair, &traceparent).await;
    pair.stop().await;
    let traced: Vec<serde_json::Value> = LOGS
        .lines()
        .iter()
        .filter(|line| line.contains(&trace_id))
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let request_lines: Vec<_> = traced
        .iter()
        .filter(|line| line["fields"]["message"] == "grpc request")
        .map(|line| line["fields"]["grpc.method"].as_str().unwrap_or_default())
        .collect();
    assert!(request_lines.contains(&format!("/{CREATE}").as_str()), "{traced:#?}");
    assert!(request_lines.contains(&format!("/{CLAIM}").as_str()), "{traced:#?}");
    for line in &traced {
        assert_eq!(line["trace_id"], trace_id.as_str(), "a top-level trace_id: {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_still_buffered_are_exported_when_the_guard_drops() {
    let export = Export { endpoint: COLLECTOR.endpoint(), service_name: "guard-test".to_owned() };
    let provider = {
        let _runtime = COLLECTOR.runtime().enter();
        export.provider().expect("a provider")
    };
    let mut span = provider.tracer("guard-test").start("buffered until shutdown");
    let trace_id = span.span_context().trace_id().to_string();
    span.end();
    let guard = TelemetryGuard::of_provider("guard-test", provider);
    tokio::task::spawn_blocking(move || drop(guard)).await.unwrap();
    let spans = COLLECTOR.trace(&trace_id);
    assert_eq!(spans.len(), 1, "{:#?}", names(&spans));
    assert_eq!(spans[0].span.name, "buffered until shutdown");
    assert_eq!(spans[0].service_name, "guard-test");
}
