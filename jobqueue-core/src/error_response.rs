//! [`Error`] as an axum response (feature `axum`), so a handler that
//! enqueues can return `Result<_, jobqueue::Error>` and use `?`.
//!
//! The status says what the caller can do: 503 with `Retry-After` when
//! Redis could not be reached or the outcome is unknown (try again — with
//! the same job id, see [`crate::JobBuilder::id`]), 400 for an invalid
//! argument, 404 and 409 for a missing or conflicting job, 500 otherwise.
//! The body is a short fixed text: the error itself, which may name keys or
//! addresses, goes to the log (`tracing`), never to the client.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{Error, ErrorKind};

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let kind = self.kind();
        let (status, text) = match kind {
            ErrorKind::Unavailable | ErrorKind::OutcomeUnknown => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the job queue is unavailable; try again",
            ),
            ErrorKind::InvalidArgument => (StatusCode::BAD_REQUEST, "invalid job"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "no such job"),
            ErrorKind::Conflict => (
                StatusCode::CONFLICT,
                "the job conflicts with its current state",
            ),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "job queue error"),
        };
        if status.is_server_error() {
            tracing::error!(error = %self, ?kind, "request failed on the job queue");
        } else {
            tracing::debug!(error = %self, ?kind, "request refused by the job queue");
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, [(header::RETRY_AFTER, "1")], text).into_response();
        }
        (status, text).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use crate::error::Error;

    #[test]
    fn each_kind_answers_with_the_status_a_caller_can_act_on() {
        let unavailable = Error::Redis {
            op: "enqueue",
            source: redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            )),
        };
        let response = unavailable.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        let invalid = Error::InvalidArgument {
            op: "enqueue",
            message: "bad queue".into(),
        };
        assert_eq!(invalid.into_response().status(), StatusCode::BAD_REQUEST);
    }
}
