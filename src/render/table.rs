//! Tables of every writer: a column is defined once (header, alignment and cell together, so they
//! cannot drift), a table's cells are built once, and each format only lays them out.

use std::io::{self, Write};

/// One column of a listing: its header, how to render a cell, and whether it is a number.
pub struct Column<T> {
    pub header: &'static str,
    pub cell: fn(&T) -> String,
    /// Numbers align right.
    pub numeric: bool,
}

/// A column of text, aligned left.
pub const fn text<T>(header: &'static str, cell: fn(&T) -> String) -> Column<T> {
    Column {
        header,
        cell,
        numeric: false,
    }
}

/// A column of numbers, aligned right.
pub const fn number<T>(header: &'static str, cell: fn(&T) -> String) -> Column<T> {
    Column {
        header,
        cell,
        numeric: true,
    }
}

/// A table's headers and cells, built from its columns and rows; what every layout reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn build<T>(cols: &[Column<T>], rows: &[T]) -> Table {
        Table {
            headers: cols.iter().map(|c| c.header).collect(),
            numeric: cols.iter().map(|c| c.numeric).collect(),
            rows: rows
                .iter()
                .map(|r| cols.iter().map(|c| (c.cell)(r)).collect())
                .collect(),
        }
    }
}

/// How a markdown table's alignment row is spaced. Both are kept because both outputs are
/// published: doctor's report uses `Tight`, budget's pull-request comment `Spaced`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `|---|---:|`
    Tight,
    /// `| --- | ---: |`
    Spaced,
}

/// A markdown cell: pipes escaped, line breaks folded into spaces.
pub fn markdown_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The table as GitHub-flavoured markdown: header, alignment row, one line per row.
pub fn markdown(out: &mut dyn Write, t: &Table, rule: Rule) -> io::Result<()> {
    writeln!(out, "| {} |", t.headers.join(" | "))?;
    let marks: Vec<&str> = t
        .numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    match rule {
        Rule::Tight => writeln!(out, "|{}|", marks.join("|"))?,
        Rule::Spaced => writeln!(out, "| {} |", marks.join(" | "))?,
    }
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| markdown_cell(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

/// The table drawn with box characters, fitted to the terminal by comfy-table.
pub fn boxed(t: &Table) -> comfy_table::Table {
    use comfy_table::{presets, Cell, CellAlignment, ContentArrangement};
    let mut b = comfy_table::Table::new();
    b.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(t.headers.iter().map(Cell::new));
    for row in &t.rows {
        b.add_row(row.iter().zip(&t.numeric).map(|(c, numeric)| {
            let cell = Cell::new(c);
            if *numeric {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, i64);

    const COLS: &[Column<Row>] = &[
        text("name", |r| r.0.to_string()),
        number("n", |r| r.1.to_string()),
    ];

    fn md(rule: Rule) -> String {
        let t = Table::build(COLS, &[Row("a|b\nc", 7)]);
        let mut out = Vec::new();
        markdown(&mut out, &t, rule).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cells_are_built_once_from_the_column_definitions() {
        let t = Table::build(COLS, &[Row("x", 1), Row("y", 22)]);
        assert_eq!(t.headers, ["name", "n"]);
        assert_eq!(t.numeric, [false, true]);
        assert_eq!(t.rows, [["x", "1"], ["y", "22"]]);
    }

    #[test]
    fn markdown_escapes_cells_and_aligns_numbers_right() {
        assert_eq!(
            md(Rule::Tight),
            "| name | n |\n|---|---:|\n| a\\|b c | 7 |\n"
        );
        assert_eq!(
            md(Rule::Spaced),
            "| name | n |\n| --- | ---: |\n| a\\|b c | 7 |\n"
        );
    }

    #[test]
    fn boxed_tables_hold_every_cell() {
        let t = Table::build(COLS, &[Row("widget", 12345)]);
        let s = boxed(&t).to_string();
        assert!(
            s.contains("widget") && s.contains("12345") && s.contains("name"),
            "{s}"
        );
    }
}
