#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    openslides_autoupdate::fuzzing::redis(data);
});
