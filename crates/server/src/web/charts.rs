//! Charts drawn on the server as inline SVG: horizontal bars, grouped
//! columns, a timeline and the schematic tile map of Xinjiang. Every text is
//! escaped here (the templates insert the result unescaped); every mark has
//! a `<title>` tooltip; colours keep at least 3:1 contrast on white and print.

use std::fmt::Write;

use crate::auth::escape_html as esc;

/// Series colours: dark blue, dark amber, green (distinct for colour-blind readers too).
pub const SERIES: [&str; 3] = ["#1b4f72", "#b9770e", "#1e8449"];

/// One bar: its label, its value (for length), the value as printed and its tooltip.
pub struct Bar {
    /// Label on the left.
    pub label: String,
    /// Value that sets the length (fen, or a count).
    pub value: i64,
    /// Value as printed at the end of the bar.
    pub text: String,
    /// Tooltip.
    pub tooltip: String,
}

/// Shortens a label to `max` characters with an ellipsis.
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

fn open(out: &mut String, id: &str, title: &str, width: u32, height: u32) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}" xmlns="http://www.w3.org/2000/svg"><title id="{id}">{}</title>"#,
        esc(title)
    );
}

/// Horizontal bars, one per row, scaled to the largest.
pub fn bars(id: &str, title: &str, rows: &[Bar]) -> String {
    const W: u32 = 640;
    const LABEL: u32 = 170;
    const ROW: u32 = 30;
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0).max(1);
    let height = ROW * u32::try_from(rows.len()).unwrap_or(0) + 10;
    let mut out = String::new();
    open(&mut out, id, title, W, height.max(40));
    let span = f64::from(W - LABEL - 150);
    for (i, r) in rows.iter().enumerate() {
        let y = 5 + ROW * u32::try_from(i).unwrap_or(0);
        let len =
            (r.value.max(0) as f64 / max as f64 * span).max(if r.value > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            out,
            r##"<g><title>{tip}</title><text x="{lx}" y="{ty}" text-anchor="end" font-size="14" fill="#1d2733">{label}</text><rect x="{bx}" y="{y}" width="{len:.1}" height="20" rx="2" fill="{fill}"/><text x="{vx:.1}" y="{ty}" font-size="13" fill="#1d2733">{text}</text></g>"##,
            tip = esc(&r.tooltip),
            lx = LABEL - 8,
            ty = y + 15,
            label = esc(&short(&r.label, 11)),
            bx = LABEL,
            fill = SERIES[0],
            vx = f64::from(LABEL) + len + 6.0,
            text = esc(&r.text),
        );
    }
    out.push_str("</svg>");
    out
}

/// One group of columns (e.g. a year) with a value per series.
pub struct Group {
    /// Label under the group.
    pub label: String,
    /// (value, printed value) per series.
    pub values: Vec<(i64, String)>,
}

/// Grouped vertical columns with a legend; `series` names each colour.
pub fn columns(id: &str, title: &str, series: &[&str], groups: &[Group]) -> String {
    const W: u32 = 960;
    const H: u32 = 320;
    const TOP: u32 = 40;
    const BOTTOM: u32 = 30;
    const LEFT: u32 = 10;
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().map(|(v, _)| *v))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = String::new();
    open(&mut out, id, title, W, H);
    // Legend.
    let mut x = LEFT;
    for (i, name) in series.iter().enumerate() {
        let _ = write!(
            out,
            r##"<rect x="{x}" y="8" width="14" height="14" fill="{}"/><text x="{}" y="20" font-size="13" fill="#1d2733">{}</text>"##,
            SERIES[i % SERIES.len()],
            x + 18,
            esc(name)
        );
        x += 30 + 14 * u32::try_from(name.chars().count()).unwrap_or(4);
    }
    let n = u32::try_from(groups.len()).unwrap_or(1).max(1);
    let slot = f64::from(W - 2 * LEFT) / f64::from(n);
    let per = u32::try_from(series.len()).unwrap_or(1).max(1);
    let bar = (slot * 0.8 / f64::from(per)).min(40.0);
    let plot = f64::from(H - TOP - BOTTOM);
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#5b6773"/>"##,
        W - LEFT,
        y = H - BOTTOM
    );
    for (gi, g) in groups.iter().enumerate() {
        let gx = f64::from(LEFT) + slot * gi as f64 + (slot - bar * f64::from(per)) / 2.0;
        for (si, (v, text)) in g.values.iter().enumerate() {
            let h = (*v).max(0) as f64 / max as f64 * plot;
            let x = gx + bar * si as f64;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{} · {}：{}</title></rect>"#,
                f64::from(H - BOTTOM) - h,
                (bar - 2.0).max(1.0),
                SERIES[si % SERIES.len()],
                esc(&g.label),
                esc(series.get(si).copied().unwrap_or("")),
                esc(text)
            );
        }
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" font-size="13" fill="#1d2733">{}</text>"##,
            f64::from(LEFT) + slot * (gi as f64 + 0.5),
            H - 10,
            esc(&short(&g.label, 8))
        );
    }
    out.push_str("</svg>");
    out
}

/// A row of the timeline: label, start and end as day numbers, tooltip.
pub struct Span {
    /// Label on the left.
    pub label: String,
    /// First day (days since an epoch shared by all rows).
    pub start: i64,
    /// Last day.
    pub end: i64,
    /// Tooltip.
    pub tooltip: String,
}

/// A timeline (Gantt) of spans between `from` and `to`, with year ticks
/// given as (day, label) and a "today" marker.
pub fn timeline(
    id: &str,
    title: &str,
    spans: &[Span],
    from: i64,
    to: i64,
    ticks: &[(i64, String)],
    today: Option<(i64, &str)>,
) -> String {
    const W: u32 = 640;
    const LABEL: u32 = 150;
    const ROW: u32 = 22;
    let height = 30 + ROW * u32::try_from(spans.len()).unwrap_or(0);
    let range = (to - from).max(1) as f64;
    let span_w = f64::from(W - LABEL - 10);
    let x_of = |day: i64| f64::from(LABEL) + (day.clamp(from, to) - from) as f64 / range * span_w;
    let mut out = String::new();
    open(&mut out, id, title, W, height);
    for (day, label) in ticks {
        let x = x_of(*day);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="18" x2="{x:.1}" y2="{height}" stroke="#d5dbe1"/><text x="{x:.1}" y="13" text-anchor="middle" font-size="12" fill="#3d4852">{}</text>"##,
            esc(label)
        );
    }
    for (i, s) in spans.iter().enumerate() {
        let y = 24 + ROW * u32::try_from(i).unwrap_or(0);
        let (x1, x2) = (x_of(s.start), x_of(s.end));
        let _ = write!(
            out,
            r##"<g><title>{}</title><text x="{}" y="{}" text-anchor="end" font-size="13" fill="#1d2733">{}</text><rect x="{x1:.1}" y="{y}" width="{:.1}" height="14" rx="2" fill="{}"/></g>"##,
            esc(&s.tooltip),
            LABEL - 6,
            y + 12,
            esc(&short(&s.label, 10)),
            (x2 - x1).max(2.0),
            SERIES[0]
        );
    }
    if let Some((day, label)) = today {
        let x = x_of(day);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="18" x2="{x:.1}" y2="{height}" stroke="#b3261e" stroke-width="2"><title>{}</title></line>"##,
            esc(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// One tile of the map.
pub struct Tile {
    /// Column (west to east) and row (north to south).
    pub col: u32,
    /// Row.
    pub row: u32,
    /// Short name on the tile.
    pub label: String,
    /// Amount on the tile.
    pub text: String,
    /// Which colour bin (0 = no funds … 4 = most).
    pub bin: usize,
    /// Tooltip: full name and amount.
    pub tooltip: String,
    /// Where the tile links to.
    pub href: String,
}

/// Sequential blues for the bins; text turns white on the dark ones.
pub const BINS: [&str; 5] = ["#eef2f6", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];

/// Bin edges as shares of the largest value: a square-root scale, so that
/// one dominant prefecture does not wash out the others.
pub const BIN_EDGES: [f64; 3] = [0.01, 0.09, 0.36];

/// The bin of `value` against the largest value (0 only for nothing).
pub fn bin(value: i64, max: i64) -> usize {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let q = (value as f64 / max as f64).sqrt();
    match q {
        q if q > 0.6 => 4,
        q if q > 0.3 => 3,
        q if q > 0.1 => 2,
        _ => 1,
    }
}

/// A grid of labelled squares in rough geographic arrangement, no borders.
pub fn tile_map(id: &str, title: &str, tiles: &[Tile]) -> String {
    const S: u32 = 96;
    const GAP: u32 = 6;
    let cols = tiles.iter().map(|t| t.col).max().unwrap_or(0) + 1;
    let rows = tiles.iter().map(|t| t.row).max().unwrap_or(0) + 1;
    let (w, h) = (cols * (S + GAP), rows * (S + GAP));
    let mut out = String::new();
    open(&mut out, id, title, w, h);
    for t in tiles {
        let (x, y) = (t.col * (S + GAP), t.row * (S + GAP));
        let ink = if t.bin >= 3 { "#ffffff" } else { "#1d2733" };
        let _ = write!(
            out,
            r##"<a href="{href}"><g><title>{tip}</title><rect x="{x}" y="{y}" width="{S}" height="{S}" rx="6" fill="{fill}" stroke="#5b6773" stroke-width="0.5"/><text x="{cx}" y="{ly}" text-anchor="middle" font-size="16" font-weight="600" fill="{ink}">{label}</text><text x="{cx}" y="{vy}" text-anchor="middle" font-size="12" fill="{ink}">{text}</text></g></a>"##,
            href = esc(&t.href),
            tip = esc(&t.tooltip),
            fill = BINS[t.bin.min(4)],
            cx = x + S / 2,
            ly = y + S / 2 - 4,
            vy = y + S / 2 + 18,
            label = esc(&t.label),
            text = esc(&t.text),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_their_text() {
        let svg = bars(
            "c",
            "<t>",
            &[Bar {
                label: "<script>".into(),
                value: 5,
                text: "5".into(),
                tooltip: "a&b".into(),
            }],
        );
        assert!(svg.contains("&lt;script&gt;") && svg.contains("a&amp;b"));
        assert!(!svg.contains("<script>"));
        assert_eq!(bin(0, 10), 0);
        assert_eq!(bin(10, 10), 4);
        assert_eq!(bin(1, 100), 1);
    }
}
