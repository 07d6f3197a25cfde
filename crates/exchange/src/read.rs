//! Reading an uploaded file into rows of cells, whatever its format: xlsx
//! (streamed cell by cell), xls and ods (through calamine), and CSV or tab
//! separated text in UTF-8 (with or without BOM), UTF-16 or GBK/GB18030,
//! detected from the bytes. The file's name is never trusted for the format.
//!
//! Every limit is checked before the work it guards: the file size before
//! anything, the unpacked size of a zip container before it is inflated (a
//! zip bomb is refused, not unpacked), the row count while reading. Formula
//! cells, merged cells and overlong cells are reported where they are.

// A refused file is reported by one `Issue` on the cold path, once per
// file; boxing it would only add noise to every signature here.
#![allow(clippy::result_large_err)]

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{DataRef, Dimensions, Reader, Xls, Xlsx};
use chrono::NaiveDate;

use crate::cell::Cell;
use crate::issue::Issue;

/// Limits on what an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Most data rows (all sheets together).
    pub max_rows: u64,
    /// Longest cell, in characters.
    pub max_cell_chars: usize,
    /// Largest unpacked content of an xlsx or ods file, in bytes.
    pub max_unpacked_bytes: u64,
}

impl Limits {
    /// Refuses a file larger than [`Limits::max_bytes`].
    pub fn check_size(&self, bytes: u64) -> Result<(), Issue> {
        if bytes <= self.max_bytes {
            return Ok(());
        }
        let mb = |b: u64| b.div_ceil(1_048_576);
        Err(Issue::file(
            "file_too_large",
            format!(
                "文件大小 {} MB 超过上限 {} MB（{} 字节）",
                mb(bytes),
                mb(self.max_bytes),
                self.max_bytes
            ),
            format!(
                "the file is {} MB, above the limit of {} MB ({} bytes)",
                mb(bytes),
                mb(self.max_bytes),
                self.max_bytes
            ),
        ))
    }
}

impl Default for Limits {
    /// 256 MiB, 2,000,000 rows (a 1M-transaction export is about 90 MB and
    /// must import back), 2,000 characters, 2 GiB unpacked.
    fn default() -> Limits {
        Limits {
            max_bytes: 256 * 1024 * 1024,
            max_rows: 2_000_000,
            max_cell_chars: 2_000,
            max_unpacked_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// How a text file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (as Excel and WPS write it).
    Utf8Bom,
    /// UTF-16 with a byte-order mark (Excel's "Unicode text").
    Utf16,
    /// GBK or GB18030 (GB18030 is a superset, so it decodes both).
    Gb18030,
}

/// The format of a file, found from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML workbook.
    Xlsx,
    /// Excel 97–2003 workbook.
    Xls,
    /// OpenDocument spreadsheet.
    Ods,
    /// Delimited text.
    Csv {
        /// Its encoding.
        encoding: TextEncoding,
        /// The field delimiter (`,`, tab or `;`).
        delimiter: u8,
    },
}

impl Format {
    /// A short name for reports, e.g. `CSV (GBK/GB18030)`.
    pub fn describe(self) -> String {
        match self {
            Format::Xlsx => "xlsx".into(),
            Format::Xls => "xls".into(),
            Format::Ods => "ods".into(),
            Format::Csv {
                encoding,
                delimiter,
            } => {
                let enc = match encoding {
                    TextEncoding::Utf8 => "UTF-8",
                    TextEncoding::Utf8Bom => "UTF-8 with BOM",
                    TextEncoding::Utf16 => "UTF-16",
                    TextEncoding::Gb18030 => "GBK/GB18030",
                };
                let kind = if delimiter == b'\t' { "TSV" } else { "CSV" };
                format!("{kind} ({enc})")
            }
        }
    }
}

/// A problem with one cell found while reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    /// 0-based column.
    pub column: u32,
    /// Stable code.
    pub code: &'static str,
    /// zh-CN message.
    pub zh: String,
    /// English message.
    pub en: String,
    /// The offending content (a formula's text, the start of a long cell).
    pub value: String,
}

/// Receives what a file holds, sheet by sheet and row by row.
pub trait Sink {
    /// A sheet starts (for CSV, one sheet named after the file).
    fn begin_sheet(&mut self, name: &str);
    /// One row that is not blank: its number as Excel shows it (1-based),
    /// its cells by 0-based column, and problems with its cells. Returns
    /// `false` to skip the rest of the sheet (an instructions sheet, say).
    fn row(&mut self, number: u32, cells: &[Cell], problems: Vec<CellProblem>) -> bool;
    /// The sheet ended; returns whether it held data, so that its merged
    /// cells are looked for.
    fn end_sheet(&mut self) -> bool;
    /// A merged region (0-based, inclusive) in the sheet just ended.
    fn merged(&mut self, first: (u32, u32), last: (u32, u32));
    /// The size of the sheet's text, when known before its rows (CSV),
    /// so that a large file's records are stored without regrowing.
    fn text_bytes(&mut self, _bytes: usize) {}
}

/// Finds the format from the bytes alone.
pub fn detect(bytes: &[u8]) -> Result<Format, Issue> {
    if bytes.is_empty() {
        return Err(Issue::file("empty_file", "文件为空", "the file is empty"));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return zip_kind(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(Format::Xls);
    }
    let (encoding, text) = decode(bytes)?;
    Ok(Format::Csv {
        encoding,
        delimiter: delimiter(&text),
    })
}

/// Reads a workbook (xlsx, ods or xls) into `sink`.
fn read_workbook(
    format: Format,
    bytes: &[u8],
    limits: &Limits,
    rows: &mut RowCounter<'_>,
    sink: &mut dyn Sink,
) -> Result<(), Issue> {
    match format {
        Format::Xlsx => read_xlsx(bytes, limits, rows, sink),
        Format::Ods => {
            let mut wb: calamine::Ods<_> =
                calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
            read_ranges(&mut wb, limits, rows, sink, |_, _| Vec::new())
        }
        _ => {
            let mut wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(unreadable)?;
            read_ranges(&mut wb, limits, rows, sink, |wb, name| {
                wb.merge_cells_by_sheet_name(name).unwrap_or_default()
            })
        }
    }
}

fn unreadable(detail: impl std::fmt::Display) -> Issue {
    Issue::file(
        "unreadable_file",
        format!("文件无法读取，可能已损坏或被截断：{detail}"),
        format!("the file cannot be read; it may be corrupt or truncated: {detail}"),
    )
}

/// Tells xlsx from ods inside a zip container.
fn zip_kind(bytes: &[u8]) -> Result<Format, Issue> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    if let Ok(mut f) = archive.by_name("mimetype") {
        let mut mime = String::new();
        use std::io::Read as _;
        let _ = (&mut f).take(200).read_to_string(&mut mime);
        if mime.contains("opendocument.spreadsheet") {
            return Ok(Format::Ods);
        }
    }
    if archive.by_name("[Content_Types].xml").is_ok() {
        return Ok(Format::Xlsx);
    }
    Err(Issue::file(
        "unsupported_format",
        "文件是压缩包但不是 xlsx 或 ods 电子表格",
        "the file is a zip archive but not an xlsx or ods spreadsheet",
    ))
}

/// Refuses a zip container whose parts would unpack beyond the limit.
fn check_unpacked(bytes: &[u8], limits: &Limits) -> Result<(), Issue> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(unreadable)?;
        total = total.saturating_add(f.size());
    }
    if total > limits.max_unpacked_bytes {
        return Err(Issue::file(
            "file_too_large",
            format!(
                "文件解压后为 {} MB，超过上限 {} MB",
                total / 1_048_576,
                limits.max_unpacked_bytes / 1_048_576
            ),
            format!(
                "the file unpacks to {} MB, above the limit of {} MB",
                total / 1_048_576,
                limits.max_unpacked_bytes / 1_048_576
            ),
        ));
    }
    Ok(())
}

/// Decodes text: a BOM decides; otherwise valid UTF-8 is UTF-8 and
/// anything else is read as GB18030 (which covers GBK), or refused.
/// UTF-8 text is borrowed, not copied: a CSV of 100 MB stays 100 MB.
pub fn decode(bytes: &[u8]) -> Result<(TextEncoding, Cow<'_, str>), Issue> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest).map(|s| (TextEncoding::Utf8Bom, s));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (text, _, bad) = encoding_rs::UTF_16LE.decode(bytes);
        if bad {
            return Err(undecodable());
        }
        return Ok((TextEncoding::Utf16, Cow::Owned(text.into_owned())));
    }
    match simdutf8::compat::from_utf8(bytes) {
        Ok(s) => binary_check(s).map(|()| (TextEncoding::Utf8, Cow::Borrowed(s))),
        // A sequence cut off at the very end: a UTF-8 file that was truncated.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => Err(truncated()),
        Err(_) => {
            let text = encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or_else(undecodable)?;
            binary_check(&text).map(|()| (TextEncoding::Gb18030, text))
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, Issue> {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(s) => binary_check(s).map(|()| Cow::Borrowed(s)),
        Err(e) if e.error_len().is_none() => Err(truncated()),
        Err(_) => Err(undecodable()),
    }
}

/// NUL characters never occur in text: the file is binary (a renamed PDF,
/// a damaged workbook).
fn binary_check(s: &str) -> Result<(), Issue> {
    // memchr's vector search: a large file's text is scanned whole.
    if memchr::memchr(0, s.as_bytes()).is_some() {
        Err(Issue::file(
            "unsupported_format",
            "文件不是 xlsx、xls、ods 电子表格，也不是 CSV 文本",
            "the file is neither an xlsx, xls or ods spreadsheet nor CSV text",
        ))
    } else {
        Ok(())
    }
}

fn truncated() -> Issue {
    Issue::file(
        "truncated_file",
        "文件在一个字符中间结束：文件不完整（被截断）",
        "the file ends in the middle of a character: it is incomplete (truncated)",
    )
}

fn undecodable() -> Issue {
    Issue::file(
        "undecodable_text",
        "文件编码无法识别：请保存为 UTF-8 或 GBK/GB18030 编码的 CSV",
        "the text encoding is not recognised: save the CSV as UTF-8 or GBK/GB18030",
    )
}

/// The delimiter used most on the first line: comma, tab or semicolon.
fn delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.chars().filter(|x| *x == c).count();
    let (comma, tab, semi) = (count(','), count('\t'), count(';'));
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma && semi > tab {
        b';'
    } else {
        b','
    }
}

/// Reads the whole file into `sink`. A file that cannot be read at all
/// gives one file-level issue.
pub fn read(
    bytes: &[u8],
    csv_sheet: &str,
    limits: &Limits,
    sink: &mut dyn Sink,
) -> Result<Format, Issue> {
    limits.check_size(bytes.len() as u64)?;
    let format = detect(bytes)?;
    let mut rows = RowCounter {
        limits,
        data_rows: 0,
        sheet_rows: 0,
    };
    match format {
        Format::Xlsx | Format::Ods | Format::Xls => {
            // xlsx and ods are zips: refuse a bomb before unpacking it.
            if format != Format::Xls {
                check_unpacked(bytes, limits)?;
            }
            // calamine can panic on crafted workbooks (fuzzing found an
            // overflow in its cell-reference parser): such a file is refused
            // as unreadable instead of taking the import, or the server's
            // worker thread, down with it. The sink's partial rows are
            // dropped with the error.
            let workbook = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                read_workbook(format, bytes, limits, &mut rows, &mut *sink)
            }));
            match workbook {
                Ok(result) => result?,
                Err(_) => return Err(unreadable("the workbook's structure is invalid")),
            }
        }
        Format::Csv { delimiter, .. } => {
            let (_, text) = decode(bytes)?;
            read_csv(&text, delimiter, csv_sheet, limits, &mut rows, sink)?;
        }
    }
    Ok(format)
}

/// Counts data rows against the limit.
struct RowCounter<'a> {
    limits: &'a Limits,
    data_rows: u64,
    sheet_rows: u64,
}

impl RowCounter<'_> {
    fn begin_sheet(&mut self) {
        self.sheet_rows = 0;
    }

    fn count(&mut self) -> Result<(), Issue> {
        // The first row of each sheet is its header.
        self.sheet_rows += 1;
        if self.sheet_rows > 1 {
            self.data_rows += 1;
        }
        if self.data_rows > self.limits.max_rows {
            return Err(Issue::file(
                "too_many_rows",
                format!(
                    "文件超过 {} 行数据的上限，请拆分后分批导入",
                    self.limits.max_rows
                ),
                format!(
                    "the file has more than {} data rows, the limit; split it and import the parts",
                    self.limits.max_rows
                ),
            ));
        }
        Ok(())
    }
}

/// Problems with a cell's content that every format shares.
fn content_problems(column: u32, cell: &Cell, limits: &Limits, out: &mut Vec<CellProblem>) {
    if cell.longer_than(limits.max_cell_chars) {
        let chars = cell.chars();
        let start: String = cell.display().chars().take(40).collect();
        out.push(CellProblem {
            column,
            code: "cell_too_long",
            zh: format!(
                "单元格有 {chars} 个字符，超过上限 {} 个",
                limits.max_cell_chars
            ),
            en: format!(
                "the cell has {chars} characters, above the limit of {}",
                limits.max_cell_chars
            ),
            value: format!("{start}…"),
        });
    }
}

fn formula_problem(column: u32, formula: &str) -> CellProblem {
    let shown: String = formula.chars().take(100).collect();
    CellProblem {
        column,
        code: "formula_cell",
        zh: "单元格含公式：请复制后“选择性粘贴为数值”再导入，以免导入的值与所见不同".into(),
        en: "the cell holds a formula: copy and paste it as values before importing, so that what is imported is what you see".into(),
        value: format!("={}", shown.trim_start_matches('=')),
    }
}

fn date_cell(dt: &calamine::ExcelDateTime) -> Cell {
    if !dt.is_datetime() {
        return Cell::Float(dt.as_f64());
    }
    let (y, m, d, hh, mm, ss, ms) = dt.to_ymd_hms_milli();
    match NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
        Some(date) => Cell::Date(date, hh == 0 && mm == 0 && ss == 0 && ms == 0),
        None => Cell::Float(dt.as_f64()),
    }
}

fn cell_of_ref(v: DataRef<'_>) -> Cell {
    match v {
        DataRef::Int(i) => Cell::Int(i),
        DataRef::Float(f) => Cell::Float(f),
        DataRef::String(s) => Cell::Text(s),
        DataRef::SharedString(s) => Cell::Text(s.to_owned()),
        DataRef::Bool(b) => Cell::Bool(b),
        DataRef::DateTime(dt) => date_cell(&dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s),
        DataRef::Error(e) => Cell::Error(e.to_string()),
        DataRef::Empty => Cell::Empty,
    }
}

fn cell_of_data(v: &calamine::Data) -> Cell {
    use calamine::Data;
    match v {
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => date_cell(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
        Data::Empty => Cell::Empty,
    }
}

/// Hands a row to the sink unless it is blank; returns whether to go on
/// with the sheet. The cells stay with the caller, which clears them or
/// (CSV) writes the next row over them, reusing their text's memory.
fn flush(
    number: u32,
    cells: &[Cell],
    problems: &mut Vec<CellProblem>,
    rows: &mut RowCounter<'_>,
    sink: &mut dyn Sink,
) -> Result<bool, Issue> {
    let problems = std::mem::take(problems);
    if problems.is_empty() && cells.iter().all(Cell::is_blank) {
        return Ok(true);
    }
    rows.count()?;
    Ok(sink.row(number, cells, problems))
}

fn put(cells: &mut Vec<Cell>, column: u32, cell: Cell) {
    let c = column as usize;
    if cells.len() <= c {
        cells.resize(c + 1, Cell::Empty);
    }
    cells[c] = cell;
}

/// Streams an xlsx file cell by cell, so that a large sheet never sits in memory as a whole.
fn read_xlsx(
    bytes: &[u8],
    limits: &Limits,
    rows: &mut RowCounter<'_>,
    sink: &mut dyn Sink,
) -> Result<(), Issue> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    for name in wb.sheet_names() {
        sink.begin_sheet(&name);
        rows.begin_sheet();
        {
            let mut reader = wb.worksheet_cells_reader(&name).map_err(unreadable)?;
            let mut current: Option<u32> = None;
            let mut cells = Vec::new();
            let mut problems = Vec::new();
            while let Some(record) = reader.next_cell_with_formula().map_err(unreadable)? {
                let (r, c) = record.pos;
                if current != Some(r) {
                    if let Some(prev) = current {
                        let go_on = flush(prev + 1, &cells, &mut problems, rows, sink)?;
                        cells.clear();
                        if !go_on {
                            current = None;
                            break;
                        }
                    }
                    current = Some(r);
                }
                let cell = cell_of_ref(record.value);
                if let Some(f) = record.formula.as_deref().filter(|f| !f.is_empty()) {
                    problems.push(formula_problem(c, f));
                }
                content_problems(c, &cell, limits, &mut problems);
                put(&mut cells, c, cell);
            }
            if let Some(r) = current {
                flush(r + 1, &cells, &mut problems, rows, sink)?;
            }
        }
        if sink.end_sheet() {
            let merged = wb.merge_cells_by_sheet_name(&name).map_err(unreadable)?;
            for d in merged {
                sink.merged(d.start, d.end);
            }
        }
    }
    Ok(())
}

/// Reads xls and ods sheets through calamine's ranges.
fn read_ranges<R, RS>(
    wb: &mut R,
    limits: &Limits,
    rows: &mut RowCounter<'_>,
    sink: &mut dyn Sink,
    merged: impl Fn(&R, &str) -> Vec<Dimensions>,
) -> Result<(), Issue>
where
    R: Reader<RS>,
    RS: std::io::Read + std::io::Seek,
    R::Error: std::fmt::Display,
{
    for name in wb.sheet_names() {
        sink.begin_sheet(&name);
        rows.begin_sheet();
        let range = wb.worksheet_range(&name).map_err(unreadable)?;
        let formulas = wb.worksheet_formula(&name).unwrap_or_default();
        if let Some((r0, c0)) = range.start() {
            for (i, row) in range.rows().enumerate() {
                let r = r0 + i as u32;
                let mut cells = Vec::new();
                let mut problems = Vec::new();
                for (j, value) in row.iter().enumerate() {
                    let c = c0 + j as u32;
                    let cell = cell_of_data(value);
                    if let Some(f) = formulas.get_value((r, c)).filter(|f| !f.is_empty()) {
                        problems.push(formula_problem(c, f));
                    }
                    content_problems(c, &cell, limits, &mut problems);
                    put(&mut cells, c, cell);
                }
                if !flush(r + 1, &cells, &mut problems, rows, sink)? {
                    break;
                }
            }
        }
        if sink.end_sheet() {
            for d in merged(wb, &name) {
                sink.merged(d.start, d.end);
            }
        }
    }
    Ok(())
}

fn read_csv(
    text: &str,
    delimiter: u8,
    sheet: &str,
    limits: &Limits,
    rows: &mut RowCounter<'_>,
    sink: &mut dyn Sink,
) -> Result<(), Issue> {
    sink.begin_sheet(sheet);
    sink.text_bytes(text.len());
    rows.begin_sheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    // Bytes, checked as UTF-8 once per record below: a `StringRecord`
    // checks with the standard library's slower validator.
    let mut record = csv::ByteRecord::new();
    // Reused from row to row: a text cell's memory takes the next row's
    // text in that column instead of being freed and allocated again.
    let mut cells: Vec<Cell> = Vec::new();
    let mut problems = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(unreadable(e)),
        }
        // The line where the record starts is the row Excel shows for it
        // (unless an earlier field spans lines).
        let number = record
            .position()
            .map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        // The text is UTF-8 and fields end at ASCII delimiters, so every
        // field's range is a character boundary of the record's text.
        let text = simdutf8::basic::from_utf8(record.as_slice()).map_err(unreadable)?;
        cells.truncate(record.len());
        for j in 0..record.len() {
            let field = record
                .range(j)
                .and_then(|r| text.get(r))
                .ok_or_else(|| unreadable(format!("field {}", j + 1)))?;
            match cells.get_mut(j) {
                Some(Cell::Text(s)) if !field.is_empty() => {
                    s.clear();
                    s.push_str(field);
                }
                Some(cell) => *cell = csv_cell(field),
                None => cells.push(csv_cell(field)),
            }
            content_problems(j as u32, &cells[j], limits, &mut problems);
        }
        if !flush(number, &cells, &mut problems, rows, sink)? {
            break;
        }
    }
    sink.end_sheet();
    Ok(())
}

fn csv_cell(field: &str) -> Cell {
    if field.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(field.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected() {
        let text = "项目编号,金额（元）\nP-1,12.5\n";
        assert_eq!(decode(text.as_bytes()).map(|r| r.0), Ok(TextEncoding::Utf8));
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom).map(|r| r.1.into_owned()), Ok(text.to_owned()));
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(
            decode(&gbk).map(|(e, t)| (e, t.into_owned())),
            Ok((TextEncoding::Gb18030, text.to_owned()))
        );
        let whole = "项目编号";
        let cut = &whole.as_bytes()[..whole.len() - 1];
        assert_eq!(decode(cut).map_err(|e| e.code), Err("truncated_file"));
        assert_eq!(detect(b"").map_err(|e| e.code), Err("empty_file"));
        assert_eq!(
            detect(b"%PDF-1.4\0\0").map_err(|e| e.code),
            Err("unsupported_format")
        );
        assert_eq!(delimiter("a\tb\tc"), b'\t');
        assert_eq!(delimiter("a;b;c"), b';');
        assert_eq!(delimiter("a,b;c"), b',');
    }
}
