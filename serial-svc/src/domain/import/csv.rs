//! An incremental CSV reader (RFC 4180) fed with chunks split anywhere: inside a row, a quoted
//! field or a UTF-8 character. It keeps at most one record in memory (at most
//! [`MAX_RECORD_BYTES`]), so a 10 MB line is refused after its first megabyte without being
//! buffered whole, and it tracks the file line on which each record starts and ends (a quoted
//! field may span lines).
//!
//! Strict where the merchants' tools are sloppy in ways that would import wrong data: a quote
//! inside an unquoted field, text after a closing quote, and a quoted field never closed are
//! errors (with the line), as is invalid UTF-8. Blank lines are skipped; `\n`, `\r\n` and a lone
//! `\r` all end a line.

/// Longest record, in bytes of the file (quotes and separators included).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Why the file cannot be read on: the reading stops at `line`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("line {line}: bad quoting: {what}")]
    BadQuoting { line: u64, what: &'static str },
    #[error("line {line}: invalid utf-8")]
    InvalidUtf8 { line: u64 },
    #[error("line {line}: row longer than {MAX_RECORD_BYTES} bytes")]
    TooLong { line: u64 },
}

impl CsvError {
    /// The line at fault.
    pub fn line(&self) -> u64 {
        match self {
            Self::BadQuoting { line, .. } | Self::InvalidUtf8 { line } | Self::TooLong { line } => *line,
        }
    }
}

/// One record: its fields, and the lines it starts and ends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line the record starts on (the header is line 1).
    pub line: u64,
    /// The line it ends on: after `line` when a quoted field holds line breaks.
    pub end_line: u64,
    text: String,
    ends: Vec<usize>,
}

impl Record {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `index`, unquoted.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.text[start..end])
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|index| self.get(index))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field (of a record, when `ends` is empty and nothing was read).
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote read inside a quoted field: either the closing quote or the first of `""`.
    QuoteInQuoted,
}

/// The reader: [`CsvReader::feed`] each chunk, then [`CsvReader::finish`].
#[derive(Debug)]
pub struct CsvReader {
    state: State,
    /// The line being read.
    line: u64,
    /// The line the current record started on.
    record_line: u64,
    /// Bytes of the file in the current record.
    record_bytes: usize,
    /// A `\r` just ended a line: a `\n` right after it belongs to the same line break.
    after_cr: bool,
    field: Vec<u8>,
    ends: Vec<usize>,
    failed: Option<CsvError>,
}

impl Default for CsvReader {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvReader {
    pub fn new() -> Self {
        Self {
            state: State::FieldStart,
            line: 1,
            record_line: 1,
            record_bytes: 0,
            after_cr: false,
            field: Vec::new(),
            ends: Vec::new(),
            failed: None,
        }
    }

    /// Reads `chunk`, appending the records it completes to `out`. After an error, every call
    /// answers the same error.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Record>) -> Result<(), CsvError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.read(chunk, out);
        if let Err(err) = &result {
            self.failed = Some(err.clone());
        }
        result
    }

    /// The end of the file: completes the last record (a file need not end with a line break).
    pub fn finish(&mut self, out: &mut Vec<Record>) -> Result<(), CsvError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.state {
            State::Quoted => {
                let err = CsvError::BadQuoting { line: self.record_line, what: "quoted field not closed" };
                self.failed = Some(err.clone());
                Err(err)
            }
            State::FieldStart if self.ends.is_empty() && self.record_bytes == 0 => Ok(()),
            _ => {
                let result = self.end_record(out);
                if let Err(err) = &result {
                    self.failed = Some(err.clone());
                }
                result
            }
        }
    }

    fn read(&mut self, chunk: &[u8], out: &mut Vec<Record>) -> Result<(), CsvError> {
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            self.record_bytes += 1;
            if self.record_bytes > MAX_RECORD_BYTES {
                return Err(CsvError::TooLong { line: self.record_line });
            }
            match (self.state, byte) {
                (State::FieldStart, b'"') => self.state = State::Quoted,
                (State::FieldStart | State::Unquoted | State::QuoteInQuoted, b',') => {
                    self.end_field();
                    self.state = State::FieldStart;
                }
                (State::FieldStart | State::Unquoted | State::QuoteInQuoted, b'\n' | b'\r') => {
                    self.after_cr = byte == b'\r';
                    self.record_bytes -= 1;
                    self.end_line(out)?;
                }
                (State::FieldStart | State::Unquoted, _) if byte == b'"' => {
                    return Err(CsvError::BadQuoting {
                        line: self.line,
                        what: "quote inside an unquoted field",
                    });
                }
                (State::FieldStart | State::Unquoted, _) => {
                    self.field.push(byte);
                    self.state = State::Unquoted;
                }
                (State::Quoted, b'"') => self.state = State::QuoteInQuoted,
                (State::Quoted, _) => {
                    if byte == b'\n' {
                        self.line += 1;
                    }
                    self.field.push(byte);
                }
                (State::QuoteInQuoted, b'"') => {
                    self.field.push(b'"');
                    self.state = State::Quoted;
                }
                (State::QuoteInQuoted, _) => {
                    return Err(CsvError::BadQuoting { line: self.line, what: "text after a closing quote" });
                }
            }
        }
        Ok(())
    }

    fn end_field(&mut self) {
        // Field bytes are appended to one buffer; `ends` marks where each field ends.
        self.ends.push(self.field.len());
    }

    /// A line break outside quotes: ends the record (a blank line holds none).
    fn end_line(&mut self, out: &mut Vec<Record>) -> Result<(), CsvError> {
        let blank = self.ends.is_empty() && self.field.is_empty() && self.state == State::FieldStart;
        if !blank {
            self.end_record(out)?;
        }
        self.line += 1;
        self.record_line = self.line;
        self.record_bytes = 0;
        self.state = State::FieldStart;
        Ok(())
    }

    fn end_record(&mut self, out: &mut Vec<Record>) -> Result<(), CsvError> {
        self.end_field();
        let bytes = std::mem::take(&mut self.field);
        let ends = std::mem::take(&mut self.ends);
        let line_at = |bytes: &[u8], at: usize| {
            self.record_line + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64
        };
        let text = String::from_utf8(bytes).map_err(|err| {
            let valid = err.utf8_error().valid_up_to();
            CsvError::InvalidUtf8 { line: line_at(err.as_bytes(), valid) }
        })?;
        // Each field must be UTF-8 on its own: the halves of a character split by a separator
        // make valid text together, and no field.
        if let Some(&end) = ends.iter().find(|&&end| !text.is_char_boundary(end)) {
            return Err(CsvError::InvalidUtf8 { line: line_at(text.as_bytes(), end) });
        }
        out.push(Record { line: self.record_line, end_line: self.line, text, ends });
        Ok(())
    }
}

/// Reads a whole buffer at once: the reference the chunked reads must agree with.
pub fn read_all(data: &[u8]) -> (Vec<Record>, Option<CsvError>) {
    let mut reader = CsvReader::new();
    let mut records = Vec::new();
    let err = reader.feed(data, &mut records).and_then(|()| reader.finish(&mut records)).err();
    (records, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(records: &[Record]) -> Vec<(u64, Vec<&str>)> {
        records.iter().map(|r| (r.line, r.fields().collect())).collect()
    }

    #[test]
    fn quoted_fields_hold_separators_quotes_and_line_breaks() {
        let (records, err) = read_all(b"a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",z\nlast,");
        assert_eq!(err, None);
        assert_eq!(
            fields(&records),
            [
                (1, vec!["a", "b"]),
                (2, vec!["x,y", "say \"hi\""]),
                (4, vec!["two\nlines", "z"]),
                (6, vec!["last", ""]),
            ]
        );
        assert_eq!(records[2].end_line, 5);
    }

    #[test]
    fn bad_quoting_is_refused_with_its_line() {
        assert_eq!(read_all(b"a\nb\"c\n").1.map(|e| e.line()), Some(2));
        assert_eq!(read_all(b"a\n\"b\"c\n").1.map(|e| e.line()), Some(2));
        assert_eq!(read_all(b"a\nb\n\"open\n\nstill").1.map(|e| e.line()), Some(3));
    }

    #[test]
    fn invalid_utf8_is_refused_on_the_line_of_the_bad_byte() {
        let (records, err) = read_all(b"a\n\"x\ny\xff\"\n");
        assert_eq!(records.len(), 1);
        assert_eq!(err, Some(CsvError::InvalidUtf8 { line: 3 }));
    }

    #[test]
    fn a_character_split_by_a_separator_is_invalid_utf8() {
        assert_eq!(read_all(b"a\n\xe2\x82,\xac\n").1, Some(CsvError::InvalidUtf8 { line: 2 }));
    }

    #[test]
    fn a_line_over_the_limit_is_refused_without_buffering_it() {
        let mut reader = CsvReader::new();
        let mut out = Vec::new();
        reader.feed(b"h\n", &mut out).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let mut failed = None;
        for _ in 0..160 {
            if let Err(err) = reader.feed(&chunk, &mut out) {
                failed = Some(err);
                break;
            }
        }
        assert_eq!(failed, Some(CsvError::TooLong { line: 2 }));
        assert!(reader.field.capacity() <= 2 * MAX_RECORD_BYTES);
    }

    #[test]
    fn chunks_split_inside_a_character_or_a_quote_read_the_same() {
        let data = "h1,h2\n\"é,\"\"ü\"\"\",€\r\n".as_bytes();
        let (whole, _) = read_all(data);
        for cut in 0..data.len() {
            let mut reader = CsvReader::new();
            let mut out = Vec::new();
            reader.feed(&data[..cut], &mut out).unwrap();
            reader.feed(&data[cut..], &mut out).unwrap();
            reader.finish(&mut out).unwrap();
            assert_eq!(out, whole, "cut at {cut}");
        }
    }
}
