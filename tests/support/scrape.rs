//! Scraping a `/metrics` endpoint over real HTTP/1.1, and reading its Prometheus text.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One scrape: each sample by metric name and its labels (sorted).
#[derive(Debug, Default)]
pub struct Samples(BTreeMap<(String, Vec<(String, String)>), f64>);

impl Samples {
    /// The sample of `name` with exactly `labels` (0 when absent: a counter not incremented yet).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The sample of `name` with exactly `labels`, if present.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Vec<(String, String)> =
            labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        labels.sort();
        self.0.get(&(name.to_owned(), labels)).copied()
    }

    /// Every sample of `name`.
    pub fn all(&self, name: &str) -> Vec<(&[(String, String)], f64)> {
        self.0
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|((_, labels), v)| (labels.as_slice(), *v))
            .collect()
    }
}

/// `GET /metrics` on `addr`: the content type and the samples.
pub async fn scrape(addr: SocketAddr) -> (String, Samples) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect to the metrics endpoint");
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send the scrape");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read the scrape");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.trim().to_owned())
    };
    assert_eq!(header("content-length").and_then(|v| v.parse().ok()), Some(body.len()), "{head}");
    (header("content-type").unwrap_or_default(), parse(body))
}

/// Prometheus text: `name{k="v",...} value` lines, `#` comments.
fn parse(text: &str) -> Samples {
    let mut samples = Samples::default();
    for line in text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("a value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, labels(rest.strip_suffix('}').expect("closing brace"))),
            None => (series, Vec::new()),
        };
        samples.0.insert((name.to_owned(), labels), value);
    }
    samples
}

/// `k="v",k2="v2"` (values here hold no quotes or commas).
fn labels(text: &str) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = text
        .split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("k=v");
            (key.to_owned(), value.trim_matches('"').to_owned())
        })
        .collect();
    labels.sort();
    labels
}
