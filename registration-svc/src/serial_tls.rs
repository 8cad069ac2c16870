//! TLS to serial-svc: an `https://` `--serial-endpoint` is verified against the CA of
//! `--serial-ca` (`SERIAL_SVC_CA_FILE`), or, without it, against Mozilla's roots compiled in by
//! webpki-roots (not the system's store: the image needs no CA bundle); the name verified is the
//! endpoint's host. An `http://` endpoint is plaintext, the default.

use std::path::Path;

use anyhow::{Context, bail};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tonic::transport::{Certificate, ClientTlsConfig};

/// The client TLS configuration for `endpoint`, or None when it is plaintext.
pub fn client_tls(endpoint: &str, ca_file: Option<&Path>) -> anyhow::Result<Option<ClientTlsConfig>> {
    let uri = url::Url::parse(endpoint)
        .with_context(|| format!("--serial-endpoint (SERIAL_SVC_ENDPOINT) {endpoint:?} is not a URL"))?;
    if uri.scheme() != "https" {
        if let Some(ca) = ca_file {
            bail!(
                "--serial-ca (SERIAL_SVC_CA_FILE) {} needs an https:// --serial-endpoint (SERIAL_SVC_ENDPOINT), got {endpoint}",
                ca.display()
            );
        }
        return Ok(None);
    }
    let host = uri
        .host_str()
        .filter(|host| !host.is_empty())
        .with_context(|| format!("--serial-endpoint (SERIAL_SVC_ENDPOINT) {endpoint:?} has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let tls = ClientTlsConfig::new().domain_name(host);
    let Some(ca_file) = ca_file else { return Ok(Some(tls.with_webpki_roots())) };
    let pem =
        std::fs::read(ca_file).with_context(|| format!("cannot read --serial-ca {}", ca_file.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>();
    if certs.as_ref().map_or(true, Vec::is_empty) {
        bail!("--serial-ca {}: no PEM certificate in it", ca_file.display());
    }
    Ok(Some(tls.ca_certificate(Certificate::from_pem(pem))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_stays_plaintext_and_a_ca_needs_https() {
        assert!(client_tls("http://127.0.0.1:50051", None).unwrap().is_none());
        let err = client_tls("http://serial-svc:50051", Some(Path::new("/ca.pem"))).unwrap_err().to_string();
        assert!(err.contains("--serial-ca") && err.contains("https://"), "{err}");
    }

    #[test]
    fn https_uses_the_ca_file_or_the_webpki_roots() {
        assert!(client_tls("https://serial-svc.prod.svc:50051", None).unwrap().is_some());
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let cert = rcgen::generate_simple_self_signed(vec!["serial-svc".to_owned()]).unwrap();
        std::fs::write(&ca, cert.cert.pem()).unwrap();
        assert!(client_tls("https://serial-svc:50051", Some(&ca)).unwrap().is_some());

        let err = format!(
            "{:#}",
            client_tls("https://serial-svc:50051", Some(&dir.path().join("no.pem"))).unwrap_err()
        );
        assert!(err.contains("cannot read --serial-ca") && err.contains("no.pem"), "{err}");
        std::fs::write(&ca, "garbage").unwrap();
        let err = client_tls("https://serial-svc:50051", Some(&ca)).unwrap_err().to_string();
        assert!(err.contains("--serial-ca") && err.contains("no PEM certificate"), "{err}");
    }
}
