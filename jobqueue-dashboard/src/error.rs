//! Errors as JSON with a status code: 400 bad input, 401/403 auth, 404
//! unknown job or queue, 409 conflict, 503 Redis unavailable. Nothing the
//! caller sends can produce a 500. Every error has the same shape,
//! `{"error": "<message>", "status": <code>}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jobqueue_core::ErrorKind;
use jobqueue_core::admin::RefusalReason;
use serde::Serialize;

/// An error answered to an HTTP caller.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The status code.
    pub status: StatusCode,
    /// A message for a person.
    pub message: String,
    /// Why the request was refused, when it was a refusal the audit log
    /// records (it rides on the response to the authentication layer).
    pub refusal: Option<RefusalReason>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    status: u16,
}

impl ApiError {
    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 429: the dashboard serves as many of these at once as it will.
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, message)
    }

    /// 403 with `message`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// A refusal the audit log records: 401 for
    /// [`RefusalReason::Unauthenticated`], else 403.
    pub fn refused(reason: RefusalReason, message: impl Into<String>) -> Self {
        let status = match reason {
            RefusalReason::Unauthenticated => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        Self {
            refusal: Some(reason),
            ..Self::new(status, message)
        }
    }

    /// 404 for a job the operator API does not find by id: only
    /// scheduled, retrying, dead, waiting, cancelled and expired jobs are
    /// indexed by id.
    pub fn job_not_found(id: uuid::Uuid) -> Self {
        Self::not_found(format!(
            "no scheduled, retrying, dead, waiting, cancelled or expired job {id} (it may be ready, \
             running, finished or unknown)"
        ))
    }

    /// Any status with `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            refusal: None,
        }
    }
}

impl From<jobqueue_core::Error> for ApiError {
    fn from(err: jobqueue_core::Error) -> Self {
        let status = match err.kind() {
            ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Unavailable | ErrorKind::OutcomeUnknown => StatusCode::SERVICE_UNAVAILABLE,
            _ => {
                tracing::warn!(error = %err, "operator API call failed");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        Self::new(status, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: &self.message,
                status: self.status.as_u16(),
            }),
        )
            .into_response();
        if let Some(reason) = self.refusal {
            response.extensions_mut().insert(reason);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"jobqueue\", charset=\"UTF-8\""),
            );
        }
        response
    }
}
