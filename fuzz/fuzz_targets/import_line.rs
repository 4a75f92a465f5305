//! Feeds arbitrary bytes to the import parser: `import::Lines` (line
//! splitting, BOM, CRLF, UTF-8, the length cap, JSON into `Wire`) and
//! `Wire::to_request` (field syntax and limits). Nothing may panic, every
//! error must name the input and a line, and whatever parses must survive a
//! JSON round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stancelog::internals::Lines;
use stancelog::{Error, Wire};

fuzz_target!(|data: &[u8]| {
    let mut last_line = 0;
    for item in Lines::new(data, "fuzz") {
        match item {
            Ok((line, wire)) => {
                assert!(line > last_line, "line numbers increase");
                last_line = line;
                let text = serde_json::to_string(&wire).expect("a Wire serializes");
                let again: Wire = serde_json::from_str(&text).expect("and parses back");
                assert_eq!(again, wire);
                if let Ok(req) = wire.to_request() {
                    // A valid request has a payload that validates or is
                    // rejected cleanly; content ids are total.
                    let _ = req.command.validate();
                    let _ = stancelog::content_id(&req.command.clone().into_fact());
                }
            }
            Err(Error::Input {
                source_name, line, ..
            }) => {
                assert_eq!(source_name, "fuzz");
                assert!(line >= 1);
            }
            Err(other) => panic!("an input error that names no line: {other}"),
        }
    }
});
