//! JSON output of the doctor report: the DoctorReport as is (`schema_version` first).

use std::io::{self, Write};

use crate::analyze::report::DoctorReport;

pub fn write(report: &DoctorReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    writeln!(out)
}
