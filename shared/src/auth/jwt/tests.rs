use serde_json::{Value, json};
use tonic::Code;
use tonic_types::StatusExt;

use super::*;
use jsonwebtoken::{EncodingKey, Header};

const SECRET: &[u8] = b"unit-test-secret";
const DOMAIN: &str = "serial.regserial";
const ED_PRIVATE: &[u8] = include_bytes!("../testdata/ed25519_private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("../testdata/ed25519_public.pem");
const RSA_PRIVATE: &[u8] = include_bytes!("../testdata/rsa_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../testdata/rsa_public.pem");

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap()
}

fn claims() -> Value {
    json!({"org": "acme", "sub": "user-1", "scope": "serials:read serials:write", "exp": now() + 600})
}

fn sign(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(claims, Algorithm::HS256, &EncodingKey::from_secret(SECRET))
}

fn metadata(header: &str) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    metadata.insert("authorization", header.parse().unwrap());
    metadata
}

fn bearer(token: &str) -> MetadataMap {
    metadata(&format!("Bearer {token}"))
}

/// The message of the UNAUTHENTICATED refusal, after checking its ErrorInfo.
fn refused(result: Result<Principal, Status>) -> String {
    let status = result.expect_err("the token must be refused");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let info = status.get_details_error_info().expect("error info");
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("UNAUTHENTICATED", DOMAIN));
    status.message().to_owned()
}

#[test]
fn a_valid_hs256_token_gives_the_principal() {
    let auth = Authenticator::hs256(SECRET, DOMAIN);
    let token = hs256(&claims());
    let principal = auth.authenticate(&bearer(&token)).unwrap();
    assert_eq!((principal.org.as_str(), principal.subject.as_str()), ("acme", "user-1"));
    assert_eq!(principal.scopes(), &[Scope::SerialsRead, Scope::SerialsWrite]);
    assert_eq!(principal.bearer(), token);
}

#[test]
fn minted_tokens_are_accepted_and_unknown_scopes_ignored() {
    let auth = Authenticator::hs256(SECRET, DOMAIN);
    let token =
        mint_hs256(SECRET, "acme", "cli", &[Scope::RegistrationsReview], Duration::from_secs(60)).unwrap();
    let principal = auth.authenticate(&metadata(&format!("bearer {token}"))).unwrap();
    assert_eq!(principal.scopes(), &[Scope::RegistrationsReview]);

    let mut extra = claims();
    extra["scope"] = json!("serials:read admin:everything  registrations:read");
    let principal = auth.authenticate(&bearer(&hs256(&extra))).unwrap();
    assert_eq!(principal.scopes(), &[Scope::SerialsRead, Scope::RegistrationsRead]);
}

#[test]
fn missing_or_foreign_headers_are_refused_with_the_reason() {
    let auth = Authenticator::hs256(SECRET, DOMAIN);
    assert_eq!(refused(auth.authenticate(&MetadataMap::new())), "missing authorization header");
    assert_eq!(
        refused(auth.authenticate(&metadata("Basic dXNlcjpwdw=="))),
        "authorization header is not a bearer token"
    );
    assert_eq!(refused(auth.authenticate(&metadata("Bearer"))), "authorization header is not a bearer token");
    assert_eq!(refused(auth.authenticate(&metadata("Bearer  "))), "empty bearer token");
    assert_eq!(refused(auth.authenticate(&bearer("not-a-jwt"))), "malformed token");
}

#[test]
fn a_bad_signature_or_an_expired_token_is_refused() {
    let auth = Authenticator::hs256(SECRET, DOMAIN);
    let forged = sign(&claims(), Algorithm::HS256, &EncodingKey::from_secret(b"other secret"));
    assert_eq!(refused(auth.authenticate(&bearer(&forged))), "invalid token signature");

    let mut expired = claims();
    expired["exp"] = json!(now() - 120);
    assert_eq!(refused(auth.authenticate(&bearer(&hs256(&expired)))), "token expired");

    let mut within_leeway = claims();
    within_leeway["exp"] = json!(now() - 5);
    assert!(auth.authenticate(&bearer(&hs256(&within_leeway))).is_ok());
}

#[test]
fn required_claims_are_named_when_missing() {
    let auth = Authenticator::hs256(SECRET, DOMAIN);
    for (claim, value, message) in [
        ("org", None, "token has no org claim"),
        ("org", Some(json!("")), "token has no org claim"),
        ("sub", None, "token has no sub claim"),
        ("exp", None, "token has no exp claim"),
        ("org", Some(json!(42)), "token claims are malformed"),
    ] {
        let mut token = claims();
        match value {
            Some(value) => token[claim] = value,
            None => {
                token.as_object_mut().unwrap().remove(claim);
            }
        }
        assert_eq!(refused(auth.authenticate(&bearer(&hs256(&token)))), message, "{claim}: {token}");
    }
}

#[test]
fn eddsa_tokens_are_verified_with_the_public_key() {
    let auth = Authenticator::from_public_key_pem(ED_PUBLIC, DOMAIN).unwrap();
    let token = sign(&claims(), Algorithm::EdDSA, &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap());
    assert_eq!(auth.authenticate(&bearer(&token)).unwrap().org, "acme");
}

#[test]
fn rs256_tokens_are_verified_with_the_public_key() {
    let auth = Authenticator::from_public_key_pem(RSA_PUBLIC, DOMAIN).unwrap();
    let token = sign(&claims(), Algorithm::RS256, &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap());
    assert_eq!(auth.authenticate(&bearer(&token)).unwrap().subject, "user-1");
}

#[test]
fn a_token_of_another_algorithm_is_refused() {
    let eddsa = Authenticator::from_public_key_pem(ED_PUBLIC, DOMAIN).unwrap();
    let message = refused(eddsa.authenticate(&bearer(&hs256(&claims()))));
    assert_eq!(message, "token signed with an algorithm this service does not accept");
    let rsa_signed = sign(&claims(), Algorithm::RS256, &EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap());
    assert!(
        refused(Authenticator::hs256(SECRET, DOMAIN).authenticate(&bearer(&rsa_signed)))
            .contains("algorithm")
    );
}

#[test]
fn a_pem_that_is_not_a_supported_public_key_is_an_error() {
    assert!(Authenticator::from_public_key_pem(b"not a pem", DOMAIN).is_err());
    let err = Authenticator::from_public_key_pem(ED_PRIVATE, DOMAIN).unwrap_err().to_string();
    assert!(err.contains("Ed25519 or RSA public key"), "{err}");
}

#[test]
fn the_interceptor_attaches_the_principal() {
    let mut auth = Authenticator::hs256(SECRET, DOMAIN);
    let mut request = tonic::Request::new(());
    *request.metadata_mut() = bearer(&hs256(&claims()));
    let request = Interceptor::call(&mut auth, request).unwrap();
    assert_eq!(crate::auth::principal(&request).unwrap().org, "acme");
    assert_eq!(
        Interceptor::call(&mut auth, tonic::Request::new(())).unwrap_err().code(),
        Code::Unauthenticated
    );
}

#[test]
fn minting_needs_an_org_and_a_subject() {
    assert!(mint_hs256(SECRET, "", "cli", &[], Duration::from_secs(60)).is_err());
    assert!(mint_hs256(SECRET, "acme", "", &[], Duration::from_secs(60)).is_err());
}

#[test]
fn a_token_seen_before_gives_the_same_principal_and_its_tampered_copies_are_still_refused() {
    let auth = Authenticator::hs256(SECRET, DOMAIN);
    let token = hs256(&claims());
    let first = auth.authenticate(&bearer(&token)).unwrap();
    let again = auth.authenticate(&bearer(&token)).unwrap();
    assert_eq!((&again.org, &again.subject, again.scopes()), (&first.org, &first.subject, first.scopes()));
    assert_eq!(again.bearer(), token);
    let tampered = format!("{token}x");
    assert_eq!(refused(auth.authenticate(&bearer(&tampered))), "invalid token signature");

    let mut within_leeway = claims();
    within_leeway["exp"] = json!(now() - 5);
    let late = hs256(&within_leeway);
    assert!(auth.authenticate(&bearer(&late)).is_ok());
    assert_eq!(auth.inner.verified.len(), 1, "a token past its exp is never remembered");
}

fn expecting(issuer: Option<&str>, audience: Option<&str>) -> Expected {
    Expected { issuer: issuer.map(str::to_owned), audience: audience.map(str::to_owned) }
}

#[test]
fn issuer_and_audience_are_checked_only_when_expected() {
    let key = || VerifyingKey { key: DecodingKey::from_secret(SECRET), algorithm: Algorithm::HS256 };
    let mut with_both = claims();
    with_both["iss"] = json!("https://idp.example.com/");
    with_both["aud"] = json!(["regserial", "other-api"]);
    let token = hs256(&with_both);

    // Nothing expected: any iss and aud (or none) is fine.
    let lax = Authenticator::fixed(key(), Expected::default(), DOMAIN);
    assert!(lax.authenticate(&bearer(&token)).is_ok());
    assert!(lax.authenticate(&bearer(&hs256(&claims()))).is_ok());

    let strict =
        Authenticator::fixed(key(), expecting(Some("https://idp.example.com/"), Some("regserial")), DOMAIN);
    assert!(strict.authenticate(&bearer(&token)).is_ok());
    let mut wrong_iss = with_both.clone();
    wrong_iss["iss"] = json!("https://evil.example.com/");
    assert_eq!(refused(strict.authenticate(&bearer(&hs256(&wrong_iss)))), "token issuer not accepted");
    let mut wrong_aud = with_both.clone();
    wrong_aud["aud"] = json!("another-api");
    assert_eq!(refused(strict.authenticate(&bearer(&hs256(&wrong_aud)))), "token audience not accepted");
    let mut no_aud = with_both.clone();
    no_aud.as_object_mut().unwrap().remove("aud");
    assert_eq!(refused(strict.authenticate(&bearer(&hs256(&no_aud)))), "token has no aud claim");
    let mut no_iss = with_both;
    no_iss.as_object_mut().unwrap().remove("iss");
    assert_eq!(refused(strict.authenticate(&bearer(&hs256(&no_iss)))), "token has no iss claim");
}

/// A JWK set file holding the test keys named by `kids` (`rsa-*` RSA, others Ed25519).
fn write_jwks(path: &std::path::Path, kids: &[&str]) {
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| {
            let algorithm = if kid.starts_with("rsa") { Algorithm::RS256 } else { Algorithm::EdDSA };
            crate::auth::jwks::tests::jwk(algorithm, Some(kid), json!({}))
        })
        .collect();
    std::fs::write(path, json!({ "keys": keys }).to_string()).unwrap();
}

fn signed_with(kid: Option<&str>, algorithm: Algorithm) -> String {
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap(),
        _ => EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &claims(), &key).unwrap()
}

async fn jwks_authenticator(path: &std::path::Path) -> (Authenticator, Arc<JwksKeys>) {
    let source = super::super::jwks_source::JwksSource::File(path.to_owned());
    let keys = JwksKeys::load(source, Duration::from_secs(3600)).await.unwrap();
    (Authenticator::jwks(keys.clone(), Expected::default(), DOMAIN), keys)
}

#[tokio::test]
async fn jwks_keys_are_chosen_by_the_tokens_kid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    write_jwks(&path, &["rsa-1", "ed-1"]);
    let (auth, _keys) = jwks_authenticator(&path).await;
    assert!(auth.authenticate(&bearer(&signed_with(Some("rsa-1"), Algorithm::RS256))).is_ok());
    assert!(auth.authenticate(&bearer(&signed_with(Some("ed-1"), Algorithm::EdDSA))).is_ok());
    // An Ed25519 signature presented under the RSA key's kid: the key decides the algorithm.
    let mismatched = signed_with(Some("rsa-1"), Algorithm::EdDSA);
    assert_eq!(
        refused(auth.authenticate(&bearer(&mismatched))),
        "token signed with an algorithm this service does not accept"
    );
    assert_eq!(
        refused(auth.authenticate(&bearer(&signed_with(None, Algorithm::EdDSA)))),
        "token signed with an unknown key"
    );
    assert_eq!(
        refused(auth.authenticate(&bearer(&signed_with(Some("ed-9"), Algorithm::EdDSA)))),
        "token signed with an unknown key"
    );
    // HS256 is never accepted from a JWK set, whatever the kid.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("ed-1".into());
    let hs = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(SECRET)).unwrap();
    assert!(refused(auth.authenticate(&bearer(&hs))).contains("algorithm"));
}

#[tokio::test]
async fn an_unknown_kid_refreshes_the_set_before_it_is_refused_and_a_withdrawn_key_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    write_jwks(&path, &["ed-old"]);
    let (auth, keys) = jwks_authenticator(&path).await;
    let old = signed_with(Some("ed-old"), Algorithm::EdDSA);
    let new = signed_with(Some("rsa-new"), Algorithm::RS256);
    let header = |token: &str| HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    assert!(auth.authenticate_refreshing(Some(&header(&old))).await.is_ok());

    write_jwks(&path, &["ed-old", "rsa-new"]);
    assert!(auth.verify(Some(&header(&new))).unwrap_err().unknown_key, "not known before the refresh");
    assert!(auth.authenticate_refreshing(Some(&header(&new))).await.is_ok());
    assert!(auth.authenticate_refreshing(Some(&header(&old))).await.is_ok());

    // A second unknown kid within the gap does not fetch again: the refused token stays refused
    // even once its key is published, until a periodic refresh.
    write_jwks(&path, &["ed-old", "rsa-new", "ed-later"]);
    let later = signed_with(Some("ed-later"), Algorithm::EdDSA);
    let status = auth.authenticate_refreshing(Some(&header(&later))).await.unwrap_err();
    assert_eq!(status.message(), "token signed with an unknown key");

    write_jwks(&path, &["rsa-new", "ed-later"]);
    keys.refresh().await;
    let status = auth.authenticate_refreshing(Some(&header(&old))).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "the verified old token is not remembered past its key");
    assert!(auth.authenticate_refreshing(Some(&header(&new))).await.is_ok());
    assert!(auth.authenticate_refreshing(Some(&header(&later))).await.is_ok());
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_keys_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    write_jwks(&path, &["ed-1"]);
    let (auth, keys) = jwks_authenticator(&path).await;
    std::fs::write(&path, "{\"keys\": []}").unwrap();
    keys.refresh().await;
    std::fs::remove_file(&path).unwrap();
    keys.refresh().await;
    assert!(auth.authenticate(&bearer(&signed_with(Some("ed-1"), Algorithm::EdDSA))).is_ok());
}

#[tokio::test]
async fn a_service_token_signed_with_a_key_id_is_verified_through_the_jwk_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    write_jwks(&path, &["rsa-idp", "ed-worker"]);
    let (auth, _keys) = jwks_authenticator(&path).await;
    let signer = super::super::TokenSigner::from_private_key_pem(ED_PRIVATE).unwrap();
    let anonymous =
        signer.clone().mint("acme", "recovery", &[Scope::SerialsWrite], Duration::from_secs(60)).unwrap();
    assert_eq!(refused(auth.authenticate(&bearer(&anonymous))), "token signed with an unknown key");
    let named = signer.with_key_id(Some("ed-worker".into()));
    let token = named.mint("acme", "recovery", &[Scope::SerialsWrite], Duration::from_secs(60)).unwrap();
    assert_eq!(auth.authenticate(&bearer(&token)).unwrap().subject, "recovery");
}

#[test]
fn a_service_token_carries_the_issuer_and_audience_the_verifier_expects() {
    let key = VerifyingKey { key: DecodingKey::from_ed_pem(ED_PUBLIC).unwrap(), algorithm: Algorithm::EdDSA };
    let auth = Authenticator::fixed(key, expecting(Some("https://idp/"), Some("regserial")), DOMAIN);
    let signer = super::super::TokenSigner::from_private_key_pem(ED_PRIVATE).unwrap();
    let bare = signer.clone().mint("acme", "recovery", &[], Duration::from_secs(60)).unwrap();
    let message = refused(auth.authenticate(&bearer(&bare)));
    assert!(["token has no iss claim", "token has no aud claim"].contains(&message.as_str()), "{message}");
    let signer = signer.with_issuer_and_audience(Some("https://idp/".into()), Some("regserial".into()));
    let token = signer.mint("acme", "recovery", &[], Duration::from_secs(60)).unwrap();
    assert!(auth.authenticate(&bearer(&token)).is_ok());
}
