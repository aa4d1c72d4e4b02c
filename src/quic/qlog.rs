//! qlog: one JSON-SEQ file per connection (RFC 7464 records, the qlog format qvis opens),
//! holding quinn-proto's QUIC events (packets sent, received and lost, recovery metrics)
//! and the HTTP/3 events h3q adds: each stream's type (`http:stream_type_set`), each
//! HTTP/3 frame created or parsed (`http:frame_created`, `http:frame_parsed`) with its type
//! and length, from draft-ietf-quic-qlog-h3-events, and each QPACK instruction
//! (`qpack:instruction_created`, `qpack:instruction_parsed`) with its type and length.
//!
//! The HTTP/3 events come from a tap on the bytes this layer carries, not from the HTTP/3
//! layer: it reads the stream type and frame headers of what the application sends on each
//! stream and of what arrives, and skips frame payloads. So they are logged for any
//! HTTP/3 implementation over the built-in QUIC layer, cost nothing when qlog is off, and
//! cannot disturb HTTP/3. Field values are not logged (header fields, QPACK
//! instructions): a qlog is for timing and flow, and often leaves the machine.
//!
//! Files are named `<dir>/<client|server>-<n>-<nanoseconds>.sqlog` (n: the endpoint's
//! connection counter, so names are unique within a process run) and written through a
//! buffer, flushed when the connection ends and when the last handle goes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use quinn_proto::{QlogConfig, QlogStream};

use super::error::ConfigError;
use super::qlog_qpack::QpackReader;
use crate::frame::{frame_type, stream_type};
use crate::varint;

/// Checks that `dir` is a directory this process can create files in.
pub(crate) fn check_dir(dir: &Path) -> Result<(), ConfigError> {
    let bad = |why: String| ConfigError::new(format!("qlog dir {}: {why}", dir.display()));
    let meta = std::fs::metadata(dir).map_err(|e| bad(e.to_string()))?;
    if !meta.is_dir() {
        return Err(bad("not a directory".into()));
    }
    let probe = dir.join(format!(".h3q-qlog-probe-{}", std::process::id()));
    File::create(&probe).map_err(|e| bad(format!("cannot create files there ({e})")))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Where an endpoint writes its connections' qlogs.
#[derive(Debug)]
pub(crate) struct QlogDir {
    dir: PathBuf,
    is_server: bool,
    next: AtomicU64,
}

impl QlogDir {
    pub(crate) fn new(dir: PathBuf, is_server: bool) -> Self {
        QlogDir {
            dir,
            is_server,
            next: AtomicU64::new(1),
        }
    }

    /// Opens the file of a new connection starting at `start` (`now_ns` names it); `None`
    /// (after nothing worse than a missing qlog) when the file cannot be created.
    pub(crate) fn open(&self, start: Instant, now_ns: u64) -> Option<(Arc<QlogFile>, QlogStream)> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let role = if self.is_server { "server" } else { "client" };
        let path = self.dir.join(format!("{role}-{n}-{now_ns}.sqlog"));
        let file = File::create(path).ok()?;
        let shared = Arc::new(QlogFile::new(Box::new(file), start));
        let mut config = QlogConfig::default();
        config
            .writer(Box::new(SharedWriter(shared.clone())))
            .title(Some(format!("h3q {role}")))
            .description(Some(format!(
                "h3q {} {role} connection {n}",
                env!("CARGO_PKG_VERSION")
            )))
            .start_time(start);
        let stream = config.into_stream()?;
        Some((shared, stream))
    }
}

/// One connection's qlog file, shared by quinn-proto's streamer and h3q's HTTP/3 tap. A
/// connection is used by one thread at a time, so records never interleave.
pub(crate) struct QlogFile {
    out: Mutex<BufWriter<Box<dyn Write + Send>>>,
    start: Instant,
}

impl std::fmt::Debug for QlogFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QlogFile").finish_non_exhaustive()
    }
}

impl QlogFile {
    /// A qlog written to `out` (a file; a sink for the fuzz target), times from `start`.
    pub(crate) fn new(out: Box<dyn Write + Send>, start: Instant) -> Self {
        QlogFile {
            out: Mutex::new(BufWriter::with_capacity(64 * 1024, out)),
            start,
        }
    }

    /// Appends one event record.
    fn event(&self, now: Instant, name: &str, data: &str) {
        let ms = now.saturating_duration_since(self.start).as_secs_f64() * 1000.0;
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(
                out,
                "\u{1e}{{\"time\":{ms:.3},\"name\":\"{name}\",\"data\":{data}}}"
            );
        }
    }

    pub(crate) fn flush(&self) {
        if let Ok(mut out) = self.out.lock() {
            let _ = out.flush();
        }
    }
}

impl Drop for QlogFile {
    fn drop(&mut self) {
        self.flush();
    }
}

/// quinn-proto's writer: the shared file.
struct SharedWriter(Arc<QlogFile>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = self
            .0
            .out
            .lock()
            .map_err(|_| io::Error::other("qlog lock"))?;
        out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush();
        Ok(())
    }
}

/// The HTTP/3 tap of one connection: per stream and direction, where the reader is in the
/// byte stream.
#[derive(Debug)]
pub(crate) struct H3Tap {
    file: Arc<QlogFile>,
    is_client: bool,
    streams: HashMap<(u64, bool), Reader>,
    scratch: String,
}

#[derive(Debug, Default)]
struct Reader {
    /// Bytes of a varint or frame header not complete yet.
    pending: Vec<u8>,
    /// Payload bytes of the current frame still to skip.
    skip: u64,
    state: ReadState,
    /// A QPACK stream's instruction reader (`qlog_qpack`).
    qpack: Option<QpackReader>,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum ReadState {
    /// A unidirectional stream's type varint is next.
    #[default]
    StreamType,
    /// Frames (request streams, control and push streams).
    Frames,
    /// A push stream's push id, then frames.
    PushId,
    /// QPACK instructions (`Reader::qpack`).
    Qpack,
    /// Not frames (unknown types): nothing more is read.
    Opaque,
}

impl H3Tap {
    pub(crate) fn new(file: Arc<QlogFile>, is_client: bool) -> Self {
        H3Tap {
            file,
            is_client,
            streams: HashMap::new(),
            scratch: String::new(),
        }
    }

    /// Bytes sent (`outgoing`) or received on `stream_id`, in stream order.
    pub(crate) fn bytes(&mut self, now: Instant, stream_id: u64, outgoing: bool, mut data: &[u8]) {
        let bidi = stream_id & 2 == 0;
        let reader = self
            .streams
            .entry((stream_id, outgoing))
            .or_insert_with(|| Reader {
                state: if bidi {
                    ReadState::Frames
                } else {
                    ReadState::StreamType
                },
                ..Reader::default()
            });
        let name = if outgoing {
            "http:frame_created"
        } else {
            "http:frame_parsed"
        };
        while !data.is_empty() {
            if reader.skip > 0 {
                let n = reader.skip.min(data.len() as u64) as usize;
                reader.skip -= n as u64;
                data = &data[n..];
                continue;
            }
            match reader.state {
                ReadState::Opaque => return,
                ReadState::Qpack => {
                    let Some(qpack) = reader.qpack.as_mut() else {
                        return;
                    };
                    let name = if outgoing {
                        "qpack:instruction_created"
                    } else {
                        "qpack:instruction_parsed"
                    };
                    while let Some((kind, len)) = qpack.next(&mut data) {
                        self.scratch.clear();
                        let _ = write!(
                            self.scratch,
                            "{{\"stream_id\":{stream_id},\"length\":{len},\"instruction\":{{\"instruction_type\":\"{kind}\"}}}}"
                        );
                        self.file.event(now, name, &self.scratch);
                    }
                    return;
                }
                ReadState::StreamType | ReadState::PushId => {
                    let Some(value) = take_varint(&mut reader.pending, &mut data) else {
                        return;
                    };
                    if reader.state == ReadState::PushId {
                        reader.state = ReadState::Frames;
                        continue;
                    }
                    let (kind, next) = match value {
                        stream_type::CONTROL => ("control", ReadState::Frames),
                        stream_type::PUSH => ("push", ReadState::PushId),
                        stream_type::QPACK_ENCODER => ("qpack_encode", ReadState::Qpack),
                        stream_type::QPACK_DECODER => ("qpack_decode", ReadState::Qpack),
                        _ => ("unknown", ReadState::Opaque),
                    };
                    if next == ReadState::Qpack {
                        reader.qpack = Some(QpackReader::new(value == stream_type::QPACK_ENCODER));
                    }
                    reader.state = next;
                    self.scratch.clear();
                    let owner = if outgoing == self.is_client {
                        "local"
                    } else {
                        "remote"
                    };
                    let _ = write!(
                        self.scratch,
                        "{{\"stream_id\":{stream_id},\"owner\":\"{owner}\",\"stream_type\":\"{kind}\"}}"
                    );
                    self.file.event(now, "http:stream_type_set", &self.scratch);
                }
                ReadState::Frames => {
                    let Some((ty, len)) = take_frame_header(&mut reader.pending, &mut data) else {
                        return;
                    };
                    reader.skip = len;
                    self.scratch.clear();
                    let _ = write!(
                        self.scratch,
                        "{{\"stream_id\":{stream_id},\"length\":{len},\"frame\":{{\"frame_type\":\"{}\"}}}}",
                        frame_name(ty)
                    );
                    self.file.event(now, name, &self.scratch);
                }
            }
        }
    }

    /// The connection ended: what is buffered goes to the file.
    pub(crate) fn flush(&self) {
        self.file.flush();
    }
}

/// Takes one varint from `pending` + `data`; `None` (with the bytes kept in `pending`)
/// while incomplete.
fn take_varint(pending: &mut Vec<u8>, data: &mut &[u8]) -> Option<u64> {
    while pending.len() < 8 && !data.is_empty() {
        pending.push(data[0]);
        *data = &data[1..];
        if let Ok((value, used)) = varint::decode(pending) {
            debug_assert_eq!(used, pending.len());
            pending.clear();
            return Some(value);
        }
    }
    None
}

/// Takes a frame header (type and length varints).
fn take_frame_header(pending: &mut Vec<u8>, data: &mut &[u8]) -> Option<(u64, u64)> {
    while pending.len() < 16 && !data.is_empty() {
        pending.push(data[0]);
        *data = &data[1..];
        if let Ok((ty, a)) = varint::decode(pending)
            && let Ok((len, b)) = varint::decode(&pending[a..])
        {
            debug_assert_eq!(a + b, pending.len());
            pending.clear();
            return Some((ty, len));
        }
    }
    None
}

/// The qlog name of an HTTP/3 frame type.
fn frame_name(ty: u64) -> &'static str {
    match ty {
        frame_type::DATA => "data",
        frame_type::HEADERS => "headers",
        frame_type::CANCEL_PUSH => "cancel_push",
        frame_type::SETTINGS => "settings",
        frame_type::PUSH_PROMISE => "push_promise",
        frame_type::GOAWAY => "goaway",
        frame_type::MAX_PUSH_ID => "max_push_id",
        frame_type::ORIGIN => "origin",
        frame_type::PRIORITY_UPDATE_REQUEST | frame_type::PRIORITY_UPDATE_PUSH => "priority_update",
        t if t >= 0x21 && (t - 0x21) % 0x1f == 0 => "reserved",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap_into(dir: &Path) -> (H3Tap, PathBuf) {
        let qlog = QlogDir::new(dir.to_path_buf(), false);
        let (file, _stream) = qlog.open(Instant::now(), 42).unwrap();
        (H3Tap::new(file, true), dir.join("client-1-42.sqlog"))
    }

    #[test]
    fn frames_are_found_across_any_split() {
        let dir = std::env::temp_dir().join(format!("h3q-qlog-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (mut tap, path) = tap_into(&dir);
        // A control stream: type, SETTINGS (2 bytes), GOAWAY (1 byte); a request stream:
        // HEADERS of 3 bytes, DATA of 300 (two-byte length). Fed one byte at a time.
        let control = [0x00, 0x04, 0x02, 0x01, 0x00, 0x07, 0x01, 0x00];
        let mut request = vec![0x01, 0x03, 1, 2, 3, 0x00, 0x41, 0x2c];
        request.extend(std::iter::repeat_n(0u8, 300));
        let now = Instant::now();
        for b in control {
            tap.bytes(now, 2, true, &[b]);
        }
        for b in &request {
            tap.bytes(now, 0, false, std::slice::from_ref(b));
        }
        tap.flush();
        drop(tap);
        let text = std::fs::read_to_string(&path).unwrap();
        let ours: Vec<&str> = text
            .split('\u{1e}')
            .filter(|r| r.contains("http:"))
            .collect();
        assert_eq!(ours.len(), 5, "{text}");
        assert!(ours[0].contains("\"stream_type\":\"control\""));
        assert!(ours[1].contains("frame_created") && ours[1].contains("\"settings\""));
        assert!(ours[2].contains("\"goaway\"") && ours[2].contains("\"length\":1"));
        assert!(ours[3].contains("frame_parsed") && ours[3].contains("\"headers\""));
        assert!(ours[4].contains("\"data\"") && ours[4].contains("\"length\":300"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_bad_dir_is_refused_with_the_reason() {
        let missing = Path::new("/nonexistent/h3q-qlog");
        assert!(
            check_dir(missing)
                .unwrap_err()
                .message()
                .contains("qlog dir")
        );
        let file = std::env::temp_dir().join(format!("h3q-qlog-file-{}", std::process::id()));
        std::fs::write(&file, b"").unwrap();
        assert!(
            check_dir(&file)
                .unwrap_err()
                .message()
                .contains("not a directory")
        );
        let _ = std::fs::remove_file(file);
    }
}
