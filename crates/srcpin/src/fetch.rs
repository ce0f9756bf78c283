//! Downloading pinned artifacts from mirrors into the cache.
//!
//! Every artifact has a pinned size and SHA-256. A download is streamed into a temporary
//! file in the cache, refused as soon as it grows past the pinned size (whatever
//! `Content-Length` says), resumed with a `Range` request when the connection breaks, and
//! only renamed into the cache after its size and digest match. Mirrors are tried in order;
//! the error lists every mirror's failure.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cache::{Cache, Lookup};
use crate::digest::Sha256Digest;
use crate::error::{Error, Result};
use crate::manifest::FileDigest;
use crate::url::{MirrorUrl, redact};

/// What the library reports while it works. The binary turns these into a progress bar;
/// the library itself never prints.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchEvent<'a> {
    /// A download from `url` starts; `total` is the pinned size.
    Start {
        /// The artifact.
        what: &'a str,
        /// The URL (displays without credentials).
        url: &'a MirrorUrl,
        /// Pinned size in bytes (0 when unknown, e.g. an unpinned signature).
        total: u64,
    },
    /// Bytes received so far for the current download.
    Progress {
        /// Bytes written to the temporary file.
        so_far: u64,
        /// Pinned size.
        total: u64,
    },
    /// The connection broke; the download continues from `offset`.
    Resuming {
        /// The URL (displays without credentials).
        url: &'a MirrorUrl,
        /// Bytes already on disk.
        offset: u64,
        /// Why the transfer stopped.
        error: &'a str,
    },
    /// A mirror failed; the next one will be tried.
    MirrorFailed {
        /// The artifact.
        what: &'a str,
        /// The failure.
        error: &'a Error,
    },
    /// A verified cache entry is used.
    CacheHit {
        /// The artifact.
        what: &'a str,
        /// The blob.
        path: &'a Path,
    },
    /// A cache entry was corrupt; it was removed and will be refetched.
    CacheCorrupt {
        /// The artifact.
        what: &'a str,
        /// The corruption report.
        error: &'a Error,
    },
    /// A verified artifact is now in the cache.
    Verified {
        /// The artifact.
        what: &'a str,
        /// The blob.
        path: &'a Path,
    },
    /// A longer local step begins (signature check over a decompressed stream, extracting a
    /// member from a .deb, unpacking, patching).
    Step {
        /// Human-readable description.
        what: &'a str,
    },
}

impl FetchEvent<'_> {
    /// The event as one line for a person (URLs without credentials), or `None` for
    /// byte counts, which are a progress bar's business.
    pub fn message(&self) -> Option<String> {
        Some(match self {
            FetchEvent::Start { what, url, .. } => format!("fetching {what} from {url}"),
            FetchEvent::Progress { .. } => return None,
            FetchEvent::Resuming { url, offset, error } => {
                format!("transfer from {url} broke off ({error}); resuming at byte {offset}")
            }
            FetchEvent::MirrorFailed { error, .. } => format!("mirror failed: {error}"),
            FetchEvent::CacheHit { what, path } => {
                format!("using cached {what}: {}", path.display())
            }
            FetchEvent::CacheCorrupt { error, .. } => format!("warning: {error}; fetching again"),
            FetchEvent::Verified { what, path } => format!("verified {what}: {}", path.display()),
            FetchEvent::Step { what } => format!("{what}..."),
        })
    }

    /// Whether the event ends the current download (so its progress bar goes).
    pub fn ends_download(&self) -> bool {
        matches!(
            self,
            FetchEvent::Start { .. }
                | FetchEvent::MirrorFailed { .. }
                | FetchEvent::Verified { .. }
                | FetchEvent::Step { .. }
        )
    }
}

/// Receives [`FetchEvent`]s. Implemented for closures.
pub trait FetchProgress {
    /// Called for every event.
    fn event(&mut self, event: &FetchEvent<'_>);
}

impl<F: FnMut(&FetchEvent<'_>)> FetchProgress for F {
    fn event(&mut self, event: &FetchEvent<'_>) {
        self(event)
    }
}

/// A [`FetchProgress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl FetchProgress for NoProgress {
    fn event(&mut self, _: &FetchEvent<'_>) {}
}

/// Network settings.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time until response headers arrive.
    pub response_timeout: Duration,
    /// Time to receive a whole body (generous: the Debian source is 150 MB).
    pub body_timeout: Duration,
    /// Longest wait for the next bytes of a body: a server that trickles (a byte a minute)
    /// fails the transfer after this long without data, instead of holding a build.
    pub idle_timeout: Duration,
    /// Fewest body bytes per `idle_timeout` window: a server that sends a byte every few
    /// seconds is never idle, yet would hold a build for the whole `body_timeout` per
    /// attempt. A window with less fails the transfer (as curl's `--speed-limit`).
    pub min_bytes_per_idle_window: u64,
    /// Redirects followed per request; more is an error.
    pub max_redirects: u32,
    /// How many times a broken transfer is resumed (or restarted) before giving up.
    pub max_resumes: u32,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(3600),
            idle_timeout: Duration::from_secs(60),
            // 64 KiB a minute, about 1 KiB/s: far below any working mirror.
            min_bytes_per_idle_window: 64 << 10,
            max_redirects: 5,
            max_resumes: 3,
        }
    }
}

/// Something that can download one exact Debian package version into a directory.
///
/// The default, [`AptGet`], runs `apt-get download`; tests substitute their own.
pub trait DebDownloader: Send + Sync {
    /// Downloads `package=version` into the empty directory `dir` and returns the file.
    /// Must return [`Error::DebianVersionNotServed`] when the version is not available.
    fn download(&self, package: &str, version: &str, dir: &Path) -> Result<PathBuf>;
}

/// Runs `apt-get download <package>=<version>` (apt checks the archive signatures and the
/// `Packages` digests; srcpin then checks the pinned digest).
#[derive(Debug, Default, Clone, Copy)]
pub struct AptGet;

impl DebDownloader for AptGet {
    fn download(&self, package: &str, version: &str, dir: &Path) -> Result<PathBuf> {
        let spec = format!("{package}={version}");
        let command = format!("apt-get download {spec}");
        let out = Command::new("apt-get")
            .args(["-q", "download", &spec])
            .current_dir(dir)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| Error::Command {
                command: command.clone(),
                problem: e.to_string(),
            })?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let detail: String = stderr
            .lines()
            .filter(|l| l.starts_with("E:"))
            .collect::<Vec<_>>()
            .join(" ");
        if !out.status.success() {
            if detail.contains("was not found")
                || detail.contains("Unable to locate package")
                || detail.contains("Can't select")
                || detail.contains("has no installation candidate")
            {
                return Err(Error::DebianVersionNotServed {
                    package: package.to_owned(),
                    version: version.to_owned(),
                    detail,
                });
            }
            let problem = if detail.is_empty() {
                format!("{}: {}", out.status, stderr.trim())
            } else {
                detail
            };
            return Err(Error::Command { command, problem });
        }
        single_deb_in(dir).ok_or_else(|| Error::Command {
            command,
            problem: format!("no single .deb file appeared in {}", dir.display()),
        })
    }
}

fn single_deb_in(dir: &Path) -> Option<PathBuf> {
    let mut debs = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"));
    let first = debs.next()?;
    if debs.next().is_some() {
        None
    } else {
        Some(first)
    }
}

/// Downloads and verifies pinned artifacts into a [`Cache`].
pub struct Fetcher {
    cache: Cache,
    agent: ureq::Agent,
    options: FetchOptions,
    deb_downloader: Box<dyn DebDownloader>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("cache", &self.cache)
            .field("options", &self.options)
            .finish()
    }
}

impl Fetcher {
    /// A fetcher using `cache`, the given network options and [`AptGet`].
    pub fn new(cache: Cache, options: FetchOptions) -> Fetcher {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are followed by `get` below, which can say where one pointed.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.response_timeout))
            .timeout_recv_body(Some(options.body_timeout))
            .user_agent(concat!("samekernel-srcpin/", env!("CARGO_PKG_VERSION")))
            .build();
        Fetcher {
            cache,
            agent: config.into(),
            options,
            deb_downloader: Box::new(AptGet),
        }
    }

    /// Replaces the Debian package downloader (e.g. in tests).
    pub fn with_deb_downloader(mut self, d: Box<dyn DebDownloader>) -> Fetcher {
        self.deb_downloader = d;
        self
    }

    /// The cache this fetcher fills.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub(crate) fn deb_downloader(&self) -> &dyn DebDownloader {
        &*self.deb_downloader
    }

    /// Returns the verified cache path of the artifact `want`, downloading it from the first
    /// mirror in `urls` that delivers exactly the pinned bytes. Relative `file:` URLs are
    /// resolved against `base_dir`.
    pub fn fetch_artifact(
        &self,
        what: &str,
        urls: &[String],
        want: &FileDigest,
        base_dir: Option<&Path>,
        progress: &mut dyn FetchProgress,
    ) -> Result<PathBuf> {
        if let Some(p) = self.cached(what, want, progress)? {
            return Ok(p);
        }
        let mut failures = Vec::new();
        for url in urls {
            let url = &MirrorUrl::new(url);
            progress.event(&FetchEvent::Start {
                what,
                url,
                total: want.size,
            });
            let mut tmp = self.cache.temp_file()?;
            let result = self
                .download(url, base_dir, tmp.as_file_mut(), want.size, progress)
                .and_then(|()| verify_file(tmp.path(), want, &format!("{what} from {url}")));
            match result {
                Ok(()) => {
                    let path = self.cache.commit(tmp, &want.sha256)?;
                    progress.event(&FetchEvent::Verified { what, path: &path });
                    return Ok(path);
                }
                Err(e) => {
                    progress.event(&FetchEvent::MirrorFailed { what, error: &e });
                    failures.push(e);
                }
            }
        }
        Err(Error::AllMirrorsFailed {
            what: what.to_owned(),
            failures,
        })
    }

    /// Downloads a small unpinned-size file (a signature) into memory, at most `max` bytes,
    /// from the first mirror that works; checks `sha256` when given.
    pub fn fetch_small(
        &self,
        what: &str,
        urls: &[String],
        max: u64,
        sha256: Option<&Sha256Digest>,
        base_dir: Option<&Path>,
        progress: &mut dyn FetchProgress,
    ) -> Result<Vec<u8>> {
        let mut failures = Vec::new();
        for url in urls {
            let url = &MirrorUrl::new(url);
            progress.event(&FetchEvent::Start {
                what,
                url,
                total: 0,
            });
            let mut tmp = self.cache.temp_file()?;
            let result = self
                .download(url, base_dir, tmp.as_file_mut(), max, progress)
                .and_then(|()| {
                    // The message names the download, not the cache's temporary file.
                    let bytes = std::fs::read(tmp.path()).map_err(|e| Error::Download {
                        url: url.clone(),
                        problem: format!("cannot read the downloaded copy back: {e}"),
                    })?;
                    if let Some(want) = sha256 {
                        let actual = Sha256Digest::of(&bytes);
                        if actual != *want {
                            return Err(Error::DigestMismatch {
                                what: format!("{what} from {url}"),
                                expected: *want,
                                actual,
                            });
                        }
                    }
                    Ok(bytes)
                });
            match result {
                Ok(b) => return Ok(b),
                Err(e) => {
                    progress.event(&FetchEvent::MirrorFailed { what, error: &e });
                    failures.push(e);
                }
            }
        }
        Err(Error::AllMirrorsFailed {
            what: what.to_owned(),
            failures,
        })
    }

    /// Looks `want` up in the cache, reporting hits and corrupt entries.
    pub(crate) fn cached(
        &self,
        what: &str,
        want: &FileDigest,
        progress: &mut dyn FetchProgress,
    ) -> Result<Option<PathBuf>> {
        match self.cache.lookup(want)? {
            Lookup::Hit(p) => {
                progress.event(&FetchEvent::CacheHit { what, path: &p });
                Ok(Some(p))
            }
            Lookup::Corrupt(e) => {
                progress.event(&FetchEvent::CacheCorrupt { what, error: &e });
                Ok(None)
            }
            Lookup::Miss => Ok(None),
        }
    }

    /// `apt-get download package=version` into a fresh directory in the cache's
    /// temporary area, checked against `want` (apt's index digest or the pin) and
    /// committed to the cache; `what` names it in progress and errors.
    pub(crate) fn apt_download(
        &self,
        package: &str,
        version: &str,
        want: &FileDigest,
        what: &str,
        progress: &mut dyn FetchProgress,
    ) -> Result<PathBuf> {
        let url = format!("apt-get download {package}={version}");
        progress.event(&FetchEvent::Start {
            what,
            url: &MirrorUrl::new(&url),
            total: want.size,
        });
        let tmp_root = self.cache().tmp_dir()?;
        let dir = tempfile::Builder::new()
            .prefix(".apt-")
            .tempdir_in(&tmp_root)
            .map_err(|e| Error::io(&tmp_root, e))?;
        let got = self
            .deb_downloader()
            .download(package, version, dir.path())?;
        verify_file(&got, want, &format!("{what} from apt-get"))?;
        self.cache().commit_path(&got, &want.sha256)
    }

    /// Copies `url` into `file` (which must be empty), never writing more than `limit` bytes.
    fn download(
        &self,
        url: &MirrorUrl,
        base_dir: Option<&Path>,
        file: &mut File,
        limit: u64,
        progress: &mut dyn FetchProgress,
    ) -> Result<()> {
        let err = |problem: String| Error::Download {
            url: url.clone(),
            problem,
        };
        if url.as_secret_str().starts_with("file:") {
            let path = file_url_path(url.as_secret_str(), base_dir);
            // Name the resolved path only when it says more than the URL (relative URLs).
            let shown = path.display().to_string();
            let src = open_regular_file(&path).map_err(|e| {
                if url.as_secret_str().ends_with(shown.as_str()) {
                    err(e.to_string())
                } else {
                    err(format!("{shown}: {e}"))
                }
            })?;
            let n = copy_limited(src, file, 0, limit, progress).map_err(|e| err(e.to_string()))?;
            return match n {
                Copied::All => Ok(()),
                Copied::TooLong => Err(too_long(url, limit)),
            };
        }
        self.download_http(url, file, limit, progress)
    }

    fn download_http(
        &self,
        url: &MirrorUrl,
        file: &mut File,
        limit: u64,
        progress: &mut dyn FetchProgress,
    ) -> Result<()> {
        // Messages from the HTTP client may quote the URL: redact them too.
        let err = |problem: String| Error::Download {
            url: url.clone(),
            problem: redact(&problem),
        };
        let mut have = 0u64;
        let mut resumes = 0u32;
        loop {
            let response = match self.get(url.as_secret_str(), have) {
                Ok(r) => r,
                Err(Fail::Redirect(problem)) => return Err(err(problem)),
                Err(Fail::Http(e)) if resumes < self.options.max_resumes && have > 0 => {
                    resumes += 1;
                    progress.event(&FetchEvent::Resuming {
                        url,
                        offset: have,
                        error: &redact(&e.to_string()),
                    });
                    continue;
                }
                Err(Fail::Http(e)) => return Err(err(e.to_string())),
            };
            have = resume_point(&response, have, file).map_err(err)?;
            refuse_announced_excess(&response, have, limit).map_err(err)?;
            let reader = IdleReader::new(
                response
                    .into_body()
                    .into_with_config()
                    .limit(u64::MAX)
                    .reader(),
                self.options.idle_timeout,
                self.options.min_bytes_per_idle_window,
            );
            match copy_limited(reader, file, have, limit, progress) {
                Ok(Copied::All) => return Ok(()),
                Ok(Copied::TooLong) => return Err(too_long(url, limit)),
                Err(PartialCopy { copied, error }) => {
                    have = copied;
                    if resumes >= self.options.max_resumes {
                        return Err(err(format!(
                            "transfer broke off after {have} bytes: {error}"
                        )));
                    }
                    resumes += 1;
                    progress.event(&FetchEvent::Resuming {
                        url,
                        offset: have,
                        error: &redact(&error.to_string()),
                    });
                }
            }
        }
    }
}

/// Where the body of `response` starts, given the `have` bytes already in `file`:
/// 200 starts over (the server ignored the Range request: `file` is emptied), 206
/// must continue at exactly `have`; any other status is refused.
fn resume_point(
    response: &ureq::http::Response<ureq::Body>,
    have: u64,
    file: &mut File,
) -> std::result::Result<u64, String> {
    let status = response.status().as_u16();
    match status {
        200 => {
            if have > 0 {
                file.set_len(0)
                    .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
                    .map_err(|e| e.to_string())?;
            }
            Ok(0)
        }
        206 if have > 0 => {
            let range = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let start = range
                .strip_prefix("bytes ")
                .and_then(|r| r.split('-').next())
                .and_then(|s| s.parse::<u64>().ok());
            if start != Some(have) {
                return Err(format!(
                    "bad Content-Range {range:?} for a resume at {have}"
                ));
            }
            Ok(have)
        }
        _ => Err(format!("HTTP status {status}")),
    }
}

/// Refuses early when Content-Length says the file would pass `limit`. Only used
/// to refuse: the limit is enforced while reading, whatever the server announced.
fn refuse_announced_excess(
    response: &ureq::http::Response<ureq::Body>,
    have: u64,
    limit: u64,
) -> std::result::Result<(), String> {
    let announced = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match announced {
        Some(n) if have.saturating_add(n) > limit => Err(format!(
            "server announces {} bytes, more than the pinned {limit}",
            have + n
        )),
        _ => Ok(()),
    }
}

/// Why a GET failed.
enum Fail {
    /// A redirect that is not followed (loop, non-HTTP target): what to tell the user.
    Redirect(String),
    Http(ureq::Error),
}

impl Fetcher {
    /// GETs `url` (from byte `from`), following at most `max_redirects` http(s) redirects.
    fn get(
        &self,
        url: &str,
        from: u64,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, Fail> {
        let mut current = url.to_owned();
        for _ in 0..=self.options.max_redirects {
            let mut req = self.agent.get(&current);
            if from > 0 {
                req = req.header("Range", format!("bytes={from}-"));
            }
            let response = req.call().map_err(Fail::Http)?;
            if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(response);
            }
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Fail::Redirect("redirect without a Location header".into()))?;
            current = redirect_target(&current, location).map_err(Fail::Redirect)?;
        }
        Err(Fail::Redirect(format!(
            "more than {} redirects (a redirect loop?); put the final URL in the manifest",
            self.options.max_redirects
        )))
    }
}

/// Where a `Location` header leads from `base`; only http(s) targets are followed.
fn redirect_target(base: &str, location: &str) -> std::result::Result<String, String> {
    let scheme_end = base.find("://").unwrap_or(0);
    let authority_end = base[scheme_end + 3..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + 3 + i);
    let has_scheme = location.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if has_scheme {
        let lower = location.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(location.to_owned());
        }
        return Err(format!(
            "redirects to {}, which is not http(s) and is never followed; put a direct \
             http(s) or file: URL in the manifest",
            redact(location)
        ));
    }
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{}//{rest}", &base[..scheme_end + 1]));
    }
    if location.starts_with('/') {
        return Ok(format!("{}{location}", &base[..authority_end]));
    }
    let path = base[..base.find(['?', '#']).unwrap_or(base.len())].to_owned();
    let dir_end = path
        .rfind('/')
        .filter(|&i| i >= authority_end)
        .map_or(path.len(), |i| i);
    Ok(format!("{}/{location}", &path[..dir_end]))
}

fn too_long(url: &MirrorUrl, limit: u64) -> Error {
    Error::Download {
        url: url.clone(),
        problem: format!("body is longer than the pinned {limit} bytes"),
    }
}

/// Resolves a `file:` URL: `file:///abs`, `file:/abs`, or `file:relative` (against `base`).
pub(crate) fn file_url_path(url: &str, base: Option<&Path>) -> PathBuf {
    let rest = url
        .strip_prefix("file://")
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    let p = Path::new(rest);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.unwrap_or(Path::new(".")).join(p)
    }
}

/// Opens `path` for reading only if it is a regular file. Opened non-blocking, so a FIFO
/// (or a device) named by a `file:` URL cannot block the open, and refused after `fstat`.
fn open_regular_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = f.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, device or directory); a file: URL must name a file",
        ));
    }
    Ok(f)
}

/// Reads a body on its own thread so that no read waits longer than `idle` for data.
/// (ureq's body timeout bounds the whole transfer, not the gaps in it.) When the reader
/// is dropped, the thread ends at its next read.
struct IdleReader {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    idle: Duration,
    chunk: Vec<u8>,
    pos: usize,
    eof: bool,
    /// The current speed window: when it began and the bytes received since.
    window: (std::time::Instant, u64),
    min_per_window: u64,
}

impl IdleReader {
    fn new(mut inner: impl Read + Send + 'static, idle: Duration, min_per_window: u64) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 << 10];
            loop {
                let msg = match inner.read(&mut buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(n) => Ok(buf[..n].to_vec()),
                    Err(e) => Err(e),
                };
                let last = !matches!(&msg, Ok(v) if !v.is_empty());
                if tx.send(msg).is_err() || last {
                    return;
                }
            }
        });
        IdleReader {
            rx,
            idle,
            chunk: Vec::new(),
            pos: 0,
            eof: false,
            window: (std::time::Instant::now(), 0),
            min_per_window,
        }
    }

    /// Counts `n` received bytes; fails when a whole window brought fewer than the minimum.
    fn count(&mut self, n: usize) -> io::Result<()> {
        self.window.1 += n as u64;
        if self.window.0.elapsed() < self.idle {
            return Ok(());
        }
        if self.window.1 < self.min_per_window {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "only {} bytes in {:.1} s, below the minimum of {} (the server is trickling)",
                    self.window.1,
                    self.window.0.elapsed().as_secs_f64(),
                    self.min_per_window
                ),
            ));
        }
        self.window = (std::time::Instant::now(), 0);
        Ok(())
    }
}

impl Read for IdleReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::sync::mpsc::RecvTimeoutError;
        while self.pos == self.chunk.len() {
            if self.eof {
                return Ok(0);
            }
            match self.rx.recv_timeout(self.idle) {
                Ok(Ok(v)) => {
                    self.eof = v.is_empty();
                    if !self.eof {
                        // The end of a body is never too slow: a small file may
                        // take a window without being a trickle.
                        self.count(v.len())?;
                    }
                    self.chunk = v;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "no data for {:.1} s (idle timeout); the server stalled",
                            self.idle.as_secs_f64()
                        ),
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(io::Error::other("the body reader stopped"));
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

enum Copied {
    All,
    TooLong,
}

#[derive(Debug)]
struct PartialCopy {
    copied: u64,
    error: io::Error,
}

impl std::fmt::Display for PartialCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "after {} bytes: {}", self.copied, self.error)
    }
}

/// Appends `src` to `dst` (already holding `start` bytes) until EOF; stops with
/// `TooLong` as soon as the total would exceed `limit`.
fn copy_limited(
    mut src: impl Read,
    dst: &mut File,
    start: u64,
    limit: u64,
    progress: &mut dyn FetchProgress,
) -> std::result::Result<Copied, PartialCopy> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut have = start;
    let mut last_report = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(PartialCopy {
                    copied: have,
                    error,
                });
            }
        };
        if have + n as u64 > limit {
            return Ok(Copied::TooLong);
        }
        dst.write_all(&buf[..n]).map_err(|error| PartialCopy {
            copied: have,
            error,
        })?;
        have += n as u64;
        if have - last_report >= 1 << 20 {
            last_report = have;
            progress.event(&FetchEvent::Progress {
                so_far: have,
                total: limit,
            });
        }
    }
    dst.flush().map_err(|error| PartialCopy {
        copied: have,
        error,
    })?;
    progress.event(&FetchEvent::Progress {
        so_far: have,
        total: limit,
    });
    Ok(Copied::All)
}

/// Checks a file's size and SHA-256 against the pin (size first, from metadata, so an
/// oversized file is never hashed).
pub fn verify_file(path: &Path, want: &FileDigest, what: &str) -> Result<()> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len != want.size {
        return Err(Error::SizeMismatch {
            what: what.to_owned(),
            expected: want.size,
            actual: len,
        });
    }
    let (actual, n) = Sha256Digest::of_reader(f).map_err(|e| Error::io(path, e))?;
    if n != want.size {
        return Err(Error::SizeMismatch {
            what: what.to_owned(),
            expected: want.size,
            actual: n,
        });
    }
    if actual != want.sha256 {
        return Err(Error::DigestMismatch {
            what: what.to_owned(),
            expected: want.sha256,
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod redirect_tests {
    use super::redirect_target;

    #[test]
    fn relative_and_absolute_locations_resolve_and_other_schemes_are_refused() {
        let base = "http://h:8/a/b?q=1";
        assert_eq!(redirect_target(base, "/c").unwrap(), "http://h:8/c");
        assert_eq!(redirect_target(base, "c").unwrap(), "http://h:8/a/c");
        assert_eq!(redirect_target(base, "//m/x").unwrap(), "http://m/x");
        assert_eq!(redirect_target(base, "HTTPS://m/x").unwrap(), "HTTPS://m/x");
        assert_eq!(redirect_target("http://h", "c").unwrap(), "http://h/c");
        let err = redirect_target(base, "file:///etc/passwd").unwrap_err();
        assert!(
            err.contains("file:///etc/passwd") && err.contains("never followed"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod event_tests {
    use super::*;

    #[test]
    fn events_read_as_lines_without_credentials_and_byte_counts_have_none() {
        let url = MirrorUrl::new("https://user:secret@mirror.example/linux.tar.xz");
        let start = FetchEvent::Start {
            what: "source linux.tar.xz",
            url: &url,
            total: 10,
        };
        let line = start.message().unwrap();
        assert!(line.starts_with("fetching source linux.tar.xz from https://"));
        assert!(!line.contains("secret"), "{line}");
        assert!(start.ends_download());
        let resuming = FetchEvent::Resuming {
            url: &url,
            offset: 4,
            error: "reset",
        };
        assert!(
            resuming
                .message()
                .unwrap()
                .ends_with("(reset); resuming at byte 4")
        );
        assert!(!resuming.ends_download());
        let progress = FetchEvent::Progress {
            so_far: 1,
            total: 10,
        };
        assert_eq!(progress.message(), None);
        let step = FetchEvent::Step { what: "unpacking" };
        assert_eq!(step.message().as_deref(), Some("unpacking..."));
    }
}
