//! A search's text and any bytes as a stored record (what a scanning
//! search reads from Redis): parsing the query must return an error or a
//! query, never panic, and matching any record must never panic. A tag a
//! job may carry is also a tag one may search for.

#![no_main]

use jobqueue_core::admin::SearchQuery;
use jobqueue_core::job::tags::validate_tags;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first line is the query, the rest the record.
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (text, record) = data.split_at(split);
    let Ok(text) = std::str::from_utf8(text) else { return };
    for query in [
        SearchQuery::tag(text),
        SearchQuery::id(text),
        SearchQuery::job_type(text),
        SearchQuery::field(text),
    ]
    .into_iter()
    .flatten()
    {
        let _ = query.matches_record(record);
    }
    if validate_tags(&[text.to_owned()]).is_ok() {
        assert!(SearchQuery::tag(text).is_ok(), "a valid job tag is a valid search tag");
    }
});
