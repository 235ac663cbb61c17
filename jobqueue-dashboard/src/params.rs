//! Reading query strings, form bodies and JSON bodies by hand, so every
//! bad value gets a 400 with a message naming the parameter (axum's own
//! extractors answer in plain text).

use jobqueue_core::admin::{DEFAULT_SEARCH_BUDGET, MAX_PAGE_SIZE, MAX_SEARCH_BUDGET, SearchQuery};
use jobqueue_core::{BrowseState, JobFilter, WorkflowState};
use uuid::Uuid;

use crate::error::ApiError;

/// Default page size of listings.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 50;

/// Longest accepted filter text.
const MAX_FILTER_LEN: usize = 500;

/// Name/value pairs of a query string or an urlencoded form body.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2` (a missing query is empty).
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, when present and non-empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The names given, in order (repeats included).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An unsigned number, or `default` when absent.
    pub(crate) fn number(&self, name: &str, default: u64) -> Result<u64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "parameter {name:?} must be a non-negative whole number, got {text:?}"
                ))
            }),
        }
    }

    /// The page size: `limit`, default 50, capped at 1000; 0 is refused.
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        let limit = self.number("limit", DEFAULT_PAGE_SIZE as u64)?;
        if limit == 0 {
            return Err(ApiError::bad_request(
                "parameter \"limit\" must be at least 1",
            ));
        }
        Ok(usize::try_from(limit)
            .unwrap_or(MAX_PAGE_SIZE)
            .min(MAX_PAGE_SIZE))
    }

    /// The workflow list's filters: `state` (a [`WorkflowState`] name)
    /// and `name` (a part of the workflow's name); `queue` is checked by
    /// the caller against the known queues.
    pub(crate) fn workflow_filter(
        &self,
    ) -> Result<(Option<WorkflowState>, Option<String>), ApiError> {
        let state = match self.get("state") {
            None => None,
            Some(text) => Some(WorkflowState::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "parameter \"state\" must be incomplete, running, succeeded, failed or cancelled, got {text:?}"
                ))
            })?),
        };
        let name = self.get("name").map(str::to_owned);
        if name.as_ref().is_some_and(|n| n.len() > 128) {
            return Err(ApiError::bad_request(
                "parameter \"name\" must be at most 128 bytes",
            ));
        }
        Ok((state, name))
    }

    /// The listing filter: `type`, `error`, `fingerprint`.
    pub(crate) fn filter(&self) -> Result<JobFilter, ApiError> {
        let text = |name: &str| -> Result<Option<String>, ApiError> {
            match self.get(name) {
                Some(v) if v.len() > MAX_FILTER_LEN => Err(ApiError::bad_request(format!(
                    "parameter {name:?} is longer than {MAX_FILTER_LEN} bytes"
                ))),
                v => Ok(v.map(str::to_owned)),
            }
        };
        Ok(JobFilter {
            job_type: text("type")?,
            error_contains: text("error")?,
            fingerprint: text("fingerprint")?,
        })
    }
}

/// The parameters a search is given by (and the values of `by`).
pub(crate) const SEARCH_KINDS: [&str; 5] = ["tag", "id", "type", "batch", "field"];

impl Params {
    /// True when the request asks for a search (`q`, or one of
    /// [`SEARCH_KINDS`] given).
    pub(crate) fn asks_search(&self) -> bool {
        self.get("q").is_some() || SEARCH_KINDS.iter().any(|k| self.get(k).is_some())
    }

    /// A job search from `tag`, `id`, `type`, `batch` or `field` (exactly
    /// one; the field as `path = value`), with `cursor` and `budget`: 400
    /// otherwise.
    pub(crate) fn search(&self) -> Result<SearchParams, ApiError> {
        let given: Vec<(&str, &str)> = match (self.get("by"), self.get("q")) {
            // The search page's form: `by` names the kind, `q` the value.
            (Some(by), Some(q)) => vec![(by, q)],
            _ => SEARCH_KINDS
                .into_iter()
                .filter_map(|name| {
                    self.get(name)
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (name, v))
                })
                .collect(),
        };
        let [(name, value)] = given[..] else {
            return Err(ApiError::bad_request(
                "give exactly one of the parameters \"tag\", \"id\", \"type\", \"batch\" or \"field\"",
            ));
        };
        let bad = |e: jobqueue_core::Error| ApiError::bad_request(e.to_string());
        let query = match name {
            "tag" => SearchQuery::tag(value),
            "id" => SearchQuery::id(value),
            "type" => SearchQuery::job_type(value),
            "batch" => SearchQuery::batch(value),
            "field" => SearchQuery::field(value),
            other => {
                return Err(ApiError::bad_request(format!(
                    "search by {other:?}: use tag, id, type, batch or field"
                )));
            }
        }
        .map_err(bad)?;
        let cursor = self
            .get("cursor")
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        if cursor.as_ref().is_some_and(|c| c.len() > 64) {
            return Err(ApiError::bad_request(
                "parameter \"cursor\" is not one a search returned",
            ));
        }
        let budget = self.number("budget", DEFAULT_SEARCH_BUDGET as u64)?;
        if budget == 0 || budget > MAX_SEARCH_BUDGET as u64 {
            return Err(ApiError::bad_request(format!(
                "parameter \"budget\" must be 1-{MAX_SEARCH_BUDGET}"
            )));
        }
        Ok(SearchParams {
            query,
            field: (name.to_owned(), value.to_owned()),
            cursor,
            limit: self.limit()?,
            budget: usize::try_from(budget).unwrap_or(MAX_SEARCH_BUDGET),
        })
    }
}

/// A checked job search (see [`Params::search`]).
#[derive(Debug, Clone)]
pub(crate) struct SearchParams {
    /// What to look for.
    pub(crate) query: SearchQuery,
    /// The parameter it came from and its text (to link the next page).
    pub(crate) field: (String, String),
    /// Where to continue.
    pub(crate) cursor: Option<String>,
    /// Hits per page.
    pub(crate) limit: usize,
    /// Stored jobs a scan page reads at most.
    pub(crate) budget: usize,
}

/// A job id from a path or form.
pub(crate) fn job_id(text: &str) -> Result<Uuid, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{text:?} is not a job id (a UUID)")))
}

/// A job state from a path.
pub(crate) fn state(text: &str) -> Result<BrowseState, ApiError> {
    BrowseState::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A queue name from a path, checked to be one the dashboard knows.
pub(crate) fn queue(text: &str, known: &[String]) -> Result<String, ApiError> {
    jobqueue_core::store::keys::validate_queue_name(text)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if known.iter().any(|q| q == text) {
        Ok(text.to_owned())
    } else {
        Err(ApiError::not_found(format!("no queue named {text:?}")))
    }
}

/// A JSON request body as `T`, or 400 saying why it is not one.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
