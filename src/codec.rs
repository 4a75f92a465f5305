//! The only user of bincode: how an [`Event`] becomes stored bytes and back.
//! Every record starts with a format-version byte so the encoding can evolve;
//! old versions are upcast here, and nowhere else needs to know.

use crate::error::{Error, Result};
use crate::event::Event;

/// The current record format: bincode 2 (standard config) of [`Event`] via serde.
pub const FORMAT_V1: u8 = 1;

/// Largest record decoded: a bound so that a corrupt length prefix cannot ask
/// for gigabytes (the model's limits keep real records far below it).
const MAX_RECORD: usize = 1 << 20;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD>()
}

/// Encodes an event as a stored record.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut out = Vec::with_capacity(320);
    out.push(FORMAT_V1);
    bincode::serde::encode_into_std_write(event, &mut out, config())
        .expect("encoding into a Vec cannot fail");
    out
}

/// Decodes a stored record; never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<Event> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => {
            let (event, used): (Event, usize) = bincode::serde::decode_from_slice(body, config())
                .map_err(|e| Error::Decode(e.to_string()))?;
            if used != body.len() {
                return Err(Error::Decode(format!(
                    "{} trailing bytes after the event",
                    body.len() - used
                )));
            }
            Ok(event)
        }
        Some((v, _)) => Err(Error::Decode(format!("unknown record format version {v}"))),
        None => Err(Error::Decode("empty record".into())),
    }
}
