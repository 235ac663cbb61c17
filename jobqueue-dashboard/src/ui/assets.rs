//! Our CSS and script, embedded in the binary: no CDN, no third-party code.
//! They are the same for everyone and hold nothing secret, so they are
//! served without authentication (the sign-in page needs its stylesheet
//! before anyone is signed in).

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const APP_CSS: &str = include_str!("../assets/app.css");
const APP_JS: &str = include_str!("../assets/app.js");

/// `GET /assets/{app.css|app.js}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        _ => return Err(ApiError::not_found("no such asset")),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response())
}
