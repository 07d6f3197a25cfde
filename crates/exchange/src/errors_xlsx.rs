//! The error report as a workbook: the imported file's sheets copied cell
//! by cell, each bad cell filled red with a note saying what is wrong in
//! Chinese and English (a problem with a whole row marks its first cell),
//! and a first sheet 错误清单 listing every problem. The user corrects the
//! marked cells and imports again. In assignments sheets, ID numbers and
//! phones are copied masked: the report travels further than the file.

use std::collections::HashMap;
use std::path::Path;

use rust_xlsxwriter::{Color, Format, Note, Workbook};

use crate::cell::Cell;
use crate::error::ExchangeError;
use crate::import::ImportReport;
use crate::issue::Issue;
use crate::parse::{PersonalColumn, mask_lookalikes};
use crate::read::{CellProblem, Limits, Sink, read};

/// Most notes written; past it bad cells are only filled (notes are costly
/// in Excel, and the list sheet names every problem anyway).
const MAX_NOTES: usize = 20_000;

/// Sheet names must be unique and at most 31 characters without `[]:*?/\`.
fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(28)
        .collect();
    let clean = if clean.trim().is_empty() {
        "数据".to_owned()
    } else {
        clean
    };
    let mut candidate = clean.clone();
    let mut n = 2;
    while used.iter().any(|u| u.eq_ignore_ascii_case(&candidate)) || candidate == "错误清单" {
        candidate = format!("{clean}({n})");
        n += 1;
    }
    used.push(candidate.clone());
    candidate
}

/// Copies every sheet of the file, marking the cells named in `issues`.
struct Copier<'a> {
    workbook: Workbook,
    /// Sheet → (row, column) → the issues there.
    marks: HashMap<String, HashMap<(u32, u32), Vec<&'a Issue>>>,
    /// Sheet → row → the last column marked in it.
    last_marked: HashMap<String, HashMap<u32, u32>>,
    used_names: Vec<String>,
    sheet: Option<usize>,
    current: String,
    notes: usize,
    bad: Format,
    date: Format,
    error: Option<ExchangeError>,
    /// Assignments sheets by name: the header row and the personal columns.
    personal: HashMap<String, (u32, Vec<(u32, PersonalColumn)>)>,
}

impl Copier<'_> {
    fn write_row(&mut self, number: u32, cells: &[Cell]) -> Result<(), ExchangeError> {
        let Some(index) = self.sheet else {
            return Ok(());
        };
        let r = number.saturating_sub(1);
        let width = cells.len() as u32;
        let last = self
            .last_marked
            .get(&self.current)
            .and_then(|rows| rows.get(&number))
            .map_or(width, |m| width.max(m + 1));
        let empty = HashMap::new();
        let marks = self.marks.get(&self.current).unwrap_or(&empty);
        let personal = self
            .personal
            .get(&self.current)
            .filter(|(header, _)| number > *header);
        let ws = self.workbook.worksheet_from_index(index)?;
        for c in 0..last {
            let cell = cells.get(c as usize).unwrap_or(&Cell::Empty);
            let masked;
            let cell = match personal {
                Some((_, columns)) if !cell.is_blank() => {
                    let shown = cell.display();
                    let m = match columns.iter().find(|(pc, _)| *pc == c) {
                        Some((_, what)) => what.mask(&shown),
                        None => mask_lookalikes(&shown),
                    };
                    if m == shown {
                        cell
                    } else {
                        masked = Cell::Text(m);
                        &masked
                    }
                }
                _ => cell,
            };
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            match marks.get(&(number, c)) {
                Some(issues) => {
                    ws.write_string_with_format(r, col, cell.display(), &self.bad)?;
                    if self.notes < MAX_NOTES {
                        let text: Vec<String> = issues
                            .iter()
                            .map(|i| format!("[{}] {}\n{}", i.code, i.zh, i.en))
                            .collect();
                        let note = Note::new(text.join("\n"))
                            .set_author("援疆通")
                            .set_width(360)
                            .set_height(140);
                        ws.insert_note(r, col, &note)?;
                        self.notes += 1;
                    }
                }
                None => match cell {
                    Cell::Empty => {}
                    Cell::Int(i) => {
                        ws.write_number(r, col, *i as f64)?;
                    }
                    Cell::Float(f) => {
                        ws.write_number(r, col, *f)?;
                    }
                    Cell::Bool(b) => {
                        ws.write_boolean(r, col, *b)?;
                    }
                    Cell::Date(d, _) => {
                        ws.write_string_with_format(
                            r,
                            col,
                            d.format("%Y-%m-%d").to_string(),
                            &self.date,
                        )?;
                    }
                    Cell::Text(s) | Cell::Error(s) => {
                        ws.write_string(r, col, s)?;
                    }
                },
            }
        }
        Ok(())
    }
}

impl Sink for Copier<'_> {
    fn begin_sheet(&mut self, name: &str) {
        self.current = name.to_owned();
        let title = sheet_name(name, &mut self.used_names);
        let ws = self.workbook.add_worksheet();
        self.sheet = match ws.set_name(title) {
            Ok(_) => Some(self.workbook.worksheets().len() - 1),
            Err(e) => {
                self.error.get_or_insert(e.into());
                None
            }
        };
    }

    fn row(&mut self, number: u32, cells: &[Cell], _: Vec<CellProblem>) -> bool {
        if let Err(e) = self.write_row(number, cells) {
            self.error.get_or_insert(e);
            return false;
        }
        true
    }

    fn end_sheet(&mut self) -> bool {
        false
    }

    fn merged(&mut self, _: (u32, u32), _: (u32, u32)) {}
}

/// Writes the error workbook for an import of `bytes` that produced `report`.
pub fn write_error_workbook(
    bytes: &[u8],
    report: &ImportReport,
    limits: &Limits,
    path: &Path,
) -> Result<(), ExchangeError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let list = workbook.add_worksheet();
    list.set_name("错误清单")?;
    list.set_freeze_panes(1, 0)?;
    let headers = [
        "工作表 sheet",
        "行 row",
        "列 column",
        "表头 header",
        "值 value",
        "代码 code",
        "问题（中文）",
        "problem (English)",
    ];
    for (c, h) in headers.iter().enumerate() {
        list.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (c, w) in [16.0, 8.0, 8.0, 16.0, 20.0, 24.0, 60.0, 60.0]
        .iter()
        .enumerate()
    {
        list.set_column_width(c as u16, *w)?;
    }
    for (i, issue) in report.issues.iter().enumerate() {
        let r = i as u32 + 1;
        list.write_string(r, 0, &issue.sheet)?;
        if let Some(row) = issue.row {
            list.write_number(r, 1, f64::from(row))?;
        }
        if let Some(letter) = issue.column_letter() {
            list.write_string(r, 2, letter)?;
        }
        list.write_string(r, 3, issue.header.as_deref().unwrap_or(""))?;
        list.write_string(r, 4, issue.value.as_deref().unwrap_or(""))?;
        list.write_string(r, 5, issue.code)?;
        list.write_string(r, 6, &issue.zh)?;
        list.write_string(r, 7, &issue.en)?;
    }
    if report.suppressed > 0 {
        let r = report.issues.len() as u32 + 1;
        list.write_string(r, 6, format!("另有 {} 个问题未列出", report.suppressed))?;
        list.write_string(
            r,
            7,
            format!("{} more problems not listed", report.suppressed),
        )?;
    }

    let mut marks: HashMap<String, HashMap<(u32, u32), Vec<&Issue>>> = HashMap::new();
    let mut last_marked: HashMap<String, HashMap<u32, u32>> = HashMap::new();
    for issue in &report.issues {
        if let Some(row) = issue.row {
            // A problem with a whole row marks its first cell.
            let col = issue.column.unwrap_or(0);
            marks
                .entry(issue.sheet.clone())
                .or_default()
                .entry((row, col))
                .or_default()
                .push(issue);
            let last = last_marked
                .entry(issue.sheet.clone())
                .or_default()
                .entry(row)
                .or_insert(col);
            *last = (*last).max(col);
        }
    }
    let mut copier = Copier {
        workbook,
        marks,
        last_marked,
        used_names: vec!["错误清单".to_owned()],
        sheet: None,
        current: String::new(),
        notes: 0,
        bad: Format::new()
            .set_background_color(Color::RGB(0xFF9999))
            .set_font_color(Color::RGB(0x9C0006)),
        date: Format::new(),
        error: None,
        personal: report
            .sheets
            .iter()
            .filter(|s| s.kind == crate::Kind::Assignments.key())
            .map(|s| (s.name.clone(), (s.header_row, s.personal_columns.clone())))
            .collect(),
    };
    // A file that could not be read at all has only the list.
    let _ = read(bytes, &report.file_name, limits, &mut copier);
    if let Some(e) = copier.error {
        return Err(e);
    }
    copier.workbook.save(path)?;
    Ok(())
}
