//! Changing one serial: claim, release, allocate and revoke.

use regserial::serial::v1 as pb;
use tonic::Status;

use super::fields::Violations;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::{Claimant, MAX_REASON_LEN, SerialNumber, Sku, optional};

/// Why a revocation reason is refused.
#[derive(Debug, thiserror::Error)]
enum ReasonError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_REASON_LEN} characters, got {0}")]
    TooLong(usize),
}

/// A revocation reason: 1-500 characters once trimmed.
fn parse_reason(raw: &str) -> Result<&str, ReasonError> {
    let reason = raw.trim();
    let len = reason.chars().count();
    if len == 0 {
        Err(ReasonError::Empty)
    } else if len > MAX_REASON_LEN {
        Err(ReasonError::TooLong(len))
    } else {
        Ok(reason)
    }
}

impl Api {
    pub async fn inner_claim_serial(
        &self,
        caller: &Caller,
        request: pb::ClaimSerialRequest,
    ) -> Result<pb::Serial, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let number = violations.check("serial_number", SerialNumber::parse(&request.serial_number));
        let claimant = violations.check("claimant", Claimant::parse(&request.claimant));
        let (Some(key), Some(number), Some(claimant)) = (key, number, claimant) else {
            return Err(violations.into_status());
        };
        let serial = self
            .store
            .claim_serial(&caller.ctx(), key.as_ref(), &number, &claimant)
            .await
            .map_err(|err| errors::claim(err, &number))?;
        Ok(convert::serial(serial, caller.now))
    }

    pub async fn inner_release_serial(
        &self,
        caller: &Caller,
        request: pb::ReleaseSerialRequest,
    ) -> Result<pb::Serial, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let number = violations.check("serial_number", SerialNumber::parse(&request.serial_number));
        let claimant = violations.check("claimant", Claimant::parse(&request.claimant));
        let replaced_by =
            violations.check("replaced_by", optional(&request.replaced_by, SerialNumber::parse));
        let (Some(key), Some(number), Some(claimant), Some(replaced_by)) =
            (key, number, claimant, replaced_by)
        else {
            return Err(violations.into_status());
        };
        let serial = self
            .store
            .release_serial(&caller.ctx(), key.as_ref(), &number, &claimant, replaced_by.as_ref())
            .await
            .map_err(|err| errors::release(err, &number))?;
        Ok(convert::serial(serial, caller.now))
    }

    pub async fn inner_allocate_serial(
        &self,
        caller: &Caller,
        request: pb::AllocateSerialRequest,
    ) -> Result<pb::Serial, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let product_sku = violations.check("product_sku", optional(&request.product_sku, Sku::parse));
        let claimant = violations.check("claimant", optional(&request.claimant, Claimant::parse));
        let (Some(key), Some(product_sku), Some(claimant)) = (key, product_sku, claimant) else {
            return Err(violations.into_status());
        };
        let serial = self
            .store
            .allocate_serial(&caller.ctx(), key.as_ref(), product_sku.as_ref(), claimant.as_ref())
            .await
            .map_err(|err| errors::allocate(err, product_sku.as_ref()))?;
        Ok(convert::serial(serial, caller.now))
    }

    pub async fn inner_revoke_serial(
        &self,
        caller: &Caller,
        request: pb::RevokeSerialRequest,
    ) -> Result<pb::Serial, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let number = violations.check("serial_number", SerialNumber::parse(&request.serial_number));
        let reason = violations.check("reason", parse_reason(&request.reason));
        let (Some(key), Some(number), Some(reason)) = (key, number, reason) else {
            return Err(violations.into_status());
        };
        let serial = self
            .store
            .revoke_serial(&caller.ctx(), key.as_ref(), &number, reason)
            .await
            .map_err(|err| errors::revoke(err, &number))?;
        Ok(convert::serial(serial, caller.now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_reason_is_trimmed_and_bounded() {
        assert_eq!(parse_reason("  stolen ").ok(), Some("stolen"));
        assert!(matches!(parse_reason("   "), Err(ReasonError::Empty)));
        assert!(parse_reason(&"r".repeat(500)).is_ok());
        assert!(matches!(parse_reason(&"r".repeat(501)), Err(ReasonError::TooLong(501))));
    }
}
