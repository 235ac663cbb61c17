//! [`OperatorForm`], the one extractor every form handler takes. It does
//! what each of them needs before it acts:
//!
//! - the caller, as authentication attached them (the CSRF layer already
//!   refused anyone who is not an operator, or whose form lacks their
//!   token; the action checks the role once more);
//! - the form body's fields (400 when the body is not UTF-8);
//! - the handler's own inputs from the path and the fields, parsed by its
//!   [`FormInput`] type before anything is read from Redis;
//! - the queue the path names, checked to be a known one (404 otherwise).
//!
//! [`OperatorForm::back`] then sends the browser back to a page with the
//! action's result (`?done=<action>&n=<count>`, which the page shows).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ApiError;
use crate::params::Params;
use crate::security::principal::Principal;
use crate::state::AppState;

/// What a form handler takes from its path and its fields.
pub(crate) trait FormInput: Sized {
    /// False when the path's `{queue}` need not be a known queue (a cron
    /// entry's queue may have had no job yet).
    const KNOWN_QUEUE: bool = true;

    /// The inputs from the path's segments and the form's fields, or a 4xx
    /// naming what is wrong.
    fn parse(path: &PathSegments, fields: &Params) -> Result<Self, ApiError>;
}

/// A form with no inputs besides its queue.
impl FormInput for () {
    fn parse(_: &PathSegments, _: &Params) -> Result<Self, ApiError> {
        Ok(())
    }
}

/// The named segments of a route's path (`{queue}`, `{id}`, ...),
/// percent-decoded.
pub(crate) struct PathSegments(HashMap<String, String>);

impl PathSegments {
    /// The segment `name` (empty when the route has none).
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

/// A form post from an operator, ready to act on.
pub(crate) struct OperatorForm<I> {
    /// The dashboard's state.
    pub(crate) state: Arc<AppState>,
    /// Who posted it.
    pub(crate) who: Principal,
    /// The path's queue: a known queue unless [`FormInput::KNOWN_QUEUE`]
    /// is false.
    pub(crate) queue: String,
    /// The handler's own inputs.
    pub(crate) input: I,
}

impl<I: FormInput + Send> FromRequest<Arc<AppState>> for OperatorForm<I> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Extension(who) = Extension::<Principal>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(segments) = Path::<HashMap<String, String>>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields = form_fields(&body).map_err(IntoResponse::into_response)?;
        let path = PathSegments(segments);
        let input = I::parse(&path, &fields).map_err(IntoResponse::into_response)?;
        let queue = if I::KNOWN_QUEUE {
            state
                .known_queue(path.get("queue"))
                .await
                .map_err(IntoResponse::into_response)?
        } else {
            path.get("queue").to_owned()
        };
        Ok(Self {
            state: state.clone(),
            who,
            queue,
            input,
        })
    }
}

impl<I> OperatorForm<I> {
    /// A 303 to the page at `path` (under the mount point) that tells it
    /// what was done: `?done=<action>&n=<count>`.
    pub(crate) fn back(&self, path: &str, action: &str, count: u64) -> Redirect {
        let to = self.state.link(path);
        let sep = if to.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{to}{sep}done={action}&n={count}"))
    }
}

/// The fields of an urlencoded form body.
fn form_fields(body: &Bytes) -> Result<Params, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("form body is not UTF-8"))?;
    Ok(Params::parse(Some(text)))
}
