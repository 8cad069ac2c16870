//! A registration's line items: one registered product each, serialized (identified by its
//! serial, which the registration claims) or not (no serial: nothing to claim).

use super::field::{FieldError, Fields, Problem};
use super::identifier::SerialNumber;
use super::text::{HttpUrl, MAX_SHORT_TEXT, Text};

/// Largest quantity of one line item.
pub const MAX_QUANTITY: i32 = 1_000_000;

/// What serial-svc tells of a serial it let us claim, as far as its line item needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialFacts {
    /// The serial's product, if it has one.
    pub product_sku: Option<String>,
    /// Tags for whoever registers the serial.
    pub customer_tags: Vec<String>,
}

/// Whether a line item of `sku` may register a serial of `product_sku`: either is absent, or
/// they are the same SKU. SKUs are compared exactly (case included), as serial-svc does: a SKU
/// is an identifier, unique per organization as written.
pub fn sku_fits(sku: Option<&str>, product_sku: Option<&str>) -> bool {
    match (sku, product_sku) {
        (Some(sku), Some(product)) => sku == product,
        _ => true,
    }
}

/// A line item as the request carries it: empty strings are absent fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineItemDraft {
    pub sku: String,
    pub name: String,
    pub quantity: i32,
    pub product_id: String,
    pub variant_id: String,
    pub source_line_item_id: String,
    pub image_url: String,
    pub serial_number: String,
}

/// A valid line item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItem {
    pub sku: Option<Text>,
    pub name: Option<Text>,
    /// 1 to [`MAX_QUANTITY`].
    pub quantity: i32,
    pub product_id: Option<Text>,
    pub variant_id: Option<Text>,
    pub source_line_item_id: Option<Text>,
    pub image_url: Option<HttpUrl>,
    /// `None` for a non-serialized product: the line item claims nothing.
    pub serial_number: Option<SerialNumber>,
}

impl LineItem {
    /// Parses `draft`, naming fields under `path` (e.g. `registration.line_items[2]`).
    pub fn parse(draft: &LineItemDraft, path: &str) -> Result<Self, Vec<FieldError>> {
        let mut fields = Fields::default();
        let name = |field: &str| format!("{path}.{field}");
        let short = |raw: &str| Text::parse(raw, MAX_SHORT_TEXT);
        let sku = fields.check(name("sku"), short(&draft.sku));
        let item_name = fields.check(name("name"), short(&draft.name));
        let quantity = if (1..=MAX_QUANTITY).contains(&draft.quantity) {
            Some(draft.quantity)
        } else {
            fields.add(name("quantity"), Problem::Quantity { got: draft.quantity, max: MAX_QUANTITY });
            None
        };
        let product_id = fields.check(name("product_id"), short(&draft.product_id));
        let variant_id = fields.check(name("variant_id"), short(&draft.variant_id));
        let source_line_item_id =
            fields.check(name("source_line_item_id"), short(&draft.source_line_item_id));
        let image_url = fields.check(name("image_url"), HttpUrl::parse(&draft.image_url));
        let serial_number = if draft.serial_number.trim().is_empty() {
            Some(None)
        } else {
            fields.check(name("serial_number"), SerialNumber::parse(&draft.serial_number)).map(Some)
        };
        fields.finish(|| {
            Some(Self {
                sku: sku?,
                name: item_name?,
                quantity: quantity?,
                product_id: product_id?,
                variant_id: variant_id?,
                source_line_item_id: source_line_item_id?,
                image_url: image_url?,
                serial_number: serial_number?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> LineItemDraft {
        LineItemDraft { quantity: 1, serial_number: "SN-1".into(), ..LineItemDraft::default() }
    }

    #[test]
    fn a_serial_and_a_quantity_are_all_a_line_item_needs() {
        let item = LineItem::parse(&draft(), "registration.line_items[0]").unwrap();
        assert_eq!(item.serial_number.as_ref().map(SerialNumber::as_str), Some("SN-1"));
        assert_eq!(item.sku, None);
    }

    #[test]
    fn a_sku_fits_the_same_product_exactly_and_anything_when_either_is_absent() {
        assert!(sku_fits(Some("DRILL"), Some("DRILL")));
        assert!(!sku_fits(Some("DRILL"), Some("SAW")));
        assert!(!sku_fits(Some("drill"), Some("DRILL")), "SKUs are case-sensitive, as in serial-svc");
        assert!(sku_fits(None, Some("DRILL")));
        assert!(sku_fits(Some("DRILL"), None));
    }

    #[test]
    fn a_line_item_without_a_serial_is_a_non_serialized_product() {
        for blank in ["", "  "] {
            let draft = LineItemDraft { sku: "MUG".into(), serial_number: blank.into(), ..draft() };
            let item = LineItem::parse(&draft, "registration.line_items[0]").unwrap();
            assert_eq!((item.serial_number, item.sku.as_ref().map(Text::as_str)), (None, Some("MUG")));
        }
    }

    #[test]
    fn every_bad_field_is_named_under_the_items_path() {
        let bad = LineItemDraft {
            quantity: 0,
            serial_number: "bad serial".into(),
            image_url: "ftp://x.example/a.png".into(),
            sku: "a".repeat(MAX_SHORT_TEXT + 1),
            ..draft()
        };
        let errors = LineItem::parse(&bad, "registration.line_items[2]").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "registration.line_items[2].sku",
                "registration.line_items[2].quantity",
                "registration.line_items[2].image_url",
                "registration.line_items[2].serial_number",
            ]
        );
        assert_eq!(errors[1].problem, Problem::Quantity { got: 0, max: MAX_QUANTITY });
        assert!(matches!(errors[3].problem, Problem::Identifier(_)), "{:?}", errors[3].problem);
        assert_eq!(
            errors[1].to_string(),
            "invalid registration.line_items[2].quantity: must be between 1 and 1000000, got 0"
        );
    }
}
