//! The command-line flags (with environment fallbacks) choosing how tokens are verified.

use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, bail};

use super::Authenticator;

/// How a service verifies tokens: exactly one of a shared HS256 secret or a public key file.
#[derive(clap::Args, Clone)]
pub struct AuthArgs {
    /// Shared secret of HS256 tokens.
    #[arg(long = "jwt-secret", env = "AUTH_JWT_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub jwt_secret: Option<String>,

    /// PEM file of the Ed25519 (EdDSA) or RSA (RS256) public key that verifies tokens.
    #[arg(long = "jwt-public-key-file", env = "AUTH_JWT_PUBLIC_KEY_FILE", value_name = "PATH")]
    pub jwt_public_key_file: Option<PathBuf>,
}

impl fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthArgs")
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .finish()
    }
}

impl AuthArgs {
    /// The authenticator these flags describe; `domain` is the ErrorInfo domain of refusals.
    pub fn authenticator(&self, domain: &'static str) -> anyhow::Result<Authenticator> {
        match (&self.jwt_secret, &self.jwt_public_key_file) {
            (Some(secret), None) => {
                if secret.is_empty() {
                    bail!("--jwt-secret (AUTH_JWT_SECRET) must not be empty");
                }
                Ok(Authenticator::hs256(secret.as_bytes(), domain))
            }
            (None, Some(path)) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --jwt-public-key-file {}", path.display()))?;
                Authenticator::from_public_key_pem(&pem, domain)
                    .with_context(|| format!("invalid --jwt-public-key-file {}", path.display()))
            }
            (Some(_), Some(_)) => bail!(
                "set only one of --jwt-secret (AUTH_JWT_SECRET) and --jwt-public-key-file (AUTH_JWT_PUBLIC_KEY_FILE)"
            ),
            (None, None) => bail!(
                "set --jwt-secret (AUTH_JWT_SECRET) or --jwt-public-key-file (AUTH_JWT_PUBLIC_KEY_FILE) to verify tokens"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        auth: AuthArgs,
    }

    fn args(secret: Option<&str>, file: Option<PathBuf>) -> AuthArgs {
        AuthArgs { jwt_secret: secret.map(str::to_owned), jwt_public_key_file: file }
    }

    #[test]
    fn exactly_one_source_of_keys_is_required_and_both_flags_are_named() {
        for both_or_none in [args(None, None), args(Some("s"), Some("k.pem".into()))] {
            let err = both_or_none.authenticator("d").unwrap_err().to_string();
            assert!(err.contains("--jwt-secret") && err.contains("--jwt-public-key-file"), "{err}");
        }
        assert!(args(Some(""), None).authenticator("d").is_err());
        assert!(args(Some("secret"), None).authenticator("d").is_ok());
    }

    #[test]
    fn a_public_key_file_is_read_and_checked() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(include_bytes!("testdata/ed25519_public.pem")).unwrap();
        assert!(args(None, Some(file.path().to_owned())).authenticator("d").is_ok());
        let err = args(None, Some("/nonexistent/key.pem".into())).authenticator("d").unwrap_err();
        assert!(format!("{err:#}").contains("cannot read --jwt-public-key-file"), "{err:#}");
    }

    #[test]
    fn the_secret_is_parsed_from_flags_and_never_shown() {
        let cli = Cli::try_parse_from(["svc", "--jwt-secret", "hunter2-hunter2"]).unwrap();
        assert_eq!(cli.auth.jwt_secret.as_deref(), Some("hunter2-hunter2"));
        let shown = format!("{:?}", cli.auth);
        assert!(!shown.contains("hunter2") && shown.contains("redacted"), "{shown}");
    }
}
