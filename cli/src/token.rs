//! `regserial token`: prints an HS256 JWT for an organization and scopes.

use std::time::Duration;

use anyhow::{Context, bail};
use shared::auth::Scope;

#[derive(clap::Args)]
pub struct TokenArgs {
    /// Organization (tenant) the token acts for.
    #[arg(long)]
    org: String,
    /// Space-separated scopes, e.g. "serials:read serials:write".
    #[arg(long)]
    scope: String,
    /// Subject (`sub`), recorded as the actor of changes.
    #[arg(long, default_value = "regserial-cli")]
    sub: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_secs: u64,
    /// Shared HS256 secret the services verify tokens with.
    #[arg(long, env = "AUTH_JWT_SECRET", hide_env_values = true, value_name = "SECRET")]
    jwt_secret: String,
}

pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    let scopes = parse_scopes(&args.scope)?;
    if args.ttl_secs == 0 {
        bail!("--ttl-secs must be at least 1, got 0");
    }
    if args.jwt_secret.is_empty() {
        bail!("--jwt-secret (AUTH_JWT_SECRET) must not be empty");
    }
    let ttl = Duration::from_secs(args.ttl_secs);
    let token = shared::auth::mint_hs256(args.jwt_secret.as_bytes(), &args.org, &args.sub, &scopes, ttl)?;
    println!("{token}");
    Ok(())
}

/// Space-separated scope names, at least one.
fn parse_scopes(raw: &str) -> anyhow::Result<Vec<Scope>> {
    let scopes = raw
        .split_whitespace()
        .map(|name| name.parse::<Scope>())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| {
            let known = Scope::ALL.map(Scope::as_str).join(" ");
            format!("invalid --scope (known scopes: {known})")
        })?;
    if scopes.is_empty() {
        bail!("--scope must name at least one scope");
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_space_separated_and_unknown_ones_refused() {
        let scopes = parse_scopes(" serials:read  registrations:write ").unwrap();
        assert_eq!(scopes, [Scope::SerialsRead, Scope::RegistrationsWrite]);
        let err = format!("{:#}", parse_scopes("serials:admin").unwrap_err());
        assert!(err.contains("serials:admin") && err.contains("known scopes"), "{err}");
        assert!(parse_scopes("  ").is_err());
    }
}
