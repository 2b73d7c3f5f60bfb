//! JSON output of the doctor report: the DoctorReport as is (`schema_version` first).

use std::io::{self, Write};

use crate::analyze::report::DoctorReport;

pub fn write(report: &DoctorReport, out: &mut dyn Write) -> io::Result<()> {
    // Through a buffer: standard output flushes at every line end, and a large report has
    // hundreds of thousands of lines.
    let mut buf = io::BufWriter::with_capacity(1 << 16, &mut *out);
    serde_json::to_writer_pretty(&mut buf, report).map_err(io::Error::other)?;
    writeln!(buf)?;
    buf.flush()
}
