//! Feeds arbitrary bytes to the stored-record decoder: it must never panic
//! nor allocate without bound, and whatever decodes must re-encode to the
//! same event.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = stancelog::internals::codec::decode(data) {
        let again = stancelog::internals::codec::decode(&stancelog::internals::codec::encode(&event));
        assert_eq!(again.ok().as_ref(), Some(&event));
    }
});
