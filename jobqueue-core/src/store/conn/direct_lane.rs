//! The direct lane: one plain connection for a producer's single awaited
//! commands whose reply is one line (an integer, status or error).
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

/// Longest reply line accepted (one-line replies are short; an error
/// message is at most a few hundred bytes).
const MAX_REPLY_LINE: usize = 64 * 1024;

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

    /// Runs `cmd`, whose reply must be a single line. `Ok(None)` when the
    /// lane is busy or cannot connect now: nothing was sent, use the shared
    /// connection.
    pub(crate) async fn query_line(&self, cmd: &Cmd) -> Result<Option<Value>, RedisError> {
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

    /// Sends the packed command and reads one reply line.
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
        self.read_line().await.map_err(LaneError::Failed)
    }

    async fn read_line(&mut self) -> Result<Value, RedisError> {
        self.buffer.clear();
        let mut chunk = [0u8; 256];
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                if end + 2 != self.buffer.len() {
                    return Err(protocol_error("more than one reply line"));
                }
                return match self.buffer.first() {
                    Some(b':' | b'+' | b'-') => redis::parse_redis_value(&self.buffer),
                    _ => Err(protocol_error("a multi-line reply")),
                };
            }
            if self.buffer.len() > MAX_REPLY_LINE {
                return Err(protocol_error("an overlong reply line"));
            }
            let read = self.stream.read(&mut chunk).await?;
            if read == 0 {
                return Err(closed_error());
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
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
