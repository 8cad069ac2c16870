//! Where a JWK set comes from (`--jwks-url`: `https://`, `file://`, or `http://` on a loopback
//! host), and [`JwksKeys`]: the current set, refreshed every so often by a background task and
//! at once (at most once per [`UNKNOWN_KID_REFRESH_GAP`]) when a token names a `kid` it lacks.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::jwks::KeySet;

/// Default pause between two refreshes of the set (`--jwks-refresh-interval`).
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(300);
/// Shortest time between two refreshes triggered by tokens with an unknown `kid`, so that a
/// flood of forged tokens cannot turn into a flood of requests to the identity provider.
pub const UNKNOWN_KID_REFRESH_GAP: Duration = Duration::from_secs(30);
/// How long one fetch of the set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest JWK set accepted, in bytes.
const MAX_SET_BYTES: usize = 1 << 20;

/// Where the JWK set is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JwksSource {
    /// `https://…`, or `http://…` on a loopback host.
    Url(http::Uri),
    /// `file://…`: a set mounted from a ConfigMap, say.
    File(PathBuf),
}

impl JwksSource {
    /// Parses `--jwks-url`: `https://host/path`, `file:///absolute/path`, or `http://` only when
    /// the host is a loopback address or `localhost` (tests, a sidecar on the same pod).
    pub(crate) fn parse(url: &str) -> anyhow::Result<JwksSource> {
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                bail!("--jwks-url (AUTH_JWKS_URL) {url:?} names no file");
            }
            return Ok(JwksSource::File(PathBuf::from(path)));
        }
        let uri: http::Uri =
            url.parse().with_context(|| format!("--jwks-url (AUTH_JWKS_URL) {url:?} is not a URL"))?;
        let host = uri.host().unwrap_or_default();
        match uri.scheme_str() {
            Some("https") if !host.is_empty() => Ok(JwksSource::Url(uri)),
            Some("http") if is_loopback(host) => Ok(JwksSource::Url(uri)),
            Some("http") => bail!(
                "--jwks-url (AUTH_JWKS_URL) {url:?}: http:// is accepted only for a loopback host, use https://"
            ),
            _ => bail!("--jwks-url (AUTH_JWKS_URL) {url:?} must be an https:// or file:// URL"),
        }
    }

    /// Reads the set once.
    async fn fetch(&self, client: &HttpClient) -> anyhow::Result<KeySet> {
        let bytes = match self {
            JwksSource::File(path) => {
                tokio::fs::read(path).await.with_context(|| format!("cannot read {}", path.display()))?.into()
            }
            JwksSource::Url(uri) => tokio::time::timeout(FETCH_TIMEOUT, get(client, uri))
                .await
                .with_context(|| format!("no answer from {uri} within {FETCH_TIMEOUT:?}"))??,
        };
        KeySet::parse(&bytes).with_context(|| format!("invalid JWK set at {self}"))
    }
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksSource::Url(uri) => write!(f, "{uri}"),
            JwksSource::File(path) => write!(f, "file://{}", path.display()),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// An HTTP/1.1 client: rustls with the ring provider, Mozilla's roots (webpki-roots, compiled
/// in, so a minimal image needs no CA bundle) for https://, plain TCP for http://.
fn http_client() -> anyhow::Result<HttpClient> {
    // ring, as for every other TLS in the services (rustls 0.23.48 deprecates it for lacking
    // post-quantum key exchange; aws-lc-rs, which has it, needs a heavy C build).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(provider)
        .context("cannot set up TLS for the JWKS client")?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

async fn get(client: &HttpClient, uri: &http::Uri) -> anyhow::Result<Bytes> {
    let request = http::Request::get(uri.clone())
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::new())
        .context("cannot build the JWKS request")?;
    let response = client.request(request).await.with_context(|| format!("cannot fetch {uri}"))?;
    if !response.status().is_success() {
        bail!("{uri} answered {}", response.status());
    }
    let body = Limited::new(response.into_body(), MAX_SET_BYTES).collect().await;
    let body = body.map_err(|err| anyhow::anyhow!("cannot read the JWK set from {uri}: {err}"))?;
    Ok(body.to_bytes())
}

/// The current JWK set of a [`JwksSource`], refreshed in the background.
pub(crate) struct JwksKeys {
    source: JwksSource,
    client: HttpClient,
    current: RwLock<Arc<KeySet>>,
    /// Bumped whenever the set changes: verified tokens remembered under an older generation
    /// are verified again (a key withdrawn from the set stops working at once).
    generation: AtomicU64,
    /// Held while fetching (one fetch at a time); the instant of the last refresh triggered by
    /// an unknown `kid`.
    refreshing: Mutex<Option<Instant>>,
}

impl JwksKeys {
    /// Loads the set from `source` (an error if it cannot be read or holds no usable key), and
    /// refreshes it every `interval` for as long as the returned value lives.
    pub(crate) async fn load(source: JwksSource, interval: Duration) -> anyhow::Result<Arc<JwksKeys>> {
        let client = http_client()?;
        let set = source.fetch(&client).await?;
        tracing::info!(source = %source, kids = ?set.kids(), keys = set.len(), "token keys loaded");
        let keys = Arc::new(JwksKeys {
            source,
            client,
            current: RwLock::new(Arc::new(set)),
            generation: AtomicU64::new(0),
            refreshing: Mutex::new(None),
        });
        tokio::spawn(refresh_every(Arc::downgrade(&keys), interval));
        Ok(keys)
    }

    /// The current set and its generation.
    pub(crate) fn current(&self) -> (Arc<KeySet>, u64) {
        // Read under the lock the refresh holds while it swaps the set and bumps the generation.
        let set = self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        (set.clone(), self.generation.load(Ordering::Acquire))
    }

    /// Fetches the set and installs it if it changed; a failure keeps the current set.
    pub(crate) async fn refresh(&self) {
        match self.source.fetch(&self.client).await {
            Ok(set) => {
                let mut current = self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                if !current.same_keys(&set) {
                    tracing::info!(source = %self.source, kids = ?set.kids(), keys = set.len(), "token keys changed");
                    *current = Arc::new(set);
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
            }
            Err(err) => tracing::warn!(
                source = %self.source,
                error = format!("{err:#}"),
                "cannot refresh token keys, keeping the current ones"
            ),
        }
    }

    /// A refresh for a token whose `kid` the set lacks, unless one was made for that reason
    /// less than [`UNKNOWN_KID_REFRESH_GAP`] ago. Callers waiting here while another refreshes
    /// wait for that refresh, then look the key up again.
    pub(crate) async fn refresh_for_unknown_kid(&self) {
        let mut last = self.refreshing.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_REFRESH_GAP) {
            return;
        }
        *last = Some(Instant::now());
        tracing::debug!(source = %self.source, "a token names an unknown kid, refreshing token keys");
        self.refresh().await;
    }

    async fn refresh_periodically(&self) {
        let _fetching = self.refreshing.lock().await;
        self.refresh().await;
    }
}

/// Refreshes `keys` every `interval` until it is dropped.
async fn refresh_every(keys: Weak<JwksKeys>, interval: Duration) {
    let mut every = tokio::time::interval_at(Instant::now() + interval, interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(keys) = keys.upgrade() else { return };
        keys.refresh_periodically().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_file_urls_are_accepted_and_http_only_on_loopback() {
        assert!(matches!(
            JwksSource::parse("https://idp.example.com/.well-known/jwks.json"),
            Ok(JwksSource::Url(_))
        ));
        assert_eq!(
            JwksSource::parse("file:///etc/regserial/jwks.json").unwrap(),
            JwksSource::File("/etc/regserial/jwks.json".into())
        );
        for loopback in ["http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]:9/jwks"] {
            assert!(JwksSource::parse(loopback).is_ok(), "{loopback}");
        }
        let err = JwksSource::parse("http://idp.example.com/jwks").unwrap_err().to_string();
        assert!(err.contains("--jwks-url") && err.contains("loopback"), "{err}");
        for bad in ["ftp://x/jwks", "file://", "jwks.json", "https:///nohost"] {
            let err = JwksSource::parse(bad).unwrap_err().to_string();
            assert!(err.contains("--jwks-url (AUTH_JWKS_URL)"), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn a_file_set_is_loaded_and_a_missing_one_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        let jwk =
            super::super::jwks::tests::jwk(jsonwebtoken::Algorithm::EdDSA, Some("k1"), serde_json::json!({}));
        std::fs::write(&path, serde_json::json!({ "keys": [jwk] }).to_string()).unwrap();
        let keys = JwksKeys::load(JwksSource::File(path.clone()), DEFAULT_REFRESH_INTERVAL).await.unwrap();
        assert_eq!(keys.current().0.kids(), ["k1"]);

        let missing = JwksSource::File(dir.path().join("missing.json"));
        let err = JwksKeys::load(missing, DEFAULT_REFRESH_INTERVAL).await.err().unwrap();
        assert!(format!("{err:#}").contains("missing.json"), "{err:#}");
    }
}
