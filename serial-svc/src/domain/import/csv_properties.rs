//! Properties of the CSV reader and the row parser on generated input: never a panic on
//! arbitrary bytes, and the same records and the same error, at the same line, however the
//! input is cut into chunks. A seeded generator (xorshift) keeps the cases bounded and
//! reproducible, so they run in every `cargo test`; a failing case prints its seed.

use super::csv::{CsvReader, MAX_RECORD_BYTES, Record, read_all};
use super::row::Header;

/// xorshift64*: enough to spread cases, and a failing seed replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that stress the reader: separators, quotes, line breaks, multi-byte and invalid UTF-8,
/// column names, and plain text.
fn input(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b",",
        b"\"",
        b"\"\"",
        b"\n",
        b"\r\n",
        b"\r",
        b"serialNumber",
        b"productId",
        b"validFrom",
        b"customerTags",
        b"SN-1",
        b"sn-1",
        b"2026-01-02",
        b"2026-01-02T03:04:05Z",
        b"x",
        b" ",
        "é".as_bytes(),
        "€".as_bytes(),
        b"\xe2\x82",
        b"\xff",
        b"\x00",
        b"a,b",
        b"KETTLE",
    ];
    let len = rng.below(60);
    let mut data = Vec::new();
    if rng.below(2) == 0 {
        data.extend_from_slice(b"serialNumber,customerTags,validFrom\n");
    }
    for _ in 0..len {
        if rng.below(10) == 0 {
            data.push(rng.next() as u8);
        } else {
            data.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    data
}

/// Reads `data` in chunks cut at random places (empty chunks included).
fn read_chunked(data: &[u8], rng: &mut Rng) -> (Vec<Record>, Option<super::csv::CsvError>) {
    let mut reader = CsvReader::new();
    let mut records = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let len = rng.below(8).min(data.len() - at);
        if let Err(err) = reader.feed(&data[at..at + len], &mut records) {
            return (records, Some(err));
        }
        at += len;
    }
    let err = reader.finish(&mut records).err();
    (records, err)
}

#[test]
fn any_chunking_reads_the_same_records_and_errors_as_the_whole_buffer() {
    for seed in 1..=3_000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let data = input(&mut rng);
        let whole = read_all(&data);
        for _ in 0..4 {
            assert_eq!(
                read_chunked(&data, &mut rng),
                whole,
                "seed {seed}, input {:?}",
                String::from_utf8_lossy(&data)
            );
        }
        for record in &whole.0 {
            assert!(record.line <= record.end_line, "seed {seed}");
        }
        if let Some(err) = &whole.1 {
            let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
            assert!(err.line() >= 1 && err.line() <= lines, "seed {seed}: {err}");
        }
    }
}

#[test]
fn the_row_parser_never_panics_and_errors_carry_the_row_line() {
    for seed in 1..=3_000u64 {
        let mut rng = Rng(seed.wrapping_mul(0xbf58_476d_1ce4_e5b9));
        let data = input(&mut rng);
        let (records, _) = read_all(&data);
        let Some((first, rows)) = records.split_first() else { continue };
        let Ok(header) = Header::parse(first) else { continue };
        for record in rows {
            if let Err(err) = header.parse_row(record) {
                assert_eq!(err.line, record.line, "seed {seed}");
                assert!(err.serial_number.chars().count() <= 100);
            }
        }
    }
}

#[test]
fn memory_per_record_is_bounded_whatever_the_input() {
    let mut reader = CsvReader::new();
    let mut records = Vec::new();
    let chunk = vec![b'"'; 1 << 16];
    let mut failed = false;
    for _ in 0..64 {
        if reader.feed(&chunk, &mut records).is_err() {
            failed = true;
            break;
        }
    }
    // Pairs of quotes inside a quoted field are one quote each: the field grows at half the
    // input's rate, and the record is refused once it passes the limit in input bytes.
    assert!(failed, "a 4 MiB record is refused");
    assert!(records.iter().all(|r| r.fields().map(str::len).sum::<usize>() <= MAX_RECORD_BYTES));
}
