//! A whole untrusted .deb: container, control area and data stream.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = detdeb::DebReader::from_source(data, "fuzz.deb") {
        let _ = r.control();
        if let Ok(mut tar) = r.data_tar() {
            while let Ok(Some(_)) = tar.next_entry() {
                let _ = std::io::copy(&mut tar.data_reader(), &mut std::io::sink());
            }
        }
    }
});
