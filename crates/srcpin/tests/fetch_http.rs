//! Fetching against a real HTTP server on 127.0.0.1 (started by the test).

mod common;

use common::*;
use srcpin::{
    Cache, Error, FetchEvent, FetchOptions, Fetcher, FileDigest, NoProgress, Sha256Digest,
};

fn pin(body: &[u8]) -> FileDigest {
    FileDigest {
        size: body.len() as u64,
        sha256: Sha256Digest::of(body),
    }
}

fn fetcher(dir: &std::path::Path) -> Fetcher {
    let opts = FetchOptions {
        max_resumes: 2,
        ..FetchOptions::default()
    };
    Fetcher::new(Cache::new(dir.join("cache")), opts)
}

/// No blob and no leftover temporary file may exist after a failed fetch.
fn assert_cache_clean(dir: &std::path::Path, want: &FileDigest) {
    let cache = Cache::new(dir.join("cache"));
    assert!(
        !cache.blob_path(&want.sha256).exists(),
        "a failed download must not be cached"
    );
    let tmp = tree(&dir.join("cache/tmp"));
    assert!(tmp.is_empty(), "temporary files left behind: {tmp:?}");
}

#[test]
fn good_file_is_cached_and_reverified() {
    let body = data(300_000);
    let b2 = body.clone();
    let srv = serve(move |_| ok(&b2));
    let dir = tempfile::tempdir().unwrap();
    let f = fetcher(dir.path());
    let want = pin(&body);
    let mut events = Vec::new();
    let mut progress = |e: &FetchEvent<'_>| events.push(format!("{e:?}"));
    let p = f
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut progress)
        .unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), body);
    assert_eq!(p, f.cache().blob_path(&want.sha256));
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("Progress") && e.contains("so_far: 300000")),
        "{events:?}"
    );
    // Second fetch: served from the cache, no new connection.
    let hits = srv.hits();
    f.fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap();
    assert_eq!(srv.hits(), hits);
    assert!(tree(&dir.path().join("cache/tmp")).is_empty());
}

#[test]
fn wrong_sha_is_refused() {
    let body = data(10_000);
    let mut other = body.clone();
    other[5000] ^= 1;
    let srv = serve(move |_| ok(&other));
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    let Error::AllMirrorsFailed { failures, .. } = &err else {
        panic!("{err}")
    };
    assert!(matches!(failures[0], Error::DigestMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("sha256 mismatch") && err.to_string().contains(&srv.url("/a")),
        "{err}"
    );
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn truncated_body_is_refused_after_resume_attempts() {
    let body = data(100_000);
    let b2 = body.clone();
    // Announces the full length, sends half, closes; ignores Range.
    let srv = serve(move |_| {
        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b2.len()).into_bytes();
        r.extend_from_slice(&b2[..50_000]);
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let mut resumes = 0;
    let mut progress = |e: &FetchEvent<'_>| {
        if matches!(e, FetchEvent::Resuming { .. }) {
            resumes += 1
        }
    };
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut progress)
        .unwrap_err();
    assert!(err.to_string().contains("broke off"), "{err}");
    assert_eq!(resumes, 2, "max_resumes = 2");
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn broken_transfer_resumes_with_range() {
    let body = data(200_000);
    let b2 = body.clone();
    let srv = serve(move |req| match req.range_start {
        None => {
            let mut r =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b2.len()).into_bytes();
            r.extend_from_slice(&b2[..70_000]);
            r
        }
        Some(start) => {
            let s = start as usize;
            let mut r = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {s}-{}/{}\r\nContent-Length: {}\r\n\r\n",
                b2.len() - 1,
                b2.len(),
                b2.len() - s
            )
            .into_bytes();
            r.extend_from_slice(&b2[s..]);
            r
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let p = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap();
    assert_eq!(std::fs::read(p).unwrap(), body);
    assert_eq!(srv.hits(), 2);
}

#[test]
fn content_length_shorter_than_body_is_not_trusted() {
    // The server claims fewer bytes than the pin; whatever it sends, the size check refuses.
    let body = data(50_000);
    let b2 = body.clone();
    let srv = serve(move |_| {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec();
        r.extend_from_slice(&b2);
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("size mismatch: pinned 50000 bytes, got 1000"),
        "{err}"
    );
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn endless_body_without_length_stops_at_the_pinned_size() {
    let body = data(20_000);
    let srv = serve(move |_| {
        // No Content-Length: the body runs until close, 100x longer than the pin.
        let mut r = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        r.extend_from_slice(&data(2_000_000));
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("longer than the pinned 20000 bytes"),
        "{err}"
    );
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn content_length_larger_than_pin_is_refused_early() {
    let body = data(1_000);
    let srv =
        serve(move |_| b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nxxxx".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("server announces 10000000000 bytes"),
        "{err}"
    );
}

#[test]
fn not_found_on_first_mirror_then_second_mirror() {
    let body = data(30_000);
    let b2 = body.clone();
    let srv = serve(move |req| {
        if req.path == "/good" {
            ok(&b2)
        } else {
            status(404, "Not Found")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let want = pin(&body);
    let mut failed = Vec::new();
    let mut progress = |e: &FetchEvent<'_>| {
        if let FetchEvent::MirrorFailed { error, .. } = e {
            failed.push(error.to_string())
        }
    };
    let urls = [srv.url("/missing"), srv.url("/good")];
    let p = fetcher(dir.path())
        .fetch_artifact("test", &urls, &want, None, &mut progress)
        .unwrap();
    assert_eq!(std::fs::read(p).unwrap(), body);
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].contains("/missing") && failed[0].contains("404"),
        "{failed:?}"
    );
}

#[test]
fn redirect_loop_is_an_error() {
    let srv = serve(move |req| redirect(if req.path == "/a" { "/b" } else { "/a" }));
    let dir = tempfile::tempdir().unwrap();
    let want = pin(b"never");
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    assert!(err.to_string().to_lowercase().contains("redirect"), "{err}");
    // 1 request + max_redirects (5) follow-ups, then ureq gives up.
    assert!(srv.hits() <= 6, "{} requests", srv.hits());
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn a_redirect_within_the_limit_is_followed() {
    let body = data(5_000);
    let b2 = body.clone();
    let srv = serve(move |req| {
        if req.path == "/final" {
            ok(&b2)
        } else {
            redirect("/final")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let p = fetcher(dir.path())
        .fetch_artifact(
            "test",
            &[srv.url("/start")],
            &pin(&body),
            None,
            &mut NoProgress,
        )
        .unwrap();
    assert_eq!(std::fs::read(p).unwrap(), body);
}

#[test]
fn corrupt_cache_entry_is_reported_removed_and_refetched() {
    let body = data(40_000);
    let b2 = body.clone();
    let srv = serve(move |_| ok(&b2));
    let dir = tempfile::tempdir().unwrap();
    let f = fetcher(dir.path());
    let want = pin(&body);
    let p = f
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap();
    // Corrupt the blob behind the cache's back (same size, one bit).
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[123] ^= 0x80;
    std::fs::remove_file(&p).unwrap();
    std::fs::write(&p, &bytes).unwrap();
    let mut corrupt = Vec::new();
    let mut progress = |e: &FetchEvent<'_>| {
        if let FetchEvent::CacheCorrupt { error, .. } = e {
            corrupt.push(error.to_string())
        }
    };
    let hits = srv.hits();
    let p2 = f
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut progress)
        .unwrap();
    assert_eq!(corrupt.len(), 1, "corruption must be reported");
    assert!(corrupt[0].contains("is corrupt"), "{corrupt:?}");
    assert_eq!(srv.hits(), hits + 1, "refetched from the network");
    assert_eq!(std::fs::read(p2).unwrap(), body);
}

#[test]
fn file_urls_relative_to_the_manifest_and_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let body = data(1234);
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::write(dir.path().join("m/x.bin"), &body).unwrap();
    let f = fetcher(dir.path());
    let want = pin(&body);
    let abs = format!("file://{}", dir.path().join("m/x.bin").display());
    f.fetch_artifact("abs", &[abs], &want, None, &mut NoProgress)
        .unwrap();
    std::fs::remove_file(f.cache().blob_path(&want.sha256)).unwrap();
    f.fetch_artifact(
        "rel",
        &["file:x.bin".to_owned()],
        &want,
        Some(&dir.path().join("m")),
        &mut NoProgress,
    )
    .unwrap();
    // A local file longer than the pin is refused without reading it all.
    std::fs::write(dir.path().join("m/big.bin"), data(10_000)).unwrap();
    let err = f
        .fetch_artifact(
            "big",
            &["file:big.bin".to_owned()],
            &pin(&data(10)),
            Some(&dir.path().join("m")),
            &mut NoProgress,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("longer than the pinned 10 bytes"),
        "{err}"
    );
}

/// A server on 127.0.0.1 that sends headers announcing 1000 bytes, then one byte every
/// `gap`, forever (until the client goes away).
fn trickling_server(gap: std::time::Duration) -> String {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut r = std::io::BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                loop {
                    if conn.write_all(b"x").and_then(|()| conn.flush()).is_err() {
                        return;
                    }
                    std::thread::sleep(gap);
                }
            });
        }
    });
    base
}

/// Fetches 1000 `x` bytes from a server sending one byte every `gap`, with an idle
/// timeout of 200 ms and one resume; the fetch must fail and leave the cache clean.
fn fetch_from_trickler(gap: std::time::Duration, opts: FetchOptions) -> Error {
    let base = trickling_server(gap);
    let dir = tempfile::tempdir().unwrap();
    let opts = FetchOptions {
        idle_timeout: std::time::Duration::from_millis(200),
        max_resumes: 1,
        ..opts
    };
    let f = Fetcher::new(Cache::new(dir.path().join("cache")), opts);
    let want = pin(&[b'x'; 1000]);
    let err = f
        .fetch_artifact("slow", &[format!("{base}/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    assert_cache_clean(dir.path(), &want);
    err
}

#[test]
fn a_trickling_server_hits_the_idle_timeout() {
    let err = fetch_from_trickler(std::time::Duration::from_secs(5), FetchOptions::default());
    let Error::AllMirrorsFailed { failures, .. } = &err else {
        panic!("{err}")
    };
    assert!(matches!(failures[0], Error::Download { .. }), "{err}");
    assert!(err.to_string().contains("idle timeout"), "{err}");
}

/// A byte every 50 ms is never idle for 200 ms, but it is under 1000 bytes per
/// 200 ms window: the transfer fails in about a window per attempt. Without the
/// minimum it would complete after 50 s (the body matches the pin).
#[test]
fn a_server_that_is_never_idle_but_trickles_hits_the_speed_minimum() {
    let opts = FetchOptions {
        min_bytes_per_idle_window: 1000,
        ..FetchOptions::default()
    };
    let err = fetch_from_trickler(std::time::Duration::from_millis(50), opts);
    assert!(err.to_string().contains("the server is trickling"), "{err}");
}

#[test]
fn a_fifo_named_by_a_file_url_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let want = pin(b"never");
    let err = fetcher(dir.path())
        .fetch_artifact(
            "pipe",
            &[format!("file:{}", fifo.display())],
            &want,
            None,
            &mut NoProgress,
        )
        .unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn mirror_credentials_never_appear_in_errors_or_progress() {
    let srv = serve(|_| b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec());
    let url = srv.url("/x").replace("http://", "http://alice:s3cret@");
    let dir = tempfile::tempdir().unwrap();
    let mut shown = Vec::new();
    let mut progress = |e: &FetchEvent<'_>| {
        shown.push(format!("{e:?}"));
        if let FetchEvent::Start { url, .. } = e {
            shown.push(url.to_string());
        }
    };
    let err = fetcher(dir.path())
        .fetch_artifact("secret", &[url], &pin(b"x"), None, &mut progress)
        .unwrap_err();
    shown.push(err.to_string());
    shown.push(format!("{err:?}"));
    for s in &shown {
        assert!(!s.contains("s3cret") && !s.contains("alice"), "leaked: {s}");
    }
    assert!(
        shown.iter().any(|s| s.contains("http://***@127.0.0.1")),
        "{shown:?}"
    );
}

#[test]
fn a_redirect_to_a_file_url_says_so() {
    let srv = serve(|_| redirect("file:///etc/passwd"));
    let dir = tempfile::tempdir().unwrap();
    let want = pin(b"never");
    let err = fetcher(dir.path())
        .fetch_artifact("test", &[srv.url("/a")], &want, None, &mut NoProgress)
        .unwrap_err();
    let msg = err.to_string();
    assert!(!msg.contains("too many redirects"), "{msg}");
    assert!(msg.contains("file://"), "{msg}");
    assert_cache_clean(dir.path(), &want);
}

#[test]
fn a_missing_file_url_names_the_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.tar.xz");
    let want = pin(b"never");
    let err = fetcher(dir.path())
        .fetch_artifact(
            "src",
            &[format!("file:{}", missing.display())],
            &want,
            None,
            &mut NoProgress,
        )
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(msg.matches("nope.tar.xz").count(), 1, "{msg}");
    assert_eq!(msg.matches("No such file or directory").count(), 1, "{msg}");
}
