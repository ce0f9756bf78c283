//! A reader that runs its source on a second thread.
//!
//! Unpacking a kernel tarball is two serial costs: liblzma decoding (about 8 s of CPU
//! for Debian's 1.5 GB linux-source-6.12) and creating ~92,000 files (mostly kernel
//! time). `tar -xJf` overlaps them because `xz -d` is a separate process; this does
//! the same inside one process. The decoder thread fills bounded chunks (at most
//! [`DEPTH`] × [`CHUNK`] bytes in flight), so memory stays small whatever the
//! archive claims, and an error on either side stops both: a read error is handed
//! to the consumer in order, and a consumer that stops reading (it found an unsafe
//! entry) makes the producer's next send fail, which ends the thread.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes per chunk handed over.
pub(crate) const CHUNK: usize = 1 << 20;
/// Chunks in flight between the threads.
pub(crate) const DEPTH: usize = 8;

pub(crate) struct ReadAhead {
    rx: Option<Receiver<io::Result<Vec<u8>>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Starts reading `source` on a new thread.
    pub(crate) fn new<R: Read + Send + 'static>(source: R) -> io::Result<Self> {
        let (tx, rx) = sync_channel(DEPTH);
        let thread = std::thread::Builder::new()
            .name("srcpin-decode".into())
            .spawn(move || produce(source, tx))?;
        Ok(ReadAhead {
            rx: Some(rx),
            current: Vec::new(),
            pos: 0,
            done: false,
            thread: Some(thread),
        })
    }
}

fn produce<R: Read>(mut source: R, tx: SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        // Fill whole chunks: decoders return short reads, and small hand-overs would
        // cost a channel round trip each.
        let result = loop {
            match source.read(&mut buf[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == buf.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        let end = filled < CHUNK;
        buf.truncate(filled);
        if filled > 0 && tx.send(Ok(buf)).is_err() {
            return; // the consumer went away
        }
        match result {
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
            Ok(()) if end => return, // end of stream: dropping `tx` says so
            Ok(()) => {}
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let next = self.rx.as_ref().and_then(|rx| rx.recv().ok());
            match next {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Closing the channel first makes a producer blocked in `send` return.
        drop(self.rx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Returns its data in reads of at most `step` bytes, then an error if asked.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        fail_at_end: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.data.len() {
                return if self.fail_at_end {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt xz"))
                } else {
                    Ok(0)
                };
            }
            let n = out.len().min(self.step).min(self.data.len() - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn trickle(data: Vec<u8>, step: usize, fail_at_end: bool) -> Trickle {
        Trickle {
            data,
            pos: 0,
            step,
            fail_at_end,
        }
    }

    #[test]
    fn exact_chunk_multiples_and_empty_streams_end_cleanly() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut got = Vec::new();
            ReadAhead::new(trickle(data.clone(), 70_000, false))
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(got, data, "length {len}");
        }
    }

    #[test]
    fn a_source_error_arrives_after_the_data_before_it() {
        let data = vec![7u8; CHUNK + 5];
        let mut r = ReadAhead::new(trickle(data.clone(), 4096, true)).unwrap();
        let mut got = vec![0u8; data.len()];
        r.read_exact(&mut got).unwrap();
        assert_eq!(got, data);
        let err = r.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.to_string(), "corrupt xz");
        // and the stream stays finished
        assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0);
    }

    #[test]
    fn dropping_the_reader_early_stops_a_producer_with_much_more_to_send() {
        // 64 chunks behind a queue of DEPTH: the producer blocks in `send` until
        // the drop; the join in Drop would hang if it did not notice.
        let r = ReadAhead::new(io::repeat(1).take((64 * CHUNK) as u64)).unwrap();
        drop(r);
    }

    proptest! {
        #[test]
        fn reads_back_exactly_what_the_source_gave(
            data in proptest::collection::vec(any::<u8>(), 0..200_000),
            step in 1usize..100_000,
            read_size in 1usize..50_000,
        ) {
            let mut r = ReadAhead::new(trickle(data.clone(), step, false)).unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; read_size];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 { break; }
                got.extend_from_slice(&buf[..n]);
            }
            prop_assert_eq!(got, data);
        }
    }
}
