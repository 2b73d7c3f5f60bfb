//! The snapshot file (`dbdoctor snapshot`): the Snapshot as pretty JSON, one line end after it.

use std::io::{self, Write};

use crate::snapshot::Snapshot;

pub fn write(snap: &Snapshot, out: &mut dyn Write) -> io::Result<()> {
    // Through a buffer: standard output flushes at every line end, and a large report has
    // hundreds of thousands of lines.
    let mut buf = io::BufWriter::with_capacity(1 << 16, &mut *out);
    serde_json::to_writer_pretty(&mut buf, snap).map_err(io::Error::other)?;
    writeln!(buf)?;
    buf.flush()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_reads_back_as_the_same_snapshot() {
        let snap = crate::analyze::testdata::sample_snapshot();
        let mut out = Vec::new();
        super::write(&snap, &mut out).unwrap();
        assert!(out.ends_with(b"}\n"));
        let back: crate::snapshot::Snapshot = serde_json::from_slice(&out).unwrap();
        let again = serde_json::to_string_pretty(&back).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), again + "\n");
    }
}
