//! The bounded tar reader on an untrusted uncompressed stream.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = detdeb::ReadLimits {
        max_total: 1 << 20,
        ..detdeb::ReadLimits::default()
    };
    let mut tar = detdeb::TarReader::new(data, "fuzz", limits);
    while let Ok(Some(e)) = tar.next_entry() {
        let _ = detdeb::tree::normalize_path(&e.name);
        let _ = std::io::copy(&mut tar.data_reader(), &mut std::io::sink());
    }
});
