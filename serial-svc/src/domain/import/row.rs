//! The CSV header and its rows, parsed into serials to create or row errors with their line.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::csv::Record;
use crate::domain::{CustomerTags, NewSerial, PlanId, SerialNumber, Sku, ValidityWindow};

/// A column the import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    SerialNumber,
    ProductId,
    WarrantyId,
    ValidFrom,
    ValidUntil,
    RegisterUntil,
    CustomerTags,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Self::SerialNumber,
        Self::ProductId,
        Self::WarrantyId,
        Self::ValidFrom,
        Self::ValidUntil,
        Self::RegisterUntil,
        Self::CustomerTags,
    ];

    /// The column's name in the header.
    pub fn name(self) -> &'static str {
        match self {
            Self::SerialNumber => "serialNumber",
            Self::ProductId => "productId",
            Self::WarrantyId => "warrantyId",
            Self::ValidFrom => "validFrom",
            Self::ValidUntil => "validUntil",
            Self::RegisterUntil => "registerUntil",
            Self::CustomerTags => "customerTags",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|column| column.name() == name)
    }
}

/// Why a header is refused before any row is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(
        "unknown column {name:?} (column {position}); known: serialNumber, productId, warrantyId, validFrom, validUntil, registerUntil, customerTags"
    )]
    Unknown { name: String, position: usize },
    #[error("column {name:?} appears twice")]
    Repeated { name: String },
    #[error("the required column serialNumber is missing")]
    MissingSerialNumber,
}

/// The header: which column each field of a row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    columns: Vec<Column>,
}

impl Header {
    pub fn parse(record: &Record) -> Result<Self, HeaderError> {
        let mut columns = Vec::with_capacity(record.len());
        for (index, raw) in record.fields().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim();
            let column = Column::parse(name)
                .ok_or_else(|| HeaderError::Unknown { name: name.to_owned(), position: index + 1 })?;
            if columns.contains(&column) {
                return Err(HeaderError::Repeated { name: name.to_owned() });
            }
            columns.push(column);
        }
        if !columns.contains(&Column::SerialNumber) {
            return Err(HeaderError::MissingSerialNumber);
        }
        Ok(Self { columns })
    }

    /// The header as stored with the job: a resumed upload must send the same one.
    pub fn text(&self) -> String {
        self.columns.iter().map(|c| c.name()).collect::<Vec<_>>().join(",")
    }

    fn position(&self, column: Column) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }

    /// Parses one data row.
    pub fn parse_row(&self, record: &Record) -> Result<NewSerial, RowError> {
        let raw_serial =
            self.position(Column::SerialNumber).and_then(|at| record.get(at)).unwrap_or_default();
        let fail = |reason, message: String| RowError {
            line: record.line,
            serial_number: shorten(raw_serial.trim()),
            reason,
            message,
        };
        if record.len() != self.columns.len() {
            let message = format!("{} columns, the header has {}", record.len(), self.columns.len());
            return Err(fail(RowReason::WrongColumnCount, message));
        }
        let field = |column: Column| self.position(column).and_then(|at| record.get(at)).map(str::trim);
        let present = |column: Column| field(column).filter(|value| !value.is_empty());
        if raw_serial.trim().is_empty() {
            return Err(fail(RowReason::MissingSerialNumber, "serialNumber: empty".into()));
        }
        let number = SerialNumber::parse(raw_serial)
            .map_err(|err| fail(RowReason::InvalidSerialNumber, format!("serialNumber: {err}")))?;
        let product_sku = present(Column::ProductId)
            .map(Sku::parse)
            .transpose()
            .map_err(|err| fail(RowReason::UnknownProductSku, format!("productId: {err}")))?;
        let warranty_plan_id = present(Column::WarrantyId)
            .map(PlanId::parse)
            .transpose()
            .map_err(|err| fail(RowReason::UnknownWarrantyPlan, format!("warrantyId: {err}")))?;
        let mut times = [None; 3];
        for (slot, column) in
            times.iter_mut().zip([Column::ValidFrom, Column::ValidUntil, Column::RegisterUntil])
        {
            if let Some(value) = present(column) {
                let time = parse_time(value).ok_or_else(|| {
                    let message =
                        format!("{}: {:?} is neither RFC 3339 nor YYYY-MM-DD", column.name(), shorten(value));
                    fail(RowReason::InvalidDate, message)
                })?;
                *slot = Some(time);
            }
        }
        let window = ValidityWindow::new(times[0], times[1], times[2])
            .map_err(|err| fail(RowReason::InvalidValidityWindow, err.to_string()))?;
        let tags: Vec<String> = present(Column::CustomerTags)
            .map(|value| {
                value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
            })
            .unwrap_or_default();
        let customer_tags = CustomerTags::parse(&tags)
            .map_err(|err| fail(RowReason::InvalidCustomerTags, format!("customerTags: {err}")))?;
        Ok(NewSerial { number, product_sku, warranty_plan_id, window, customer_tags })
    }
}

/// RFC 3339, or `YYYY-MM-DD` meaning 00:00:00 UTC of that day.
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Some(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// At most 100 characters of a value quoted back in an error.
fn shorten(value: &str) -> String {
    value.chars().take(100).collect()
}

/// Why one row was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowReason {
    DuplicateInFile,
    AlreadyExists,
    MissingSerialNumber,
    InvalidSerialNumber,
    UnknownProductSku,
    UnknownWarrantyPlan,
    InvalidDate,
    InvalidValidityWindow,
    InvalidCustomerTags,
    WrongColumnCount,
}

impl RowReason {
    pub const ALL: [RowReason; 10] = [
        Self::DuplicateInFile,
        Self::AlreadyExists,
        Self::MissingSerialNumber,
        Self::InvalidSerialNumber,
        Self::UnknownProductSku,
        Self::UnknownWarrantyPlan,
        Self::InvalidDate,
        Self::InvalidValidityWindow,
        Self::InvalidCustomerTags,
        Self::WrongColumnCount,
    ];

    /// The reason as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DuplicateInFile => "DUPLICATE_IN_FILE",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::MissingSerialNumber => "MISSING_SERIAL_NUMBER",
            Self::InvalidSerialNumber => "INVALID_SERIAL_NUMBER",
            Self::UnknownProductSku => "UNKNOWN_PRODUCT_SKU",
            Self::UnknownWarrantyPlan => "UNKNOWN_WARRANTY_PLAN",
            Self::InvalidDate => "INVALID_DATE",
            Self::InvalidValidityWindow => "INVALID_VALIDITY_WINDOW",
            Self::InvalidCustomerTags => "INVALID_CUSTOMER_TAGS",
            Self::WrongColumnCount => "WRONG_COLUMN_COUNT",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == name)
    }
}

/// One row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub serial_number: String,
    pub reason: RowReason,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::super::csv::read_all;
    use super::*;

    fn rows(data: &str) -> (Header, Vec<Record>) {
        let (mut records, err) = read_all(data.as_bytes());
        assert_eq!(err, None);
        let header = Header::parse(&records.remove(0)).unwrap();
        (header, records)
    }

    #[test]
    fn columns_come_in_any_order_and_any_subset_with_the_serial() {
        let (header, records) = rows(
            "customerTags,validFrom,serialNumber\n\"vip, eu\",2026-01-02,SN-1\n,2026-01-02T03:04:05+01:00,sn-2\n",
        );
        let first = header.parse_row(&records[0]).unwrap();
        assert_eq!(first.number.as_str(), "SN-1");
        assert_eq!(first.customer_tags.as_slice(), ["vip", "eu"]);
        assert_eq!(first.window.valid_from.unwrap().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        let second = header.parse_row(&records[1]).unwrap();
        assert_eq!(second.window.valid_from.unwrap().to_rfc3339(), "2026-01-02T02:04:05+00:00");
        assert!(second.customer_tags.as_slice().is_empty());
    }

    #[test]
    fn a_header_without_the_serial_or_with_an_unknown_column_is_refused() {
        let (records, _) = read_all(b"productId\n");
        assert_eq!(Header::parse(&records[0]), Err(HeaderError::MissingSerialNumber));
        let (records, _) = read_all(b"serialNumber,colour\n");
        let err = Header::parse(&records[0]).unwrap_err();
        assert!(err.to_string().contains("\"colour\""), "{err}");
        let (records, _) = read_all(b"serialNumber,serialNumber\n");
        assert!(matches!(Header::parse(&records[0]), Err(HeaderError::Repeated { .. })));
    }

    #[test]
    fn each_bad_row_has_its_reason_and_line() {
        let (header, records) = rows(
            "serialNumber,productId,validFrom,validUntil\n\
             ,,,\nbad one,,,\nA,,tomorrow,\nB,,2026-02-01,2026-01-01\nC,,\n",
        );
        let reasons: Vec<_> = records
            .iter()
            .map(|r| header.parse_row(r).map_err(|e| (e.line, e.reason)).unwrap_err())
            .collect();
        assert_eq!(
            reasons,
            [
                (2, RowReason::MissingSerialNumber),
                (3, RowReason::InvalidSerialNumber),
                (4, RowReason::InvalidDate),
                (5, RowReason::InvalidValidityWindow),
                (6, RowReason::WrongColumnCount),
            ]
        );
    }
}
