//! A queue's live lifecycle events as Server-Sent Events:
//! `GET /queues/{queue}/events`. Each event is `event: <kind>`, `id:
//! <event id>` and `data: <the JobEvent as JSON>`; a reconnecting browser
//! sends `Last-Event-ID` and resumes after it (or pass `?after=<id>`, or
//! `?from=oldest` for every event kept; by default, from the newest event
//! when the request came, fixed before the headers are sent). A miss (the stream no longer
//! holds the event resumed from) is an `event: missed`.
//!
//! Reading is the polled, non-blocking read of
//! `jobqueue_core::client::events`; at most [`MAX_EVENT_READERS`] streams
//! are served at once per dashboard (429 beyond). The read-only role may
//! watch: nothing changes.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::{Stream, StreamExt};
use jobqueue_core::ErrorKind;
use jobqueue_core::admin::{EventId, EventStart};
use jobqueue_core::client::events::event_stream;

use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;

/// Most event streams one dashboard serves at once.
pub(crate) const MAX_EVENT_READERS: usize = 64;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/queues/{queue}/events", get(events))
}

fn start(params: &Params, headers: &HeaderMap) -> Result<EventStart, ApiError> {
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .or(params.get("after"));
    if let Some(id) = resume {
        let id: EventId = id
            .parse()
            .map_err(|_| ApiError::bad_request(format!("not an event id: {id:?}")))?;
        return Ok(EventStart::After(id));
    }
    match params.get("from") {
        None | Some("now") => Ok(EventStart::Now),
        Some("oldest") => Ok(EventStart::Oldest),
        Some(other) => Err(ApiError::bad_request(format!(
            "from must be now or oldest, not {other:?}"
        ))),
    }
}

async fn events(
    State(state): State<Arc<AppState>>,
    Path(queue): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let queue = state.known_queue(&queue).await?;
    let start = match start(&Params::parse(query.as_deref()), &headers)? {
        // "Now" is fixed before the response starts: a client that has
        // the headers misses nothing that happens after them.
        EventStart::Now => state
            .admin
            .events_after(&queue, EventStart::Now, 1)
            .await?
            .next
            .map_or(EventStart::Oldest, EventStart::After),
        start => start,
    };
    let permit = state
        .event_readers
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::too_many_requests(format!(
                "{MAX_EVENT_READERS} event streams are open on this dashboard already"
            ))
        })?;
    let stream = event_stream(state.admin.clone(), &queue, start).map(move |item| {
        // The permit is held as long as the stream lives.
        let _held = &permit;
        Ok(match item {
            Ok(event) => Event::default()
                .event(event.kind.name())
                .id(event.id.to_string())
                .json_data(&event)
                .unwrap_or_else(|_| Event::default().event("error").data("unencodable event")),
            Err(err) if err.kind() == ErrorKind::NotFound => {
                Event::default().event("missed").data(err.to_string())
            }
            Err(err) => {
                tracing::warn!(error = %err, "event stream read failed");
                Event::default()
                    .event("error")
                    .data("reading events failed; retrying")
            }
        })
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
