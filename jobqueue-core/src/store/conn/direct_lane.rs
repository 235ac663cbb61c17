//! The direct lane: one plain connection for a producer's single awaited
//! commands with short replies (a line — an integer, status or error — or
//! a small array, such as `enqueue_idempotent.lua`'s `{status, id}`).
//!
//! The shared multiplexed connection hands every command to a driver task
//! through a channel and the reply back through another; that driver only
//! reads the socket after the runtime's poller reported it readable. For a
//! caller that awaits one command at a time (a web request enqueueing a
//! job), that costs two extra poller wake-ups and ~10 µs of CPU per
//! command: 25–30% of a loopback round trip (docs/benchmarks.md, w2
//! single). The lane writes the command and reads the reply itself, on the
//! caller's task, trying the read before waiting for readiness, which is
//! what `redis-benchmark -c 1` does.
//!
//! The lane never makes a caller wait for another: it is taken with
//! `try_lock`, and a caller that finds it busy (or unusable: Redis down, a
//! failed handshake) gets `None` and uses the shared connection, which
//! pipelines concurrent commands. After a failed connect the lane is not
//! tried again for [`RETRY_AFTER`], so an outage costs nothing extra.
//!
//! Only plain-TCP single-server URLs get a lane (no TLS, unix socket,
//! cluster or Sentinel). It authenticates and selects the database like
//! the shared connection, speaking RESP2, and names itself
//! `jobqueue-direct` in `CLIENT LIST`.

use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use redis::{Cmd, ConnectionAddr, ConnectionInfo, RedisError, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::store::conn::settings::ConnectionSettings;

/// How long a lane that failed to connect is left alone.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Longest reply accepted, bytes (the lane's replies are short: a line, or
/// a script's few-element array; an error message is at most a few
/// hundred bytes).
const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Deepest nesting of arrays accepted in a reply.
const MAX_REPLY_DEPTH: usize = 4;

/// Where and how the lane connects.
#[derive(Debug, Clone)]
struct LaneTarget {
    host: String,
    port: u16,
    username: Option<String>,
    password: Option<String>,
    db: i64,
}

/// One plain connection used by one caller at a time (see the module docs).
#[derive(Debug)]
pub(crate) struct DirectLane {
    target: LaneTarget,
    settings: ConnectionSettings,
    state: Mutex<LaneState>,
}

#[derive(Debug, Default)]
struct LaneState {
    stream: Option<LaneStream>,
    /// No connect attempt before this instant (set after a failure).
    retry_at: Option<Instant>,
}

#[derive(Debug)]
struct LaneStream {
    stream: TcpStream,
    /// Bytes read but not yet consumed (a reply line in the making).
    buffer: Vec<u8>,
    /// The packed command being sent (reused between calls).
    packed: Vec<u8>,
}

/// Why a lane call did not produce a reply.
#[derive(Debug)]
pub(crate) enum LaneError {
    /// Nothing was sent: the caller should use the shared connection.
    NotSent,
    /// The command may have reached Redis; its outcome is unknown.
    Failed(RedisError),
}

impl DirectLane {
    /// A lane for `info`, or `None` when its address is not plain TCP.
    pub(crate) fn for_connection(
        info: &ConnectionInfo,
        settings: ConnectionSettings,
    ) -> Option<Self> {
        let ConnectionAddr::Tcp(host, port) = info.addr() else {
            return None;
        };
        let redis = info.redis_settings();
        Some(Self {
            target: LaneTarget {
                host: host.clone(),
                port: *port,
                username: redis.username().map(str::to_owned),
                password: redis.password().map(str::to_owned),
                db: redis.db(),
            },
            settings,
            state: Mutex::new(LaneState::default()),
        })
    }

    /// Runs `cmd`, whose reply must be short (at most 64 KiB). `Ok(None)`
    /// when the lane is busy or cannot connect now: nothing was sent, use
    /// the shared connection.
    pub(crate) async fn query(&self, cmd: &Cmd) -> Result<Option<Value>, RedisError> {
        let Ok(mut state) = self.state.try_lock() else {
            return Ok(None);
        };
        if state.stream.is_none() {
            if state.retry_at.is_some_and(|at| Instant::now() < at) {
                return Ok(None);
            }
            match self.connect().await {
                Ok(stream) => {
                    state.retry_at = None;
                    state.stream = Some(stream);
                }
                Err(error) => {
                    tracing::debug!(%error, "direct lane: connect failed, using the shared connection");
                    state.retry_at = Some(Instant::now() + RETRY_AFTER);
                    return Ok(None);
                }
            }
        }
        if state
            .stream
            .as_ref()
            .is_some_and(LaneStream::closed_by_peer)
        {
            // Redis closed it while the lane was idle (a restart, a
            // `CLIENT KILL`, an idle timeout): nothing is sent on it.
            state.stream = None;
            return Ok(None);
        }
        let Some(stream) = state.stream.as_mut() else {
            return Ok(None);
        };
        stream.packed.clear();
        cmd.write_packed_command(&mut stream.packed);
        let outcome =
            tokio::time::timeout(self.settings.response_timeout, stream.round_trip()).await;
        match outcome {
            Ok(Ok(value)) => Ok(Some(value)),
            Ok(Err(LaneError::NotSent)) => {
                state.stream = None;
                Ok(None)
            }
            Ok(Err(LaneError::Failed(error))) => {
                state.stream = None;
                Err(error)
            }
            Err(_elapsed) => {
                state.stream = None;
                Err(timeout_error())
            }
        }
    }

    async fn connect(&self) -> Result<LaneStream, RedisError> {
        let address = (self.target.host.as_str(), self.target.port);
        let stream =
            tokio::time::timeout(self.settings.connect_timeout, TcpStream::connect(address))
                .await
                .map_err(|_elapsed| timeout_error())??;
        stream.set_nodelay(true)?;
        let mut lane = LaneStream {
            stream,
            buffer: Vec::with_capacity(64),
            packed: Vec::with_capacity(512),
        };
        let mut handshake = Vec::new();
        if let Some(password) = &self.target.password {
            let mut auth = redis::cmd("AUTH");
            if let Some(username) = &self.target.username {
                auth.arg(username);
            }
            handshake.push(auth.arg(password).clone());
        }
        if self.target.db != 0 {
            handshake.push(redis::cmd("SELECT").arg(self.target.db).clone());
        }
        // Named for `CLIENT LIST`; an ACL that forbids naming is no reason
        // to give up the lane, so its refusal is ignored.
        let naming = redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg("jobqueue-direct")
            .clone();
        let naming_index = handshake.len();
        handshake.push(naming);
        for (index, cmd) in handshake.into_iter().enumerate() {
            lane.packed.clear();
            cmd.write_packed_command(&mut lane.packed);
            let reply = tokio::time::timeout(self.settings.response_timeout, lane.round_trip())
                .await
                .map_err(|_elapsed| timeout_error())?;
            match reply {
                Ok(value) => {
                    if let Err(error) = value.extract_error()
                        && index != naming_index
                    {
                        return Err(error);
                    }
                }
                Err(LaneError::NotSent) => return Err(closed_error()),
                Err(LaneError::Failed(error)) => return Err(error),
            }
        }
        Ok(lane)
    }
}

impl LaneStream {
    /// Whether the runtime's poller has seen Redis close the connection.
    /// Reads the cached readiness only: no system call.
    fn closed_by_peer(&self) -> bool {
        let mut ready = std::pin::pin!(self.stream.ready(Interest::READABLE));
        let mut context = Context::from_waker(Waker::noop());
        match ready.as_mut().poll(&mut context) {
            Poll::Ready(Ok(readiness)) => readiness.is_read_closed(),
            Poll::Ready(Err(_)) => true,
            Poll::Pending => false,
        }
    }

    /// Sends the packed command and reads its reply.
    async fn round_trip(&mut self) -> Result<Value, LaneError> {
        if let Err(error) = self.stream.write_all(&self.packed).await {
            // A write to a connection that Redis closed while the lane
            // was idle fails before anything was delivered.
            return Err(if is_stale_connection(&error) {
                LaneError::NotSent
            } else {
                LaneError::Failed(error.into())
            });
        }
        self.read_reply().await.map_err(LaneError::Failed)
    }

    /// Reads one whole RESP2 reply (tried before waiting for readiness).
    async fn read_reply(&mut self) -> Result<Value, RedisError> {
        self.buffer.clear();
        let mut chunk = [0u8; 256];
        loop {
            if let Some(end) = reply_end(&self.buffer, 0, 0).map_err(protocol_error)? {
                if end != self.buffer.len() {
                    return Err(protocol_error("more than one reply"));
                }
                return match decode_reply(&self.buffer, 0).map_err(protocol_error)? {
                    Some((value, _end)) => Ok(value),
                    // A reply holding an error: redis-rs reads it, so its
                    // kind (NOSCRIPT, a script's error) is what the shared
                    // connection would report.
                    None => redis::parse_redis_value(&self.buffer),
                };
            }
            if self.buffer.len() > MAX_REPLY_BYTES {
                return Err(protocol_error("an overlong reply"));
            }
            let read = self.stream.read(&mut chunk).await?;
            if read == 0 {
                return Err(closed_error());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

/// Where the RESP2 reply starting at `start` in `buffer` ends (one past
/// its last byte), `None` when more bytes are needed. Knows the reply
/// types Redis sends in RESP2: lines (`+`, `-`, `:`), bulk strings (`$`)
/// and arrays (`*`, nested at most [`MAX_REPLY_DEPTH`] deep).
fn reply_end(buffer: &[u8], start: usize, depth: usize) -> Result<Option<usize>, &'static str> {
    let Some(rest) = buffer.get(start..) else {
        return Ok(None);
    };
    let Some(line_len) = rest.windows(2).position(|pair| pair == b"\r\n") else {
        return Ok(None);
    };
    let after_line = start + line_len + 2;
    let length = |header: &[u8]| -> Result<i64, &'static str> {
        std::str::from_utf8(header)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or("a malformed length")
    };
    match rest.first() {
        Some(b'+' | b'-' | b':') => Ok(Some(after_line)),
        Some(b'$') => match usize::try_from(length(&rest[1..line_len])?) {
            // `$-1`: a nil bulk string.
            Err(_) => Ok(Some(after_line)),
            Ok(len) if len > MAX_REPLY_BYTES => Err("an overlong reply"),
            Ok(len) => {
                let end = after_line + len + 2;
                Ok((buffer.len() >= end).then_some(end))
            }
        },
        Some(b'*') => {
            if depth >= MAX_REPLY_DEPTH {
                return Err("a reply nested too deep");
            }
            let Ok(count) = usize::try_from(length(&rest[1..line_len])?) else {
                // `*-1`: a nil array.
                return Ok(Some(after_line));
            };
            if count > MAX_REPLY_BYTES / 4 {
                return Err("an overlong reply");
            }
            let mut at = after_line;
            for _ in 0..count {
                match reply_end(buffer, at, depth + 1)? {
                    Some(end) => at = end,
                    None => return Ok(None),
                }
            }
            Ok(Some(at))
        }
        _ => Err("an unknown reply type"),
    }
}

/// The value of the whole RESP2 reply starting at `start` in `buffer`
/// (which [`reply_end`] found complete and within its limits), and where
/// it ends; `None` when it is or holds an error. A direct reader of the
/// few reply types the lane gets: redis-rs's general parser costs ~10,000
/// instructions per reply, as much as the rest of a single enqueue's
/// client side (docs/benchmarks.md, "Idempotent single enqueue").
fn decode_reply(buffer: &[u8], start: usize) -> Result<Option<(Value, usize)>, &'static str> {
    const TRUNCATED: &str = "a truncated reply";
    let rest = buffer.get(start..).ok_or(TRUNCATED)?;
    let line_len = rest
        .windows(2)
        .position(|pair| pair == b"\r\n")
        .ok_or(TRUNCATED)?;
    let line = rest.get(1..line_len).ok_or(TRUNCATED)?;
    let after_line = start + line_len + 2;
    let number = |line: &[u8]| -> Result<i64, &'static str> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or("a malformed number")
    };
    let value = match rest.first() {
        Some(b'-') => return Ok(None),
        Some(b':') => Value::Int(number(line)?),
        Some(b'+') => match std::str::from_utf8(line) {
            Ok("OK") => Value::Okay,
            Ok(text) => Value::SimpleString(text.to_owned()),
            Err(_) => return Err("a malformed line"),
        },
        Some(b'$') => match usize::try_from(number(line)?) {
            // `$-1`: a nil bulk string.
            Err(_) => Value::Nil,
            Ok(len) => {
                let bytes = buffer.get(after_line..after_line + len).ok_or(TRUNCATED)?;
                return Ok(Some((
                    Value::BulkString(bytes.to_vec()),
                    after_line + len + 2,
                )));
            }
        },
        Some(b'*') => match usize::try_from(number(line)?) {
            // `*-1`: a nil array.
            Err(_) => Value::Nil,
            Ok(count) => {
                let mut items = Vec::with_capacity(count);
                let mut at = after_line;
                for _ in 0..count {
                    let Some((item, end)) = decode_reply(buffer, at)? else {
                        return Ok(None);
                    };
                    items.push(item);
                    at = end;
                }
                return Ok(Some((Value::Array(items), at)));
            }
        },
        _ => return Err("an unknown reply type"),
    };
    Ok(Some((value, after_line)))
}

fn is_stale_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::NotConnected
    )
}

fn timeout_error() -> RedisError {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "direct lane: no reply in time",
    )
    .into()
}

fn closed_error() -> RedisError {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "direct lane: Redis closed the connection",
    )
    .into()
}

fn protocol_error(what: &'static str) -> RedisError {
    RedisError::from((
        redis::ErrorKind::Parse,
        "direct lane: unexpected reply",
        what.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_their_crlf() {
        assert_eq!(reply_end(b":12\r\n", 0, 0), Ok(Some(5)));
        assert_eq!(reply_end(b"+OK\r\n", 0, 0), Ok(Some(5)));
        assert_eq!(
            reply_end(b"-NOSCRIPT No matching script\r\n", 0, 0),
            Ok(Some(30))
        );
        assert_eq!(reply_end(b":12\r", 0, 0), Ok(None));
        assert_eq!(reply_end(b"", 0, 0), Ok(None));
    }

    #[test]
    fn arrays_of_bulk_strings_end_after_their_last_element() {
        let reply = b"*2\r\n$8\r\nenqueued\r\n$3\r\nabc\r\n";
        assert_eq!(reply_end(reply, 0, 0), Ok(Some(reply.len())));
        // Every prefix is incomplete, never an error.
        for cut in 0..reply.len() {
            assert_eq!(reply_end(&reply[..cut], 0, 0), Ok(None), "cut at {cut}");
        }
        assert_eq!(reply_end(b"$-1\r\n", 0, 0), Ok(Some(5)));
        assert_eq!(reply_end(b"*-1\r\n", 0, 0), Ok(Some(5)));
        assert_eq!(reply_end(b"*0\r\n", 0, 0), Ok(Some(4)));
        assert_eq!(reply_end(b"*1\r\n*1\r\n:1\r\n", 0, 0), Ok(Some(12)));
    }

    /// Every reply shape the lane reads decodes to what redis-rs's parser
    /// makes of it; errors are left to redis-rs.
    #[test]
    fn replies_decode_as_redis_rs_parses_them() {
        let replies: [&[u8]; 11] = [
            b":12\r\n",
            b":-3\r\n",
            b"+OK\r\n",
            b"+QUEUED\r\n",
            b"$3\r\nabc\r\n",
            b"$0\r\n\r\n",
            b"$-1\r\n",
            b"*-1\r\n",
            b"*0\r\n",
            b"*2\r\n$8\r\nenqueued\r\n$36\r\n0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b\r\n",
            b"*3\r\n:1\r\n*1\r\n$2\r\n\r\n\r\n$-1\r\n",
        ];
        for reply in replies {
            let expected = redis::parse_redis_value(reply).unwrap();
            assert_eq!(
                decode_reply(reply, 0),
                Ok(Some((expected, reply.len()))),
                "{}",
                String::from_utf8_lossy(reply)
            );
        }
        assert_eq!(
            decode_reply(b"-NOSCRIPT No matching script\r\n", 0),
            Ok(None)
        );
        assert_eq!(decode_reply(b"*2\r\n:1\r\n-ERR x\r\n", 0), Ok(None));
        assert!(decode_reply(b":x\r\n", 0).is_err());
        assert!(decode_reply(b"$5\r\nab", 0).is_err());
    }

    #[test]
    fn bad_replies_are_errors() {
        assert!(reply_end(b"?x\r\n", 0, 0).is_err());
        assert!(reply_end(b"$x\r\n", 0, 0).is_err());
        assert!(reply_end(b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 0, 0).is_err());
        assert!(reply_end(b"$99999999\r\n", 0, 0).is_err());
    }
}
