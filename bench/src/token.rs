//! The benchmark's credentials: a random HS256 secret shared with serial-svc, and a token that
//! carries every scope.

use std::time::Duration;

use shared::auth::{Scope, mint_hs256};

/// Long enough for the longest run, short enough not to matter if it leaked.
const TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);

/// 64 hex characters (244 random bits) from two v4 UUIDs.
pub fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// A token of org `bench`, subject `bench`, with every scope, so that no benchmarked call is
/// refused for want of one.
pub fn mint(secret: &str) -> anyhow::Result<String> {
    mint_hs256(secret.as_bytes(), "bench", "bench", &Scope::ALL, TOKEN_TTL)
}

#[cfg(test)]
mod tests {
    use shared::auth::Authenticator;
    use tonic::metadata::{MetadataMap, MetadataValue};

    use super::*;

    #[test]
    fn the_token_passes_the_services_own_check_with_every_scope() -> anyhow::Result<()> {
        let secret = random_secret();
        assert_eq!(secret.len(), 64);
        let mut metadata = MetadataMap::new();
        metadata.insert("authorization", MetadataValue::try_from(format!("Bearer {}", mint(&secret)?))?);
        let principal = Authenticator::hs256(secret.as_bytes(), "bench").authenticate(&metadata)?;
        assert_eq!((principal.org.as_str(), principal.subject.as_str()), ("bench", "bench"));
        assert_eq!(principal.scopes(), Scope::ALL);
        Ok(())
    }
}
