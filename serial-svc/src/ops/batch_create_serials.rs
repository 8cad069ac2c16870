//! `BatchCreateSerials`: 1..10,000 items, each created or reported alone, or all or nothing with
//! `atomic`. Items refused before the store (invalid, or a serial the request already holds)
//! are reported with those the store refuses (a serial that exists, a reference the catalog
//! does not have), in item order; the created serials are answered in the request's order.

use std::collections::HashMap;

use crate::domain::{
    BatchCreateError, BatchOutcome, Ctx, ItemError, NewSerial, RequestKey, Serial, drop_repeats,
};
use crate::store::Store;

/// Creates the serials of `items` (each parsed, or why not), in their order in the request.
pub async fn create(
    store: &Store,
    ctx: &Ctx<'_>,
    key: Option<&RequestKey>,
    items: Vec<Result<NewSerial, ItemError>>,
    atomic: bool,
) -> Result<BatchOutcome, BatchCreateError> {
    let (items, mut errors) = refuse_early(items);
    if atomic && !errors.is_empty() {
        return Err(BatchCreateError::Rejected { errors });
    }
    let positions: HashMap<String, usize> =
        items.iter().map(|(index, serial)| (serial.number.key().to_owned(), *index)).collect();
    let outcome = store.create_serials(ctx, key, items, atomic).await?;
    errors.extend(outcome.errors);
    errors.sort_by_key(|error| error.index);
    tracing::debug!(
        org = ctx.org,
        created = outcome.created.len(),
        failed = errors.len(),
        atomic,
        "serials created"
    );
    Ok(BatchOutcome { created: in_request_order(outcome.created, &positions), errors })
}

/// The items to create (valid first occurrences, with their index) and those refused before
/// the store sees them.
fn refuse_early(items: Vec<Result<NewSerial, ItemError>>) -> (Vec<(usize, NewSerial)>, Vec<ItemError>) {
    let mut valid = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Ok(serial) => valid.push((index, serial)),
            Err(error) => errors.push(error),
        }
    }
    let (valid, repeats) = drop_repeats(valid);
    errors.extend(repeats);
    (valid, errors)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ItemReason;

    fn item(number: &str) -> Result<NewSerial, ItemError> {
        Ok(NewSerial::bare(number))
    }

    #[test]
    fn invalid_items_and_repeats_are_refused_before_the_store() {
        let invalid = ItemError {
            index: 1,
            serial_number: "bad one".into(),
            reason: ItemReason::InvalidSerialNumber,
            message: "serials[1].serial_number: invalid".into(),
        };
        let (valid, errors) = refuse_early(vec![item("A-1"), Err(invalid), item("a-1"), item("B-2")]);
        assert_eq!(valid.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 3]);
        let mut reasons: Vec<_> = errors.iter().map(|e| (e.index, e.reason)).collect();
        reasons.sort_by_key(|(index, _)| *index);
        assert_eq!(reasons, [(1, ItemReason::InvalidSerialNumber), (2, ItemReason::AlreadyExists)]);
    }
}
