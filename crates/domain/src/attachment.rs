//! Attachments (附件): approval documents, acceptance reports and photos on
//! projects and approval steps. The rules here are pure: which kinds exist,
//! how large a file may be, which file types are accepted, judged by the
//! bytes and never by the name, and how a file name is made safe to show.

use crate::{DomainError, vocabulary};

vocabulary! {
    /// What an attachment is (附件类型).
    AttachmentKind, "invalid_attachment_kind", "附件类型", "attachment kind" {
        ApprovalDocument = ("approval_document", "批复文件", "approval document"),
        AcceptanceReport = ("acceptance_report", "验收报告", "acceptance report"),
        Photo = ("photo", "照片", "photo"),
        Other = ("other", "其他", "other"),
    }
}

/// Largest attachment accepted, in bytes (20 MiB): scanned documents and
/// phone photos fit; anything larger belongs in an archive system.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

/// Longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// A file type we accept, as recognised from the file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// PDF document.
    Pdf,
    /// PNG image.
    Png,
    /// JPEG image.
    Jpeg,
    /// Word document (OOXML).
    Docx,
    /// Excel workbook (OOXML).
    Xlsx,
    /// PowerPoint presentation (OOXML).
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
}

/// What the accepted types are, for error messages.
const ALLOWED_ZH: &str = "PDF、PNG、JPEG、Word/Excel/PowerPoint 文档（docx、xlsx、pptx）、OpenDocument 文档（odt、ods、odp）";
const ALLOWED_EN: &str = "PDF, PNG, JPEG, Word/Excel/PowerPoint documents (docx, xlsx, pptx) and OpenDocument files (odt, ods, odp)";

impl FileType {
    /// Every accepted type.
    pub const ALL: &'static [FileType] = &[
        FileType::Pdf,
        FileType::Png,
        FileType::Jpeg,
        FileType::Docx,
        FileType::Xlsx,
        FileType::Pptx,
        FileType::Odt,
        FileType::Ods,
        FileType::Odp,
    ];

    /// The media type (MIME) sent with a download and stored with the row.
    pub fn media_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileType::Odt => "application/vnd.oasis.opendocument.text",
            FileType::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            FileType::Odp => "application/vnd.oasis.opendocument.presentation",
        }
    }

    /// Looks a type up by its media type (as stored).
    pub fn from_media_type(media_type: &str) -> Option<FileType> {
        FileType::ALL
            .iter()
            .copied()
            .find(|t| t.media_type() == media_type)
    }

    /// The usual file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Png => "png",
            FileType::Jpeg => "jpg",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Pptx => "pptx",
            FileType::Odt => "odt",
            FileType::Ods => "ods",
            FileType::Odp => "odp",
        }
    }

    /// Whether `ext` (lower case, no dot) is a usual extension of this type.
    fn has_extension(self, ext: &str) -> bool {
        match self {
            FileType::Jpeg => matches!(ext, "jpg" | "jpeg" | "jpe"),
            other => other.extension() == ext,
        }
    }

    /// Recognises the type from the bytes, refusing anything else with a
    /// message that says what was found and what is accepted.
    pub fn detect(bytes: &[u8]) -> Result<FileType, DomainError> {
        if bytes.starts_with(b"%PDF-") {
            return Ok(FileType::Pdf);
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Ok(FileType::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Ok(FileType::Jpeg);
        }
        let found = if bytes.starts_with(b"PK\x03\x04") {
            match zip_office_type(bytes) {
                Ok(t) => return Ok(t),
                Err(found) => found,
            }
        } else {
            describe(bytes)
        };
        Err(DomainError::new(
            "attachment_type_not_allowed",
            format!(
                "文件内容是{}，不是允许的类型（按文件内容而非文件名判断）；允许：{ALLOWED_ZH}",
                found.0
            ),
            format!(
                "the file's content is {}, which is not an accepted type (judged by the content, not the name); accepted: {ALLOWED_EN}",
                found.1
            ),
        ))
    }
}

/// Refuses an empty file or one above [`MAX_ATTACHMENT_BYTES`].
pub fn check_size(len: usize) -> Result<(), DomainError> {
    if len == 0 {
        return Err(DomainError::new(
            "attachment_empty",
            "文件为空",
            "the file is empty",
        ));
    }
    if len > MAX_ATTACHMENT_BYTES {
        let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
        return Err(DomainError::new(
            "attachment_too_large",
            format!(
                "文件大小 {:.1} MB，超过上限 {:.0} MB",
                mib(len),
                mib(MAX_ATTACHMENT_BYTES)
            ),
            format!(
                "the file is {:.1} MB, above the limit of {:.0} MB",
                mib(len),
                mib(MAX_ATTACHMENT_BYTES)
            ),
        ));
    }
    Ok(())
}

/// The file name as kept and shown: without any directory part, control or
/// bidirectional-override characters (which can disguise `exe.pdf` as
/// `fdp.exe`), leading dots and surrounding spaces, at most
/// [`MAX_FILE_NAME_CHARS`] characters, and ending in an extension of `ty`
/// (appended when the name's own does not fit the content).
pub fn display_file_name(name: &str, ty: FileType) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let cleaned = cleaned.trim_end_matches(['.', ' ']);
    let ext_ok = cleaned
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && ty.has_extension(&ext.to_lowercase()));
    let suffix = if ext_ok {
        String::new()
    } else {
        format!(".{}", ty.extension())
    };
    let stem = if cleaned.is_empty() {
        "attachment"
    } else {
        cleaned
    };
    let room = MAX_FILE_NAME_CHARS.saturating_sub(suffix.chars().count());
    let stem_len = stem.chars().count();
    let kept: String = if stem_len > room {
        if ext_ok {
            // Keep the extension: cut the stem before it.
            let (s, ext) = stem.rsplit_once('.').unwrap_or((stem, ""));
            let keep = room.saturating_sub(ext.chars().count() + 1);
            format!("{}.{ext}", s.chars().take(keep).collect::<String>())
        } else {
            stem.chars().take(room).collect()
        }
    } else {
        stem.to_owned()
    };
    format!("{kept}{suffix}")
}

/// Zero-width and bidirectional formatting characters.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}')
}

/// Whether the start of `bytes` is UTF-8 text without NUL bytes (a
/// character cut at the end of the sample still counts).
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or_default();
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    utf8 && !head.contains(&0)
}

/// What the bytes look like, in Chinese and English, for the refusal.
fn describe(bytes: &[u8]) -> (&'static str, &'static str) {
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if bytes.get(4..8) == Some(b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        if [&b"heic"[..], b"heix", b"mif1", b"msf1", b"heim", b"heis"].contains(&brand) {
            return (
                "HEIC 图片（请先转换为 JPEG）",
                "a HEIC image (convert it to JPEG first)",
            );
        }
        return ("MP4/QuickTime 视频", "an MP4/QuickTime video");
    }
    if starts(b"MZ") {
        ("Windows 可执行程序", "a Windows executable")
    } else if starts(b"\x7fELF") {
        ("ELF 可执行程序", "an ELF executable")
    } else if starts(&[0xCF, 0xFA, 0xED, 0xFE]) || starts(&[0xFE, 0xED, 0xFA, 0xCF]) {
        ("Mach-O 可执行程序", "a Mach-O executable")
    } else if starts(b"#!") {
        ("脚本", "a script")
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        (
            "旧版 Office 文档（doc/xls/ppt，请另存为 docx/xlsx/pptx 或 PDF）",
            "a legacy Office document (doc/xls/ppt; save it as docx/xlsx/pptx or PDF)",
        )
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        ("GIF 图片", "a GIF image")
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        ("WebP 图片", "a WebP image")
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        ("TIFF 图片", "a TIFF image")
    } else if starts(b"BM") && bytes.len() > 14 {
        ("BMP 图片", "a BMP image")
    } else if starts(b"Rar!\x1a\x07") {
        ("RAR 压缩包", "a RAR archive")
    } else if starts(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C]) {
        ("7z 压缩包", "a 7z archive")
    } else if starts(&[0x1F, 0x8B]) {
        ("gzip 压缩数据", "gzip-compressed data")
    } else if starts(b"{\\rtf") {
        ("RTF 文档", "an RTF document")
    } else if starts(b"%!PS") {
        ("PostScript 文档", "a PostScript document")
    } else if starts(b"PK\x05\x06") {
        ("空 ZIP 压缩包", "an empty ZIP archive")
    } else if looks_like_text(bytes) {
        let head = String::from_utf8_lossy(bytes.get(..bytes.len().min(512)).unwrap_or_default())
            .to_ascii_lowercase();
        if head.contains("<html") || head.contains("<!doctype html") || head.contains("<script") {
            ("HTML 网页", "an HTML page")
        } else if head.trim_start().starts_with("<svg") || head.contains("<svg") {
            ("SVG 图形", "an SVG image")
        } else {
            ("纯文本", "plain text")
        }
    } else {
        ("无法识别的数据", "unrecognised data")
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    usize::try_from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok()
}

/// The names in a ZIP archive's central directory (at most a few thousand),
/// or `None` when the archive is damaged.
fn zip_names(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    // The end-of-central-directory record is within the last 64 KiB + 22 bytes.
    let tail_from = bytes.len().saturating_sub(22 + 65_535);
    let eocd = (tail_from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| bytes.get(i..i + 4) == Some(b"PK\x05\x06"))?;
    let entries = u16_at(bytes, eocd + 10)?;
    let mut at = u32_at(bytes, eocd + 16)?;
    let mut names = Vec::with_capacity(entries.min(4096));
    for _ in 0..entries.min(4096) {
        if bytes.get(at..at + 4) != Some(b"PK\x01\x02") {
            return None;
        }
        let name_len = u16_at(bytes, at + 28)?;
        let extra_len = u16_at(bytes, at + 30)?;
        let comment_len = u16_at(bytes, at + 32)?;
        names.push(bytes.get(at + 46..at + 46 + name_len)?);
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

/// Recognises an OOXML (by `[Content_Types].xml` and its main part) or
/// OpenDocument (by its leading, stored `mimetype` entry) archive.
fn zip_office_type(bytes: &[u8]) -> Result<FileType, (&'static str, &'static str)> {
    // OpenDocument: the first entry is `mimetype`, stored uncompressed.
    let name_len = u16_at(bytes, 26).unwrap_or(0);
    let extra_len = u16_at(bytes, 28).unwrap_or(0);
    if bytes.get(30..30 + name_len) == Some(b"mimetype") && u16_at(bytes, 8) == Some(0) {
        let size = u32_at(bytes, 18).unwrap_or(0).min(100);
        let from = 30 + name_len + extra_len;
        let mime = bytes.get(from..from + size).unwrap_or_default();
        let found = match mime {
            b"application/vnd.oasis.opendocument.text" => Some(FileType::Odt),
            b"application/vnd.oasis.opendocument.spreadsheet" => Some(FileType::Ods),
            b"application/vnd.oasis.opendocument.presentation" => Some(FileType::Odp),
            _ => None,
        };
        if let Some(t) = found
            && zip_names(bytes).is_some()
        {
            return Ok(t);
        }
        return Err((
            "其他类型的 OpenDocument 文件或已损坏的文件",
            "another kind of OpenDocument file, or a damaged one",
        ));
    }
    let Some(names) = zip_names(bytes) else {
        return Err(("已损坏的 ZIP 压缩包", "a damaged ZIP archive"));
    };
    let has = |n: &[u8]| names.contains(&n);
    if has(b"[Content_Types].xml") {
        if has(b"word/document.xml") {
            return Ok(FileType::Docx);
        }
        if has(b"xl/workbook.xml") {
            return Ok(FileType::Xlsx);
        }
        if has(b"ppt/presentation.xml") {
            return Ok(FileType::Pptx);
        }
        return Err((
            "其他类型的 Office Open XML 文件",
            "another kind of Office Open XML file",
        ));
    }
    Err(("ZIP 压缩包", "a ZIP archive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ZIP archive with stored (uncompressed) entries.
    pub(crate) fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in entries {
            let offset = u32::try_from(out.len()).expect("offset");
            let n = u16::try_from(name.len()).expect("name");
            let size = u32::try_from(data.len()).expect("size");
            let mut local = Vec::new();
            local.extend_from_slice(b"PK\x03\x04");
            local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            local.extend_from_slice(&[0, 0, 0, 0]); // crc (not checked here)
            local.extend_from_slice(&size.to_le_bytes());
            local.extend_from_slice(&size.to_le_bytes());
            local.extend_from_slice(&n.to_le_bytes());
            local.extend_from_slice(&[0, 0]);
            local.extend_from_slice(name.as_bytes());
            local.extend_from_slice(data);
            out.extend_from_slice(&local);
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&[0, 0, 0, 0]);
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&n.to_le_bytes());
            central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = u32::try_from(out.len()).expect("cd");
        let cd_len = u32::try_from(central.len()).expect("cd len");
        let count = u16::try_from(entries.len()).expect("count");
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn recognises_accepted_types_by_content() {
        assert_eq!(FileType::detect(b"%PDF-1.7\n..."), Ok(FileType::Pdf));
        assert_eq!(
            FileType::detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(FileType::Png)
        );
        assert_eq!(
            FileType::detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Ok(FileType::Jpeg)
        );
        let docx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w:document/>"),
        ]);
        assert_eq!(FileType::detect(&docx), Ok(FileType::Docx));
        let xlsx = zip(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<workbook/>"),
        ]);
        assert_eq!(FileType::detect(&xlsx), Ok(FileType::Xlsx));
        let ods = zip(&[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", b"<office:document-content/>"),
        ]);
        assert_eq!(FileType::detect(&ods), Ok(FileType::Ods));
    }

    #[test]
    fn refuses_other_content_saying_what_it_is() {
        let exe = FileType::detect(b"MZ\x90\0\x03\0\0\0").expect_err("exe");
        assert_eq!(exe.code, "attachment_type_not_allowed");
        assert!(exe.en.contains("a Windows executable"), "{}", exe.en);
        assert!(exe.en.contains("accepted: PDF, PNG, JPEG"), "{}", exe.en);
        assert!(exe.zh.contains("Windows 可执行程序"), "{}", exe.zh);
        let zip = zip(&[("readme.txt", b"hello")]);
        assert!(
            FileType::detect(&zip)
                .expect_err("zip")
                .en
                .contains("a ZIP archive")
        );
        let ooxml = zip_with_types_only();
        assert!(
            FileType::detect(&ooxml)
                .expect_err("other ooxml")
                .en
                .contains("another kind of Office Open XML file")
        );
        assert!(
            FileType::detect(b"hello, world")
                .expect_err("text")
                .en
                .contains("plain text")
        );
        assert!(
            FileType::detect(&[0x00, 0x9f, 0x92, 0x96, 0xff, 0x00])
                .expect_err("random")
                .en
                .contains("unrecognised data")
        );
        // A truncated archive: the local header but no central directory.
        assert!(
            FileType::detect(b"PK\x03\x04\x14\0\0\0")
                .expect_err("damaged")
                .en
                .contains("a damaged ZIP archive")
        );
    }

    fn zip_with_types_only() -> Vec<u8> {
        zip(&[("[Content_Types].xml", b"<Types/>")])
    }

    #[test]
    fn sizes() {
        assert_eq!(check_size(0).expect_err("empty").code, "attachment_empty");
        assert!(check_size(1).is_ok());
        assert!(check_size(MAX_ATTACHMENT_BYTES).is_ok());
        let e = check_size(MAX_ATTACHMENT_BYTES + 1).expect_err("large");
        assert_eq!(e.code, "attachment_too_large");
        assert_eq!(e.en, "the file is 20.0 MB, above the limit of 20 MB");
        assert_eq!(e.zh, "文件大小 20.0 MB，超过上限 20 MB");
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(
            display_file_name("验收报告.pdf", FileType::Pdf),
            "验收报告.pdf"
        );
        assert_eq!(
            display_file_name("C:\\Users\\li\\现场照片.JPEG", FileType::Jpeg),
            "现场照片.JPEG"
        );
        assert_eq!(
            display_file_name("../../etc/passwd", FileType::Pdf),
            "passwd.pdf"
        );
        // A PNG named .pdf keeps its name and gains the right extension.
        assert_eq!(display_file_name("scan.pdf", FileType::Png), "scan.pdf.png");
        // Right-to-left override hiding an extension, and control characters.
        assert_eq!(
            display_file_name("report\u{202E}fdp.exe\r\n", FileType::Pdf),
            "reportfdp.exe.pdf"
        );
        assert_eq!(display_file_name("  ..  ", FileType::Pdf), "attachment.pdf");
        assert_eq!(display_file_name(".hidden", FileType::Pdf), "hidden.pdf");
        let long = format!("{}.pdf", "长".repeat(300));
        let kept = display_file_name(&long, FileType::Pdf);
        assert_eq!(kept.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(kept.ends_with("长.pdf"));
    }

    #[test]
    fn kinds_parse_by_key_and_label() {
        assert_eq!(
            AttachmentKind::parse("验收报告"),
            Ok(AttachmentKind::AcceptanceReport)
        );
        assert_eq!(AttachmentKind::parse("photo"), Ok(AttachmentKind::Photo));
        assert_eq!(
            AttachmentKind::parse("scan").expect_err("bad").code,
            "invalid_attachment_kind"
        );
        for t in FileType::ALL {
            assert_eq!(FileType::from_media_type(t.media_type()), Some(*t));
        }
    }
}
