//! [`Leased`]: a job as a fetch handed it to this worker, and the id the
//! scripts leased it under.

/// A leased job: the record exactly as fetched, and the queue it came from.
pub(crate) struct Leased {
    pub(crate) queue: usize,
    pub(crate) record: Vec<u8>,
    /// The job carries a flow key: its outcome releases the key. Only jobs
    /// fetched with `fetch_limited.lua` can (plain fetches never look).
    pub(crate) keyed: bool,
}

impl Leased {
    /// The id the scripts leased it under: bytes 8-43 of the record, as
    /// Lua's `string.sub(record, 8, 43)` reads them.
    pub(crate) fn leased_id(&self) -> Vec<u8> {
        leased_id(&self.record)
    }
}

/// The id a record is leased under: bytes 8-43, as Lua's
/// `string.sub(record, 8, 43)` reads them.
pub(crate) fn leased_id(record: &[u8]) -> Vec<u8> {
    let end = record.len().min(43);
    record.get(7..end).unwrap_or_default().to_vec()
}
