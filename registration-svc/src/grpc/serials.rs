//! Changing which serials a registration holds: swap one for another, or reset one (the
//! holding registration is canceled with its customer's data erased).

use regserial::registration::v1 as pb;
use tonic::Status;

use super::fields::Violations;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::SerialNumber;

impl Api {
    pub async fn inner_swap_serial(
        &self,
        caller: &Caller,
        request: pb::SwapSerialRequest,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let old = violations.check("serial_number", SerialNumber::parse(&request.serial_number));
        let new = violations.check("new_serial_number", SerialNumber::parse(&request.new_serial_number));
        let ((key, old), new) = violations.finish(key.zip(old).zip(new))?;
        let swapped = self
            .saga
            .swap(&caller.ctx(), caller.bearer(), key.as_ref(), &old, &new)
            .await
            .map_err(|err| errors::swap(err, &old, &new))?;
        Ok(convert::registration(swapped))
    }

    pub async fn inner_reset_serial(
        &self,
        caller: &Caller,
        request: pb::ResetSerialRequest,
    ) -> Result<pb::Registration, Status> {
        let mut violations = Violations::default();
        let key = violations.check("request_id", request_key(&request));
        let serial = violations.check("serial_number", SerialNumber::parse(&request.serial_number));
        let (key, serial) = violations.finish(key.zip(serial))?;
        let reset = self
            .saga
            .reset(&caller.ctx(), caller.bearer(), key.as_ref(), &serial)
            .await
            .map_err(|err| errors::reset(err, &serial))?;
        Ok(convert::registration(reset))
    }
}
