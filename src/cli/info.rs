//! `info`: what a ledger is, at a glance.

use std::io::Write;

use anyhow::Result;

use stancelog::hex_hash;

use super::{json, open, text, Global};

pub fn info(g: &Global, out: &mut impl Write) -> Result<()> {
    let ledger = open::open_read(g)?;
    let i = ledger.info()?;
    if g.json {
        return json::line(out, &json::InfoJson::from(&i));
    }
    let head = format!("{}:{}", i.head.seq, hex_hash(&i.head.hash));
    writeln!(out, "ledger      {}", text::path(&i.path))?;
    writeln!(out, "read model  {}", text::path(&i.read_model))?;
    writeln!(
        out,
        "formats     log {}, record {}, read model schema {}",
        i.log_format,
        i.record_format,
        text::clean(&i.read_model_schema)
    )?;
    writeln!(out, "events      {} (head {head})", i.events)?;
    writeln!(
        out,
        "statements  {} by {} on {}",
        i.statements,
        text::plural(i.actors as usize, "actor", "actors"),
        text::plural(i.issues as usize, "issue", "issues")
    )?;
    if let (Some(a), Some(b)) = (i.first_stated_on, i.last_stated_on) {
        writeln!(out, "stated on   {a} to {b}")?;
    }
    writeln!(
        out,
        "size        {} ({} bytes)",
        human_bytes(i.bytes),
        i.bytes
    )?;
    Ok(())
}

/// A size in binary units with one decimal, as `du -h` would round it.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_du() {
        assert_eq!(super::human_bytes(0), "0 B");
        assert_eq!(super::human_bytes(1023), "1023 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
