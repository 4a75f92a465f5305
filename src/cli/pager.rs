//! Long output on a terminal goes through a pager: `$PAGER` (run by the
//! shell, as git and man do), else `less -FRX`, which leaves a short answer
//! on the screen as if no pager had run (-F), keeps colour (-R) and does not
//! clear the screen (-X). Never used when stdout is not a terminal or with
//! `--no-pager`; a pager that cannot be started is skipped.

use std::process::{Child, ChildStdin, Command, Stdio};

pub struct Pager {
    child: Child,
}

impl Pager {
    /// Starts the pager, or `None` when `PAGER` is set to nothing or the
    /// program cannot be run.
    pub fn start() -> Option<Pager> {
        let mut cmd = match std::env::var("PAGER") {
            Ok(p) if p.trim().is_empty() => return None,
            Ok(p) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(p);
                c
            }
            Err(_) => {
                let mut c = Command::new("less");
                c.arg("-FRX");
                c
            }
        };
        // As git does: a `less` named by PAGER gets the same options, so
        // colour shows as colour, unless the user set LESS.
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRX");
        }
        let child = cmd.stdin(Stdio::piped()).spawn().ok()?;
        Some(Pager { child })
    }

    /// Where the output goes.
    pub fn input(&self) -> PagerInput<'_> {
        PagerInput(self.child.stdin.as_ref())
    }

    /// Closes the pager's input and waits for the reader to quit.
    pub fn wait(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A writer into the pager's standard input.
pub struct PagerInput<'a>(Option<&'a ChildStdin>);

impl std::io::Write for PagerInput<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(stdin) => stdin.write(buf),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.0 {
            Some(stdin) => stdin.flush(),
            None => Ok(()),
        }
    }
}
