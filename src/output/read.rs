//! The one CSV reader: a result CSV file read whole into its header and
//! records with the `csv` crate, so quoted fields keep their commas, quotes
//! and line breaks. A row whose field count differs from the header's is an
//! error naming the file and the line, never dropped.

use std::path::{Path, PathBuf};

/// A CSV file's header and records, every record as long as the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    /// The column names of the first line.
    pub header: Vec<String>,
    /// The records after it, in file order.
    pub records: Vec<Vec<String>>,
    /// The line each record starts on, counted from 1 (the header's is 1).
    pub lines: Vec<u64>,
}

impl CsvFile {
    /// The index of column `name`, if the header has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Why a CSV file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A row is not well-formed CSV, or has a field count other than the
    /// header's.
    #[error("{}: line {line}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The row's first line, counted from 1.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
}

/// Reads the CSV file at `path`: its first line as the header, the other
/// non-empty lines as records. An empty file has an empty header and no
/// records.
pub fn read_csv(path: &Path) -> Result<CsvFile, ReadError> {
    read_csv_hashed(path).map(|(csv, _)| csv)
}

/// [`read_csv`], with the SHA-256 of the bytes it parsed (read once, so the
/// hash is that of the very bytes parsed).
pub fn read_csv_hashed(path: &Path) -> Result<(CsvFile, String), ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let csv = parse(path, &bytes)?;
    Ok((csv, crate::digest::sha256_hex(&bytes)))
}

/// The header and records of the CSV text `bytes` (`path` for errors).
fn parse(path: &Path, bytes: &[u8]) -> Result<CsvFile, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| classify(path, e))?
        .iter()
        .map(String::from)
        .collect();
    let mut records = Vec::new();
    let mut lines = Vec::new();
    // Newlines before `counted`, so that each byte is counted once however
    // many records the file has.
    let (mut counted, mut newlines) = (0usize, 0u64);
    for record in reader.records() {
        let record = record.map_err(|e| classify(path, e))?;
        // The reader's own line count can stop short of a `\r\n` ending;
        // the line is counted from the record's first byte instead.
        let start = record.position().map_or(0, |p| p.byte() as usize);
        let start = start
            + bytes[start.min(bytes.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let start = start.min(bytes.len()).max(counted);
        newlines += bytes[counted..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        counted = start;
        lines.push(1 + newlines);
        records.push(record.iter().map(String::from).collect());
    }
    Ok(CsvFile {
        header,
        records,
        lines,
    })
}

/// The [`ReadError`] of a `csv` error while reading `path`.
fn classify(path: &Path, e: csv::Error) -> ReadError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.into_kind() {
        csv::ErrorKind::Io(source) => {
            return ReadError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 ({err})"),
        other => format!("{other:?}"),
    };
    ReadError::Malformed {
        path: path.to_path_buf(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` written to a file named `name` in this test's temporary directory.
    fn file(name: &str, text: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fp-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn quotes_are_honoured() {
        let path = file(
            "quoted.csv",
            b"a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n",
        );
        let csv = read_csv(&path).expect("well-formed");
        assert_eq!(csv.header, ["a", "b", "c"]);
        assert_eq!(
            csv.records,
            [["1", "x, y", "say \"hi\""], ["2", "two\nlines", ""]]
        );
        assert_eq!(csv.column("c"), Some(2));
        assert_eq!(csv.lines, [2, 3]);
        assert_eq!(csv.column("d"), None);
    }

    #[test]
    fn a_row_of_another_length_is_an_error_naming_file_and_line() {
        let path = file("short.csv", b"a,b\n1,\"2\n3\"\n4\n5,6\n");
        let e = read_csv(&path).expect_err("a short row");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 4: 1 fields where the header has 2",
                path.display()
            )
        );
        let path = file("long.csv", b"a,b\n1,2,3\n");
        let e = read_csv(&path).expect_err("a long row");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: line 2: 3 fields where the header has 2",
                path.display()
            )
        );
    }

    #[test]
    fn bad_bytes_and_missing_files_are_errors() {
        let path = file("latin1.csv", b"a,b\n1,caf\xe9\n");
        let e = read_csv(&path).expect_err("not UTF-8");
        assert!(
            e.to_string()
                .starts_with(&format!("{}: line 2: not UTF-8", path.display())),
            "{e}"
        );
        let missing = path.with_file_name("missing.csv");
        let e = read_csv(&missing).expect_err("no file");
        assert!(
            matches!(&e, ReadError::Io { path, .. } if *path == missing),
            "{e}"
        );
    }

    #[test]
    fn an_empty_file_has_no_header_and_no_records() {
        let csv = read_csv(&file("empty.csv", b"")).expect("empty");
        assert!(csv.header.is_empty() && csv.records.is_empty());
    }
}
