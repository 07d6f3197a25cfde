//! Import templates (导入模板): an xlsx workbook per kind with a frozen
//! header row of Chinese headers (each with a note giving the English
//! header, the key and what the column holds), drop-down lists for every
//! closed vocabulary, text format for codes so that Excel keeps `0`s and
//! does not turn `6531` into a number, and a 说明 (instructions) sheet in
//! Chinese and English. The import skips the instructions sheet by itself.

use rust_xlsxwriter::{Color, DataValidation, Format, Note, Workbook};

use crate::columns::{ColumnType, Kind};
use crate::error::ExchangeError;

/// Last row (0-based) that drop-down lists cover: the whole sheet.
const LAST_ROW: u32 = 1_048_575;

/// Builds the template workbook for `kind`; the caller saves it (or, in
/// tests, fills it in first as a user would).
pub fn template(kind: Kind) -> Result<Workbook, ExchangeError> {
    let mut wb = Workbook::new();
    let required = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xFCE4D6));
    let optional = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7));
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let amount = Format::new().set_num_format("#,##0.00");

    let sheet = wb.add_worksheet();
    sheet.set_name(kind.zh())?;
    sheet.set_freeze_panes(1, 0)?;
    for (c, col) in kind.columns().iter().enumerate() {
        let c = c as u16;
        let (zh, en) = col.ty.expected();
        sheet.write_string_with_format(
            0,
            c,
            col.zh,
            if col.required { &required } else { &optional },
        )?;
        let note = Note::new(format!(
            "{zh_need}\nEnglish: {en_h} ({en_need})\nkey: {key}\n{zh}\n{en}",
            zh_need = if col.required {
                "必填"
            } else if col.ty == ColumnType::BatchNumber {
                "选填（留空表示不属于任何批次）"
            } else {
                "选填（留空则保留原值）"
            },
            en_h = col.en,
            en_need = if col.required {
                "required"
            } else if col.ty == ColumnType::BatchNumber {
                "optional; blank means no batch"
            } else {
                "optional; blank keeps the stored value"
            },
            key = col.key,
        ))
        .set_author("援疆通 Yuanjiang")
        .set_width(320)
        .set_height(160);
        sheet.insert_note(0, c, &note)?;
        let width = match col.ty {
            ColumnType::Text => 30.0,
            ColumnType::Amount | ColumnType::Date => 16.0,
            ColumnType::IdNumber => 22.0,
            _ => 14.0,
        };
        sheet.set_column_width(c, width)?;
        match col.ty {
            // ID numbers and phones as text: a number cell keeps only 15 digits.
            ColumnType::Code
            | ColumnType::Text
            | ColumnType::Period
            | ColumnType::IdNumber
            | ColumnType::Phone => {
                sheet.set_column_format(c, &text)?;
            }
            ColumnType::Date => {
                sheet.set_column_format(c, &date)?;
            }
            ColumnType::Amount => {
                sheet.set_column_format(c, &amount)?;
            }
            _ => {}
        }
        if let Some(choices) = col.ty.choices() {
            let labels: Vec<&str> = choices.iter().map(|(_, zh, _)| *zh).collect();
            let dv = DataValidation::new()
                .allow_list_strings(&labels)?
                .set_error_title("援疆通 Yuanjiang")?
                .set_error_message(format!("请从下拉列表中选择：{zh}"))?;
            sheet.add_data_validation(1, c, LAST_ROW, c, &dv)?;
        }
    }

    let help = wb.add_worksheet();
    help.set_name("说明")?;
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    help.set_column_width(0, 22)?;
    help.set_column_width(1, 28)?;
    help.set_column_width(2, 20)?;
    help.set_column_width(3, 10)?;
    help.set_column_width(4, 48)?;
    help.set_column_width(5, 48)?;
    help.write_string_with_format(
        0,
        0,
        format!(
            "援疆通 {}导入模板说明 / Yuanjiang {} import template: instructions",
            kind.zh(),
            kind.key()
        ),
        &title,
    )?;
    let mut lines = vec![
        "1. 在第一个工作表中从第2行起每行填写一条记录；表头（第1行）可以是中文、英文或键名，列的顺序不限。",
        "   Fill in one record per row from row 2 of the first sheet. Headers (row 1) may be Chinese, English or the key, in any order.",
        "2. 橙色表头为必填列，蓝色表头为选填列；选填列留空时保留系统中已有的值（新记录取默认值）。",
        "   Orange headers are required, blue ones optional; a blank optional cell keeps the stored value (new records take the default).",
        "3. 金额以元为单位，最多两位小数，不能为负；日期格式为 YYYY-MM-DD；是否类列填“是”或“否”。",
        "   Amounts are in yuan with at most two decimals and never negative; dates are YYYY-MM-DD; yes/no columns take 是 or 否.",
        "4. 不要使用公式或合并单元格：含公式或合并单元格的文件会被拒绝。",
        "   Do not use formulas or merged cells: a file with either is refused.",
        "5. 只要有一行有误，整个文件都不会导入；请根据错误报告（行、列、值和原因）修改后重新导入。",
        "   If any row is wrong, nothing is imported; correct the rows named in the error report (row, column, value, reason) and import again.",
        "6. 重复导入同一文件不会产生重复记录：记录按自然键（项目编号；资金按项目、类型、日期和文号；指标按项目、名称和期间）更新。",
        "   Importing the same file again creates no duplicates: records are matched by natural key (project code; transactions by project, type, date and document number; indicators by project, name and period).",
    ];
    if kind == Kind::Assignments {
        lines.extend([
            "7. 干部人才按支援方、批次和身份证号码识别（批次留空也是一种取值）；批次须为该支援方已登记的批次，到岗日期须在批次期限内。",
            "   Assignments are matched by supporter, batch and ID number (a blank batch is a value of its own); a batch must be one the supporter registered, and the arrival date must fall within its term.",
            "8. 身份证号码和手机号码属于个人信息：导入后加密存储，错误报告中只显示脱敏后的号码。身份证号码列须为文本格式。",
            "   ID numbers and phones are personal data: they are stored encrypted, and error reports show them masked. Keep the ID-number column formatted as text.",
        ]);
    }
    for (i, line) in lines.iter().enumerate() {
        help.write_string(i as u32 + 2, 0, *line)?;
    }
    let start = lines.len() as u32 + 3;
    for (c, h) in [
        "列名",
        "English header",
        "键 key",
        "必填 required",
        "内容",
        "Expected",
    ]
    .iter()
    .enumerate()
    {
        help.write_string_with_format(start, c as u16, *h, &bold)?;
    }
    for (i, col) in kind.columns().iter().enumerate() {
        let r = start + 1 + i as u32;
        let (zh, en) = col.ty.expected();
        help.write_string(r, 0, col.zh)?;
        help.write_string(r, 1, col.en)?;
        help.write_string(r, 2, col.key)?;
        help.write_string(r, 3, if col.required { "是 yes" } else { "否 no" })?;
        help.write_string_with_format(r, 4, zh, &wrap)?;
        help.write_string_with_format(r, 5, en, &wrap)?;
    }
    Ok(wb)
}
