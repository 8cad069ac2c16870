//! `BatchCreateSerials`: 1..10,000 items, each created or reported alone, or all or nothing
//! with `atomic`.

use std::collections::HashMap;

use regserial::serial::v1 as pb;
use tonic::Status;

use super::fields::field;
use super::request_key::request_key;
use super::{Api, Caller, convert, errors};
use crate::domain::{ItemError, MAX_BATCH, NewSerial, Serial, drop_repeats};

/// The batch's items split into those to create (first occurrences, valid) and those refused
/// before the store sees them.
struct Parsed {
    items: Vec<(usize, NewSerial)>,
    errors: Vec<ItemError>,
}

fn parse_items(serials: &[pb::Serial]) -> Parsed {
    let mut items = Vec::with_capacity(serials.len());
    let mut errors = Vec::new();
    for (index, item) in serials.iter().enumerate() {
        match convert::parse_new_serial(index, item) {
            Ok(serial) => items.push((index, serial)),
            Err(error) => errors.push(error),
        }
    }
    let (items, repeats) = drop_repeats(items);
    errors.extend(repeats);
    Parsed { items, errors }
}

/// Orders created serials as their items were in the request.
fn in_request_order(created: Vec<Serial>, positions: &HashMap<String, usize>) -> Vec<Serial> {
    let mut created: Vec<(usize, Serial)> = created
        .into_iter()
        .map(|serial| {
            let position = positions.get(&serial.serial_number.to_ascii_lowercase()).copied();
            (position.unwrap_or(usize::MAX), serial)
        })
        .collect();
    created.sort_by_key(|(position, _)| *position);
    created.into_iter().map(|(_, serial)| serial).collect()
}

impl Api {
    pub async fn inner_batch_create_serials(
        &self,
        caller: &Caller,
        request: pb::BatchCreateSerialsRequest,
    ) -> Result<pb::BatchCreateSerialsResponse, Status> {
        match request.serials.len() {
            0 => return Err(errors::batch_empty()),
            count if count > MAX_BATCH => return Err(errors::batch_too_large(count)),
            _ => {}
        }
        let key = field("request_id", request_key(&request))?;
        let Parsed { items, errors: mut item_errors } = parse_items(&request.serials);
        if request.atomic && !item_errors.is_empty() {
            return Err(errors::batch_rejected(item_errors));
        }
        let positions: HashMap<String, usize> =
            items.iter().map(|(index, serial)| (serial.number.key().to_owned(), *index)).collect();
        let outcome = self
            .store
            .create_serials(&caller.ctx(), key.as_ref(), items, request.atomic)
            .await
            .map_err(errors::batch)?;
        item_errors.extend(outcome.errors);
        item_errors.sort_by_key(|error| error.index);
        tracing::debug!(
            org = caller.org(),
            created = outcome.created.len(),
            failed = item_errors.len(),
            atomic = request.atomic,
            "serials created"
        );
        Ok(pb::BatchCreateSerialsResponse {
            serials: in_request_order(outcome.created, &positions)
                .into_iter()
                .map(|serial| convert::serial(serial, caller.now))
                .collect(),
            errors: item_errors.into_iter().map(convert::item_error).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ItemReason;

    fn item(number: &str) -> pb::Serial {
        pb::Serial { serial_number: number.into(), ..Default::default() }
    }

    #[test]
    fn invalid_items_and_repeats_are_refused_before_the_store() {
        let parsed = parse_items(&[item("A-1"), item("bad one"), item("a-1"), item("B-2")]);
        assert_eq!(parsed.items.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 3]);
        let mut reasons: Vec<_> = parsed.errors.iter().map(|e| (e.index, e.reason)).collect();
        reasons.sort_by_key(|(index, _)| *index);
        assert_eq!(reasons, [(1, ItemReason::InvalidSerialNumber), (2, ItemReason::AlreadyExists)]);
    }
}
