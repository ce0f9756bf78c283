//! Any byte stream given to the safe unpacker either fails or yields a tree confined to the
//! destination's single top directory; nothing appears beside it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use srcpin::UnpackLimits;

fuzz_target!(|data: &[u8]| {
    let root = tempfile::tempdir().expect("temp dir");
    let dest = root.path().join("dest");
    std::fs::create_dir(&dest).expect("dest");
    let limits = UnpackLimits { max_entries: 1000, max_file_size: 1 << 20, max_total_bytes: 4 << 20, ..UnpackLimits::default() };
    let _ = srcpin::unpack::unpack_tar(data, &dest, "top", &limits, "fuzz.tar");
    for e in std::fs::read_dir(root.path()).expect("read root") {
        assert_eq!(e.expect("entry").file_name(), "dest", "an entry appeared beside the destination");
    }
    for e in std::fs::read_dir(&dest).expect("read dest") {
        assert_eq!(e.expect("entry").file_name(), "top", "an entry appeared beside the top directory");
    }
});
