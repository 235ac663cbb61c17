//! What an operator searches jobs by ([`SearchQuery`]): a tag, a job id or
//! id prefix, a job type, a batch, or a JSON field of the payload
//! (`args.customer_id = 4711`); how each is checked and how a stored
//! record is matched against it.

use serde_json::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::job::tags::validate_tag;
use crate::wire::record::{decode_record, record_id_bytes};

/// The operation search errors name.
const OP: &str = "search";

/// Longest job type or field path searched for, in bytes.
const MAX_SEARCH_TEXT_LEN: usize = 200;

/// Deepest field path (`a.b.c` has three parts).
const MAX_FIELD_DEPTH: usize = 8;

/// One search.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchQuery {
    /// Jobs enqueued with this tag: an index look-up, O(page).
    Tag(String),
    /// The job with this id (lowercase), or the jobs whose id starts with
    /// it: a full id is one look-up; a prefix (or a full id not filed by
    /// id, e.g. a plain job in the ready list) a bounded scan.
    Id(String),
    /// Jobs of this type: a bounded scan.
    JobType(String),
    /// Jobs of this batch (the envelope's `batch`; a batch keeps no key
    /// per job): a bounded scan.
    Batch(Uuid),
    /// Jobs whose payload has `value` at `path` (member names from the
    /// payload's root): a bounded scan.
    Field {
        /// Member names, outermost first.
        path: Vec<String>,
        /// The value looked for (a JSON value; text that is not JSON is a string).
        value: Value,
    },
}

impl SearchQuery {
    /// A search by tag (checked like a job's tag).
    pub fn tag(tag: &str) -> Result<Self, Error> {
        validate_tag(tag)?;
        Ok(SearchQuery::Tag(tag.to_owned()))
    }

    /// A search by job id or id prefix: 1-36 hex digits and dashes (any
    /// case).
    pub fn id(text: &str) -> Result<Self, Error> {
        let text = text.trim().to_ascii_lowercase();
        let valid = !text.is_empty()
            && text.len() <= 36
            && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !valid {
            return Err(Error::invalid(
                OP,
                format!("job id {text:?} must be an id or its start: 1-36 hex digits and '-'"),
            ));
        }
        Ok(SearchQuery::Id(text))
    }

    /// A search by job type.
    pub fn job_type(name: &str) -> Result<Self, Error> {
        let name = name.trim();
        if name.is_empty() || name.len() > MAX_SEARCH_TEXT_LEN {
            return Err(Error::invalid(
                OP,
                format!("a job type must be 1-{MAX_SEARCH_TEXT_LEN} bytes"),
            ));
        }
        Ok(SearchQuery::JobType(name.to_owned()))
    }

    /// A search by batch: `text` must be the batch id (a UUID, any case).
    pub fn batch(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        text.parse::<Uuid>().map(SearchQuery::Batch).map_err(|_| {
            Error::invalid(
                OP,
                format!("batch id {text:?} must be a batch's id (a UUID)"),
            )
        })
    }

    /// A search by payload field, written `path = value`: `path` is member
    /// names joined by `.` (a leading `args.` or `payload.` names the
    /// payload itself), `value` JSON (`4711`, `"4711"`, `true`) or else
    /// plain text compared as a string. A number also matches the same
    /// number written as a string in the payload, and the other way round.
    pub fn field(expression: &str) -> Result<Self, Error> {
        let Some((path, value)) = expression.split_once('=') else {
            return Err(Error::invalid(
                OP,
                format!(
                    "field search {expression:?} must read `path = value` (args.customer_id = 4711)"
                ),
            ));
        };
        let path = path.trim();
        let path = path
            .strip_prefix("args.")
            .or_else(|| path.strip_prefix("payload."))
            .unwrap_or(path);
        let parts: Vec<String> = path.split('.').map(|part| part.trim().to_owned()).collect();
        if path.len() > MAX_SEARCH_TEXT_LEN
            || parts.len() > MAX_FIELD_DEPTH
            || parts.iter().any(String::is_empty)
        {
            return Err(Error::invalid(
                OP,
                format!(
                    "field path {path:?} must be 1-{MAX_FIELD_DEPTH} member names joined by '.' \
                     ({MAX_SEARCH_TEXT_LEN} bytes at most)"
                ),
            ));
        }
        let value = value.trim();
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        Ok(SearchQuery::Field { path: parts, value })
    }

    /// True when the search reads an index rather than scanning.
    pub fn is_indexed(&self) -> bool {
        matches!(self, SearchQuery::Tag(_))
    }

    /// The full job id searched for, when the query names one.
    pub(crate) fn full_id(&self) -> Option<uuid::Uuid> {
        match self {
            SearchQuery::Id(text) if text.len() == 36 => text.parse().ok(),
            _ => None,
        }
    }

    /// True when the stored `record` (any bytes) is a job this search
    /// looks for: what the scanning searches test each record with (a tag
    /// search reads its index, but matches a record's envelope the same way).
    pub fn matches_record(&self, record: &[u8]) -> bool {
        match self {
            SearchQuery::Tag(tag) => decode_record(record)
                .is_ok_and(|(envelope, _)| envelope.tags.iter().any(|t| t == tag)),
            SearchQuery::Id(prefix) => {
                record_id_bytes(record).is_some_and(|id| id.starts_with(prefix.as_bytes()))
            }
            SearchQuery::JobType(name) => {
                decode_record(record).is_ok_and(|(envelope, _)| envelope.job_type == *name)
            }
            SearchQuery::Batch(batch) => {
                decode_record(record).is_ok_and(|(envelope, _)| envelope.batch == Some(*batch))
            }
            SearchQuery::Field { path, value } => {
                decode_record(record).is_ok_and(|(_, payload)| {
                    serde_json::from_slice::<Value>(payload)
                        .ok()
                        .as_ref()
                        .and_then(|root| field_at(root, path))
                        .is_some_and(|found| same_value(found, value))
                })
            }
        }
    }
}

/// The value at `path` in `root` (array elements by index).
fn field_at<'v>(root: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(root, |value, part| match value {
        Value::Object(members) => members.get(part),
        Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Equal JSON values, or a number and a string that spell the same number.
fn same_value(found: &Value, wanted: &Value) -> bool {
    if found == wanted {
        return true;
    }
    match (found, wanted) {
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::record::{Envelope, encode_record};

    fn record(job_type: &str, tags: &[&str], payload: &str) -> Vec<u8> {
        let mut envelope = Envelope::new(job_type);
        envelope.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        encode_record(&envelope, payload.as_bytes()).unwrap_or_default()
    }

    #[test]
    fn field_search_finds_numbers_strings_and_nested_members() {
        let job = record(
            "import",
            &["customer:4711"],
            r#"{"customer_id":4711,"order":{"ref":"A-1"},"tags":["x"]}"#,
        );
        let hit = |expr: &str| SearchQuery::field(expr).map(|q| q.matches_record(&job));
        assert_eq!(hit("args.customer_id = 4711").ok(), Some(true));
        assert_eq!(hit("customer_id=\"4711\"").ok(), Some(true));
        assert_eq!(hit("payload.order.ref = A-1").ok(), Some(true));
        assert_eq!(hit("customer_id = 4712").ok(), Some(false));
        assert_eq!(hit("missing = 1").ok(), Some(false));
        assert!(SearchQuery::field("no equals sign").is_err());
        assert!(SearchQuery::field("a..b = 1").is_err());
    }

    #[test]
    fn tag_type_and_id_searches_match_the_envelope_only() {
        let job = record("import", &["customer:4711"], r#"{"tags":["payload-tag"]}"#);
        let matches = |q: Result<SearchQuery, Error>| q.map(|q| q.matches_record(&job)).ok();
        assert_eq!(matches(SearchQuery::tag("customer:4711")), Some(true));
        assert_eq!(matches(SearchQuery::tag("payload-tag")), Some(false));
        assert_eq!(matches(SearchQuery::job_type("import")), Some(true));
        assert_eq!(matches(SearchQuery::job_type("export")), Some(false));
        let id = record_id_bytes(&job)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        assert_eq!(
            matches(SearchQuery::id(&id[..8].to_uppercase())),
            Some(true)
        );
        assert_eq!(matches(SearchQuery::id("ffffffff-0")), Some(false));
        assert!(SearchQuery::id("not-hex!").is_err());
        assert!(SearchQuery::id("").is_err());
    }

    #[test]
    fn batch_search_matches_the_envelope_batch_only() {
        let batch = Uuid::new_v4();
        let mut envelope = Envelope::new("import");
        envelope.batch = Some(batch);
        let in_batch = encode_record(&envelope, batch.to_string().as_bytes()).unwrap_or_default();
        envelope.batch = Some(Uuid::new_v4());
        let other_batch = encode_record(&envelope, b"{}").unwrap_or_default();
        // The batch id in the payload of a plain job is not the envelope's.
        let plain = record("import", &[], &format!("{{\"batch\":\"{batch}\"}}"));
        let query = SearchQuery::batch(&format!(" {} ", batch.to_string().to_uppercase()));
        assert_eq!(query.as_ref().ok(), Some(&SearchQuery::Batch(batch)));
        let matches = |job: &[u8]| query.as_ref().map(|q| q.matches_record(job)).ok();
        assert_eq!(matches(&in_batch), Some(true));
        assert_eq!(matches(&other_batch), Some(false));
        assert_eq!(matches(&plain), Some(false));
        assert!(SearchQuery::batch("not-a-uuid").is_err());
        assert!(SearchQuery::batch("").is_err());
    }
}
