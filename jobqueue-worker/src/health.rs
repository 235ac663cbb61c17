//! An optional HTTP endpoint for orchestrators (feature `health`):
//! `GET /livez` and `GET /readyz`, e.g. Kubernetes liveness and readiness
//! probes.
//!
//! * `/livez` answers `200 ok` while the worker's runtime is alive (a hung
//!   process stops answering and gets restarted).
//! * `/readyz` answers `200 ready` while the worker fetches jobs and its
//!   last heartbeat reached Redis recently (within two heartbeat intervals
//!   plus a second); `503` with the reason once shutdown began or Redis is
//!   unreachable.
//!
//! A deliberately tiny HTTP/1.1 responder (one request per connection, no
//! body parsing): it needs no web framework and cannot be used to reach
//! anything else in the process.

#[cfg(feature = "health")]
pub(crate) use probe_server::start;

#[cfg(feature = "health")]
mod probe_server {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use crate::state::shared::Shared;

    /// Binds and starts the endpoint when `addr` is set; returns the bound
    /// address (port 0 picks a free one).
    pub(crate) async fn start(
        addr: Option<SocketAddr>,
        background: &tokio_util::task::TaskTracker,
        shared: &Arc<Shared>,
    ) -> Result<Option<SocketAddr>, crate::error::WorkerError> {
        let Some(addr) = addr else {
            return Ok(None);
        };
        let (bound, listener) = bind(addr).await.map_err(|e| {
            crate::error::WorkerError::Config(format!(
                "cannot listen for health probes on {addr}: {e}"
            ))
        })?;
        background.spawn(serve(listener, shared.clone()));
        tracing::info!(addr = %bound, "health endpoint listening");
        Ok(Some(bound))
    }

    /// Binds `addr`; returns the bound address and the listener.
    async fn bind(addr: SocketAddr) -> std::io::Result<(SocketAddr, TcpListener)> {
        let listener = TcpListener::bind(addr).await?;
        Ok((listener.local_addr()?, listener))
    }

    /// Answers probes until the background stop token fires.
    async fn serve(listener: TcpListener, shared: Arc<Shared>) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let shared = shared.clone();
                        tokio::spawn(async move {
                            if let Err(err) = answer(stream, &shared).await {
                                tracing::debug!(error = %err, "health probe connection failed");
                            }
                        });
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "health endpoint could not accept");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                () = shared.stop_background.cancelled() => return,
            }
        }
    }

    async fn answer(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
        let mut request = [0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut request))
            .await
            .unwrap_or(Ok(0))?;
        let line = std::str::from_utf8(&request[..read]).unwrap_or("");
        let path = line.split_whitespace().nth(1).unwrap_or("");
        let (status, body) = match path {
            "/livez" => ("200 OK", "ok\n".to_owned()),
            "/readyz" => match not_ready_reason(shared) {
                None => ("200 OK", "ready\n".to_owned()),
                Some(reason) => ("503 Service Unavailable", format!("{reason}\n")),
            },
            _ => ("404 Not Found", "try /livez or /readyz\n".to_owned()),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    }

    /// Why the worker should not count as ready, if it should not.
    fn not_ready_reason(shared: &Shared) -> Option<String> {
        if shared.stop_fetching.is_cancelled() {
            return Some("shutting down".to_owned());
        }
        let last_beat_ms = shared.last_beat_ok_ms.load(Ordering::Relaxed);
        let age_ms = chrono::Utc::now().timestamp_millis() - last_beat_ms;
        let limit_ms = 2 * shared.config.heartbeat_interval.as_millis() as i64 + 1000;
        (age_ms > limit_ms).then(|| format!("no heartbeat reached Redis for {age_ms} ms"))
    }
}

/// Without the `health` feature no endpoint can be asked for (the builder
/// method is gated), so there is nothing to start.
#[cfg(not(feature = "health"))]
pub(crate) async fn start(
    _addr: Option<std::net::SocketAddr>,
    _background: &tokio_util::task::TaskTracker,
    _shared: &std::sync::Arc<crate::state::shared::Shared>,
) -> Result<Option<std::net::SocketAddr>, crate::error::WorkerError> {
    Ok(None)
}
