//! PostgreSQL over TLS, as the `DATABASE_URL` says: the services' pool (`shared::db::connect`)
//! is encrypted with `sslmode=require`, verifies the server against `sslrootcert` with
//! `verify-ca`, and refuses a server its root did not sign with `verify-full`. PostgreSQL only
//! (required in CI); the local server has TLS on with the certificate `SHOW ssl_cert_file` names.

use shared::db::Db;
use shared::testing::TestDb;
use sqlx::{Connection, PgConnection};

/// `url` with `params` in place of any `sslmode` or `sslrootcert` it had.
fn with_tls_params(url: &str, params: &[(&str, &str)]) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let kept = query.split('&').filter(|param| {
        let name = param.split('=').next().unwrap_or_default();
        !param.is_empty() && name != "sslmode" && name != "sslrootcert"
    });
    let added = params.iter().map(|(name, value)| format!("{name}={value}"));
    let query: Vec<String> = kept.map(str::to_owned).chain(added).collect();
    format!("{base}?{}", query.join("&"))
}

/// Whether the connection serving this query is encrypted, asked through the services' pool.
async fn encrypted(url: &str) -> anyhow::Result<bool> {
    let Db::Postgres(pool) = shared::db::connect(url, 2).await? else { panic!("a PostgreSQL pool") };
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(ssl)
}

/// The certificate file the server presents (readable by this user, as on a Debian host).
async fn server_certificate(url: &str) -> String {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let file: String = sqlx::query_scalar("SHOW ssl_cert_file").fetch_one(&mut conn).await.unwrap();
    let on: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut conn).await.unwrap();
    assert_eq!(on, "on", "the test server must have TLS on");
    file
}

#[tokio::test]
async fn the_service_pool_is_encrypted_when_the_url_requires_it() {
    let Some(db) = TestDb::postgres().await else { return };
    let required = with_tls_params(&db.url, &[("sslmode", "require")]);
    assert!(encrypted(&required).await.unwrap(), "sslmode=require gives a TLS connection");
    let plain = with_tls_params(&db.url, &[("sslmode", "disable")]);
    assert!(!encrypted(&plain).await.unwrap(), "sslmode=disable gives a plaintext one");
}

#[tokio::test]
async fn verify_ca_accepts_the_servers_certificate_as_root() {
    let Some(db) = TestDb::postgres().await else { return };
    let root = server_certificate(&db.url).await;
    let url = with_tls_params(&db.url, &[("sslmode", "verify-ca"), ("sslrootcert", &root)]);
    assert!(encrypted(&url).await.unwrap(), "verified against {root}");
}

#[tokio::test]
async fn verify_full_refuses_a_server_the_root_did_not_sign() {
    let Some(db) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("other-root.pem");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(&root, other.cert.pem()).unwrap();
    let root = root.display().to_string();
    for mode in ["verify-full", "verify-ca"] {
        let url = with_tls_params(&db.url, &[("sslmode", mode), ("sslrootcert", &root)]);
        let err = format!("{:#}", encrypted(&url).await.expect_err("an unknown issuer is refused"));
        assert!(err.contains("invalid peer certificate: UnknownIssuer"), "{mode}: {err}");
    }
}

#[test]
fn tls_params_replace_the_urls_own() {
    assert_eq!(
        with_tls_params("postgres://u@h/db?sslmode=require&application_name=x", &[("sslmode", "disable")]),
        "postgres://u@h/db?application_name=x&sslmode=disable"
    );
    assert_eq!(
        with_tls_params("postgres://u@h/db", &[("sslmode", "require")]),
        "postgres://u@h/db?sslmode=require"
    );
}
