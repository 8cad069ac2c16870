//! Both services on TLS, with certificates made here by rcgen (a CA, and a server certificate
//! for `localhost` and 127.0.0.1 signed by it): registration-svc reaches serial-svc over
//! https:// verified against `--serial-ca`; a client trusting the CA is served (health and
//! calls); a plaintext client and a client trusting another CA are refused; a registration-svc
//! given the wrong CA cannot reach serial-svc.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use regserial::registration::v1::RegistrationStatus;
use regserial::registration::v1::registration_service_client::RegistrationServiceClient;
use regserial::serial::v1::{GetSerialRequest, SerialStatus};
use shared::clock::SystemClock;
use shared::testing::TestDb;
use support::grpc::{Bearer, Clients};
use support::registration::{RegistrationSvc, create_request, new_request_id, registration};
use support::{ALL_SCOPES, ORG, SECRET, SerialSvc};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A CA, a server certificate it signed, and another CA that signed nothing here.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
    other_ca_pem: String,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (ca_pem, issuer) = ca("regserial test ca");
        let (other_ca_pem, _) = ca("somebody else's ca");
        let key = KeyPair::generate().expect("a server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.key_usages.push(KeyUsagePurpose::DigitalSignature);
        params.extended_key_usages.push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
        let cert = params.signed_by(&key, &issuer).expect("sign the server certificate");
        for (name, contents) in [
            ("ca.pem", ca_pem.as_str()),
            ("other-ca.pem", other_ca_pem.as_str()),
            ("server.pem", cert.pem().as_str()),
            ("server.key", key.serialize_pem().as_str()),
        ] {
            std::fs::write(dir.path().join(name), contents).expect("write a pem file");
        }
        Pki { dir, ca_pem, other_ca_pem }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The flags serving TLS with the server certificate.
    fn server_flags(&self) -> Vec<String> {
        vec!["--tls-cert".into(), self.path("server.pem"), "--tls-key".into(), self.path("server.key")]
    }
}

fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages.extend([KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign]);
    let key = KeyPair::generate().expect("a CA key");
    let cert = params.self_signed(&key).expect("self-sign the CA");
    (cert.pem(), Issuer::new(params, key))
}

/// A lazy channel to `addr` over TLS, trusting `ca_pem`, verifying the name `localhost`.
fn tls_channel(addr: std::net::SocketAddr, ca_pem: &str) -> Channel {
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem)).domain_name("localhost");
    Endpoint::from_shared(format!("https://{addr}")).unwrap().tls_config(tls).unwrap().connect_lazy()
}

fn plaintext_channel(addr: std::net::SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}")).unwrap().connect_lazy()
}

async fn health(channel: Channel) -> Result<ServingStatus, tonic::Status> {
    let reply = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await?;
    Ok(ServingStatus::try_from(reply.into_inner().status).expect("a known status"))
}

/// Polls health over `channel` until SERVING (bounded: 30 s).
async fn wait_serving(channel: &Channel, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while health(channel.clone()).await.ok() != Some(ServingStatus::Serving) {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not become SERVING over TLS");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn token() -> String {
    shared::auth::mint_hs256(SECRET.as_bytes(), ORG, "tester", ALL_SCOPES, Duration::from_secs(600)).unwrap()
}

fn registrations(
    channel: Channel,
) -> RegistrationServiceClient<tonic::service::interceptor::InterceptedService<Channel, Bearer>> {
    let bearer = Bearer(Some(format!("Bearer {}", token()).parse().unwrap()));
    RegistrationServiceClient::with_interceptor(channel, bearer)
}

async fn fresh_db_like(db: &TestDb) -> TestDb {
    if db.url.starts_with("sqlite") {
        TestDb::sqlite()
    } else {
        TestDb::postgres().await.expect("PostgreSQL answered a moment ago")
    }
}

/// The refusal of a client that cannot complete the handshake: a transport error, never an
/// answer of the service; returns its whole chain of causes.
fn assert_transport_refused(result: Result<ServingStatus, tonic::Status>, what: &str) -> String {
    let status = result.expect_err(what);
    let source = std::error::Error::source(&status);
    assert!(
        source.is_some_and(|source| source.is::<tonic::transport::Error>()),
        "{what}: refused by the transport, not answered: {status:?}"
    );
    let mut chain = String::new();
    let mut cause = source;
    while let Some(err) = cause {
        chain.push_str(&format!("{err}: "));
        cause = err.source();
    }
    chain
}

async fn a_registration_goes_through_both_services_over_tls(db: TestDb) {
    let pki = Pki::new();
    let clock = Arc::new(SystemClock);
    let flags = pki.server_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let serial = SerialSvc::launch(fresh_db_like(&db).await, clock.clone(), &flags).await;
    let serial_tls = tls_channel(serial.addr, &pki.ca_pem);
    wait_serving(&serial_tls, "serial-svc").await;

    let mut extra = pki.server_flags();
    extra.extend(["--serial-ca".to_owned(), pki.path("ca.pem")]);
    let serial_endpoint = format!("https://127.0.0.1:{}", serial.addr.port());
    let registration_svc = RegistrationSvc::launch(
        "127.0.0.1:0".parse().unwrap(),
        &db.url,
        &serial_endpoint,
        clock.clone(),
        &extra,
    )
    .await;
    let registration_tls = tls_channel(registration_svc.addr, &pki.ca_pem);
    wait_serving(&registration_tls, "registration-svc").await;

    let mut serials = Clients::new(serial_tls.clone(), token());
    support::serials::create(&mut serials, &["TLS-1", "TLS-2"]).await;
    let create = create_request(registration("ada@example.com", &["TLS-1"]), Some(&new_request_id()));
    let created =
        registrations(registration_tls.clone()).create_registration(create).await.expect("created over tls");
    let created = created.into_inner();
    assert_eq!(created.status(), RegistrationStatus::Pending);
    let get = GetSerialRequest { serial_number: "TLS-1".into() };
    let claimed = serials.serials.get_serial(get).await.unwrap().into_inner();
    assert_eq!(
        (claimed.status(), claimed.claimant.as_str()),
        (SerialStatus::Registered, created.id.as_str())
    );

    for (what, addr) in [("serial-svc", serial.addr), ("registration-svc", registration_svc.addr)] {
        assert_transport_refused(health(plaintext_channel(addr)).await, &format!("plaintext to {what}"));
        let chain = assert_transport_refused(
            health(tls_channel(addr, &pki.other_ca_pem)).await,
            &format!("{what} with a certificate the client's CA did not sign"),
        );
        assert!(chain.contains("UnknownIssuer"), "{what}: {chain}");
        let mut plaintext = Clients::new(plaintext_channel(addr), token());
        let call = plaintext.serials.get_serial(GetSerialRequest { serial_number: "TLS-1".into() });
        let status = call.await.expect_err("a plaintext call is refused");
        assert!(std::error::Error::source(&status).is_some(), "a plaintext call to {what}: {status:?}");
    }

    // A registration-svc trusting another CA refuses serial-svc's certificate: serial-svc is
    // unreachable to it, and nothing is claimed.
    let mut wrong_ca = pki.server_flags();
    wrong_ca.extend(["--serial-ca".to_owned(), pki.path("other-ca.pem")]);
    let other_db = fresh_db_like(&db).await;
    let misconfigured = RegistrationSvc::launch(
        "127.0.0.1:0".parse().unwrap(),
        &other_db.url,
        &serial_endpoint,
        clock,
        &wrong_ca,
    )
    .await;
    let misconfigured_tls = tls_channel(misconfigured.addr, &pki.ca_pem);
    wait_serving(&misconfigured_tls, "the registration-svc with the wrong CA").await;
    let create = create_request(registration("bob@example.com", &["TLS-2"]), Some(&new_request_id()));
    let refused = registrations(misconfigured_tls).create_registration(create).await.unwrap_err();
    let failure = support::grpc::failure(&refused);
    assert_eq!(
        (failure.code, failure.reason.as_str()),
        (Code::Unavailable, "DEPENDENCY_UNAVAILABLE"),
        "{refused:?}"
    );
    let get = GetSerialRequest { serial_number: "TLS-2".into() };
    assert_eq!(serials.serials.get_serial(get).await.unwrap().into_inner().status(), SerialStatus::Active);

    misconfigured.stop().await;
    registration_svc.stop().await;
    serial.stop().await;
}

/// One of --tls-cert / --tls-key alone, or a file that is not what it should be, stops the
/// service at startup naming the flag, before it opens its database.
#[tokio::test]
async fn incomplete_or_invalid_tls_flags_stop_the_service_naming_the_flag() {
    let db = TestDb::sqlite();
    let pki = Pki::new();
    let garbage = pki.dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem").unwrap();
    let cases: [(Vec<String>, &str); 3] = [
        (vec!["--tls-cert".into(), pki.path("server.pem")], "--tls-key (TLS_KEY_FILE) is missing"),
        (vec!["--tls-key".into(), pki.path("server.key")], "--tls-cert (TLS_CERT_FILE) is missing"),
        (vec!["--tls-cert".into(), path(&garbage), "--tls-key".into(), pki.path("server.key")], "--tls-cert"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["serial-svc", "--database-url", &db.url, "--jwt-secret", SECRET];
        args.extend(flags.iter().map(String::as_str));
        let config = <serial_svc::app::Config as clap::Parser>::try_parse_from(args).expect("flags parse");
        let listener = support::bind("127.0.0.1:0".parse().unwrap()).await;
        let serving = serial_svc::app::serve(config, listener, Arc::new(SystemClock), std::future::pending());
        let outcome = tokio::time::timeout(Duration::from_secs(30), serving).await.expect("stops by itself");
        let err = format!("{:#}", outcome.expect_err("a startup error"));
        assert!(err.contains(expected), "{flags:?}: {err}");
    }
}

fn path(path: &Path) -> String {
    PathBuf::from(path).display().to_string()
}

shared::per_backend!(a_registration_goes_through_both_services_over_tls);

/// With TLS on the gRPC port, `--health-listen` serves health in plaintext on a port of its
/// own, for probes that cannot speak TLS: readiness and liveness there follow the service, and
/// the listener closes with it.
#[tokio::test]
async fn a_plaintext_health_listener_answers_probes_beside_the_tls_port() {
    let pki = Pki::new();
    let mut flags = pki.server_flags();
    flags.extend(["--health-listen".to_owned(), "127.0.0.1:0".to_owned()]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let serial = SerialSvc::launch(TestDb::sqlite(), Arc::new(SystemClock), &flags).await;
    let probes = serial.probes.wait().await;
    assert_ne!(probes.port(), serial.addr.port());
    wait_serving(&plaintext_channel(probes), "serial-svc's health listener").await;
    let liveness = HealthClient::new(plaintext_channel(probes))
        .check(HealthCheckRequest { service: shared::server::LIVENESS.to_owned() })
        .await
        .expect("liveness over the plaintext health listener");
    assert_eq!(liveness.into_inner().status(), ServingStatus::Serving);
    // Only health is there: the services themselves are not.
    let mut serials = Clients::new(plaintext_channel(probes), token());
    let absent =
        serials.serials.get_serial(GetSerialRequest { serial_number: "X-1".into() }).await.unwrap_err();
    assert_eq!(absent.code(), Code::Unimplemented, "{absent:?}");
    // The gRPC port itself still refuses plaintext.
    assert_transport_refused(health(plaintext_channel(serial.addr)).await, "plaintext on the TLS port");

    serial.stop().await;
    assert!(health(plaintext_channel(probes)).await.is_err(), "the health listener closes with the service");
}
