//! gRPC server TLS from a PEM certificate chain and private key (`--tls-cert`, `--tls-key`):
//! both set, the server speaks TLS only (rustls with the ring provider, HTTP/2 by ALPN); neither
//! set, plaintext, the default.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::Identity;
use tonic::transport::server::{Server, ServerTlsConfig};

/// Longest a client may take over its TLS handshake before the connection is dropped.
pub const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(clap::Args, Clone, Debug, Default)]
pub struct TlsArgs {
    /// PEM certificate chain the gRPC server presents (with --tls-key; plaintext when neither
    /// is set).
    #[arg(long = "tls-cert", env = "TLS_CERT_FILE", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long = "tls-key", env = "TLS_KEY_FILE", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// Checks that both or neither flag is set, without reading the files.
    pub fn validate(&self) -> anyhow::Result<()> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => {
                bail!("--tls-cert (TLS_CERT_FILE) is set but --tls-key (TLS_KEY_FILE) is missing")
            }
            (None, Some(_)) => {
                bail!("--tls-key (TLS_KEY_FILE) is set but --tls-cert (TLS_CERT_FILE) is missing")
            }
            _ => Ok(()),
        }
    }

    /// Whether the server is to speak TLS.
    pub fn enabled(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }

    /// The server TLS configuration, or None for plaintext; an error names the flag and the
    /// file that cannot be read or holds no certificate / key, or a key that is not the
    /// certificate's.
    pub fn server_config(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        self.validate()?;
        let (Some(cert_path), Some(key_path)) = (&self.tls_cert, &self.tls_key) else { return Ok(None) };
        let cert = read("--tls-cert", cert_path)?;
        let key = read("--tls-key", key_path)?;
        let certs = CertificateDer::pem_slice_iter(&cert).collect::<Result<Vec<_>, _>>();
        if certs.as_ref().map_or(true, Vec::is_empty) {
            bail!("--tls-cert {}: no PEM certificate in it", cert_path.display());
        }
        if PrivateKeyDer::from_pem_slice(&key).is_err() {
            bail!("--tls-key {}: no PEM private key in it", key_path.display());
        }
        let config =
            ServerTlsConfig::new().identity(Identity::from_pem(cert, key)).timeout(TLS_HANDSHAKE_TIMEOUT);
        // Builds the acceptor now, so that a key that does not match the certificate fails at
        // startup rather than at the first handshake.
        Server::builder().tls_config(config.clone()).map_err(|err| {
            anyhow::anyhow!(
                "--tls-cert {} and --tls-key {} do not make a usable TLS identity: {err}",
                cert_path.display(),
                key_path.display()
            )
        })?;
        Ok(Some(config))
    }

    /// `server` with TLS when both flags are set, unchanged otherwise.
    pub fn apply<L>(&self, server: Server<L>) -> anyhow::Result<Server<L>> {
        match self.server_config()? {
            Some(config) => server.tls_config(config).context("cannot set up the server's TLS"),
            None => Ok(server),
        }
    }
}

fn read(flag: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cert: Option<&Path>, key: Option<&Path>) -> TlsArgs {
        TlsArgs { tls_cert: cert.map(Path::to_owned), tls_key: key.map(Path::to_owned) }
    }

    fn write(dir: &tempfile::TempDir, name: &str, contents: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn plaintext_is_the_default_and_one_flag_alone_is_named_as_incomplete() {
        assert!(TlsArgs::default().server_config().unwrap().is_none());
        let err = args(Some(Path::new("c.pem")), None).validate().unwrap_err().to_string();
        assert!(err.contains("--tls-key (TLS_KEY_FILE) is missing"), "{err}");
        let err = args(None, Some(Path::new("k.pem"))).validate().unwrap_err().to_string();
        assert!(err.contains("--tls-cert (TLS_CERT_FILE) is missing"), "{err}");
    }

    #[test]
    fn a_generated_certificate_and_key_make_a_tls_server() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert_path = write(&dir, "cert.pem", &cert.cert.pem());
        let key_path = write(&dir, "key.pem", &cert.signing_key.serialize_pem());
        assert!(args(Some(&cert_path), Some(&key_path)).server_config().unwrap().is_some());
    }

    #[test]
    fn unreadable_or_invalid_files_are_named_with_their_flag() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert_path = write(&dir, "cert.pem", &cert.cert.pem());
        let key_path = write(&dir, "key.pem", &cert.signing_key.serialize_pem());
        let garbage = write(&dir, "garbage.pem", "not a pem");
        let missing = dir.path().join("missing.pem");

        let message = |cert: &Path, key: &Path| {
            format!("{:#}", args(Some(cert), Some(key)).server_config().unwrap_err())
        };
        let err = message(&missing, &key_path);
        assert!(err.contains("cannot read --tls-cert") && err.contains("missing.pem"), "{err}");
        let err = message(&cert_path, &missing);
        assert!(err.contains("cannot read --tls-key") && err.contains("missing.pem"), "{err}");
        let err = message(&garbage, &key_path);
        assert!(err.contains("--tls-cert") && err.contains("no PEM certificate"), "{err}");
        let err = message(&cert_path, &garbage);
        assert!(err.contains("--tls-key") && err.contains("no PEM private key"), "{err}");
        // A key that is not the certificate's.
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let other_key = write(&dir, "other.pem", &other.signing_key.serialize_pem());
        let err = message(&cert_path, &other_key);
        assert!(err.contains("usable TLS identity"), "{err}");
    }
}
