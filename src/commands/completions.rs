//! `dbdoctor completions SHELL` and `dbdoctor man`: generated from the command-line definition,
//! so they never drift from it.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;

pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<i32, Error> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "dbdoctor", &mut buf);
    out.write_all(&buf).context("write the completion script")?;
    Ok(crate::exit::OK)
}

pub fn man(out: &mut dyn Write) -> Result<i32, Error> {
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .context("render the manual page")?;
    // The subcommands get their own sections: one page documents the whole tool.
    for sub in Cli::command().get_subcommands() {
        let name = sub.get_name().to_string();
        if name == "help" {
            continue;
        }
        writeln!(buf, ".SH \"DBDOCTOR {}\"", name.to_uppercase()).context("render")?;
        let page = clap_mangen::Man::new(sub.clone());
        page.render_description_section(&mut buf)
            .context("render the manual page")?;
        page.render_options_section(&mut buf)
            .context("render the manual page")?;
        if let Some(after) = sub.get_after_help() {
            writeln!(buf, ".PP\n{}", roff_text(&after.to_string())).context("render")?;
        }
    }
    out.write_all(&buf).context("write the manual page")?;
    Ok(crate::exit::OK)
}

/// Plain text as roff: a leading dot or quote would be read as a request, backslashes escape.
fn roff_text(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = l.replace('\\', "\\\\");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}\n.br")
            } else {
                format!("{l}\n.br")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
