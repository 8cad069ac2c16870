//! The command-line flags (with environment fallbacks) choosing how tokens are verified.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use super::Authenticator;
use super::jwks_source::{DEFAULT_REFRESH_INTERVAL, JwksKeys, JwksSource};
use super::jwt::{Expected, public_key};

/// How a service verifies tokens: exactly one of a shared HS256 secret, a public key file or a
/// JWK set; and the `iss` and `aud` they must carry, if any.
#[derive(clap::Args, Clone)]
pub struct AuthArgs {
    /// Shared secret of HS256 tokens.
    #[arg(long = "jwt-secret", env = "AUTH_JWT_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub jwt_secret: Option<String>,

    /// PEM file of the Ed25519 (EdDSA) or RSA (RS256) public key that verifies tokens.
    #[arg(long = "jwt-public-key-file", env = "AUTH_JWT_PUBLIC_KEY_FILE", value_name = "PATH")]
    pub jwt_public_key_file: Option<PathBuf>,

    /// JWK set of the RSA (RS256) and Ed25519 (EdDSA) keys that verify tokens, chosen by `kid`:
    /// `https://…` or `file://…` (`http://` only on a loopback host).
    #[arg(long = "jwks-url", env = "AUTH_JWKS_URL", value_name = "URL")]
    pub jwks_url: Option<String>,

    /// How often the JWK set is read again (a token with an unknown `kid` also triggers a
    /// refresh, at most one per 30 s).
    #[arg(long = "jwks-refresh-interval", env = "AUTH_JWKS_REFRESH_INTERVAL", value_name = "DURATION", default_value = "5m", value_parser = parse_refresh_interval)]
    pub jwks_refresh_interval: Duration,

    /// The `iss` every token must carry (not checked when unset).
    #[arg(long = "jwt-issuer", env = "AUTH_JWT_ISSUER", value_name = "ISSUER")]
    pub jwt_issuer: Option<String>,

    /// A value every token's `aud` must hold (not checked when unset).
    #[arg(long = "jwt-audience", env = "AUTH_JWT_AUDIENCE", value_name = "AUDIENCE")]
    pub jwt_audience: Option<String>,
}

impl Default for AuthArgs {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_public_key_file: None,
            jwks_url: None,
            jwks_refresh_interval: DEFAULT_REFRESH_INTERVAL,
            jwt_issuer: None,
            jwt_audience: None,
        }
    }
}

impl fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthArgs")
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .field("jwks_url", &self.jwks_url)
            .field("jwks_refresh_interval", &self.jwks_refresh_interval)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .finish()
    }
}

const SOURCES: &str = "--jwt-secret (AUTH_JWT_SECRET), --jwt-public-key-file (AUTH_JWT_PUBLIC_KEY_FILE) and --jwks-url (AUTH_JWKS_URL)";

fn parse_refresh_interval(value: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(value).map_err(|err| err.to_string())?;
    if interval < Duration::from_millis(100) {
        return Err(format!("must be at least 100ms, got {value}"));
    }
    Ok(interval)
}

impl AuthArgs {
    /// Checks the flags without reading any key: exactly one key source, a well-formed JWKS
    /// URL, no empty values.
    pub fn validate(&self) -> anyhow::Result<()> {
        let sources =
            [self.jwt_secret.is_some(), self.jwt_public_key_file.is_some(), self.jwks_url.is_some()];
        match sources.iter().filter(|set| **set).count() {
            0 => bail!("set one of {SOURCES} to verify tokens"),
            1 => {}
            _ => bail!("set only one of {SOURCES}"),
        }
        if self.jwt_secret.as_deref() == Some("") {
            bail!("--jwt-secret (AUTH_JWT_SECRET) must not be empty");
        }
        if let Some(url) = &self.jwks_url {
            JwksSource::parse(url)?;
        }
        if self.jwt_issuer.as_deref() == Some("") {
            bail!("--jwt-issuer (AUTH_JWT_ISSUER) must not be empty when set");
        }
        if self.jwt_audience.as_deref() == Some("") {
            bail!("--jwt-audience (AUTH_JWT_AUDIENCE) must not be empty when set");
        }
        Ok(())
    }

    /// Whether tokens are verified with a shared secret (which can also sign page tokens and
    /// the recovery worker's tokens), rather than with public keys only.
    pub fn has_secret(&self) -> bool {
        self.jwt_secret.is_some()
    }

    /// The authenticator these flags describe; `domain` is the ErrorInfo domain of refusals.
    /// With `--jwks-url`, the set is read now (an error if it cannot be, or holds no usable key)
    /// and then refreshed in the background for as long as the authenticator lives.
    pub async fn authenticator(&self, domain: &'static str) -> anyhow::Result<Authenticator> {
        self.validate()?;
        let expected = Expected { issuer: self.jwt_issuer.clone(), audience: self.jwt_audience.clone() };
        if let Some(secret) = &self.jwt_secret {
            let key = super::jwks::VerifyingKey {
                key: jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
                algorithm: jsonwebtoken::Algorithm::HS256,
            };
            return Ok(Authenticator::fixed(key, expected, domain));
        }
        if let Some(path) = &self.jwt_public_key_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read --jwt-public-key-file {}", path.display()))?;
            let key = public_key(&pem)
                .with_context(|| format!("invalid --jwt-public-key-file {}", path.display()))?;
            return Ok(Authenticator::fixed(key, expected, domain));
        }
        let url = self.jwks_url.as_deref().unwrap_or_default();
        let keys = JwksKeys::load(JwksSource::parse(url)?, self.jwks_refresh_interval)
            .await
            .with_context(|| format!("cannot load the token keys of --jwks-url {url}"))?;
        Ok(Authenticator::jwks(keys, expected, domain))
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
        AuthArgs { jwt_secret: secret.map(str::to_owned), jwt_public_key_file: file, ..AuthArgs::default() }
    }

    #[tokio::test]
    async fn exactly_one_source_of_keys_is_required_and_every_flag_is_named() {
        let jwks =
            AuthArgs { jwks_url: Some("https://idp.example.com/jwks".into()), ..args(Some("s"), None) };
        for none_or_several in [args(None, None), args(Some("s"), Some("k.pem".into())), jwks] {
            let err = none_or_several.authenticator("d").await.unwrap_err().to_string();
            for flag in ["--jwt-secret", "--jwt-public-key-file", "--jwks-url"] {
                assert!(err.contains(flag), "{err}");
            }
        }
        assert!(args(Some(""), None).authenticator("d").await.is_err());
        assert!(args(Some("secret"), None).authenticator("d").await.is_ok());
        let plain_http =
            AuthArgs { jwks_url: Some("http://idp.example.com/jwks".into()), ..args(None, None) };
        assert!(plain_http.validate().unwrap_err().to_string().contains("loopback"));
        let empty_issuer = AuthArgs { jwt_issuer: Some(String::new()), ..args(Some("s"), None) };
        assert!(empty_issuer.validate().unwrap_err().to_string().contains("--jwt-issuer"));
    }

    #[tokio::test]
    async fn a_public_key_file_is_read_and_checked() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(include_bytes!("testdata/ed25519_public.pem")).unwrap();
        assert!(args(None, Some(file.path().to_owned())).authenticator("d").await.is_ok());
        let err = args(None, Some("/nonexistent/key.pem".into())).authenticator("d").await.unwrap_err();
        assert!(format!("{err:#}").contains("cannot read --jwt-public-key-file"), "{err:#}");
    }

    #[tokio::test]
    async fn an_unreadable_jwks_is_a_startup_error_naming_the_flag() {
        let args = AuthArgs { jwks_url: Some("file:///nonexistent/jwks.json".into()), ..args(None, None) };
        let err = format!("{:#}", args.authenticator("d").await.unwrap_err());
        assert!(err.contains("--jwks-url file:///nonexistent/jwks.json"), "{err}");
    }

    #[test]
    fn key_flags_are_parsed_with_their_defaults() {
        let cli =
            Cli::try_parse_from(["svc", "--jwks-url", "https://idp/jwks", "--jwt-issuer", "https://idp/"])
                .unwrap();
        assert_eq!(cli.auth.jwks_url.as_deref(), Some("https://idp/jwks"));
        assert_eq!(cli.auth.jwks_refresh_interval, Duration::from_secs(300));
        assert_eq!(
            (cli.auth.jwt_issuer.as_deref(), cli.auth.jwt_audience.as_deref()),
            (Some("https://idp/"), None)
        );
        let cli = Cli::try_parse_from(["svc", "--jwks-refresh-interval", "1m 30s"]).unwrap();
        assert_eq!(cli.auth.jwks_refresh_interval, Duration::from_secs(90));
        assert!(Cli::try_parse_from(["svc", "--jwks-refresh-interval", "10ms"]).is_err());
    }

    #[test]
    fn the_secret_is_parsed_from_flags_and_never_shown() {
        let cli = Cli::try_parse_from(["svc", "--jwt-secret", "hunter2-hunter2"]).unwrap();
        assert_eq!(cli.auth.jwt_secret.as_deref(), Some("hunter2-hunter2"));
        let shown = format!("{:?}", cli.auth);
        assert!(!shown.contains("hunter2") && shown.contains("redacted"), "{shown}");
    }
}
