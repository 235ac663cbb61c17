//! `link_child.lua`: register a dependent with one of its parents.

use uuid::Uuid;

use crate::job::dependencies::ParentState;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::text_reply;
use crate::store::scripts::{Call, SCRIPTS, invoke_pipelined};

/// The field naming one child in its parent's hash.
fn child_field(queue: &str, id: Uuid) -> String {
    format!("c|{queue}|{id}")
}

impl Store {
    /// Registers the child `child` (on `child_queue`) with each parent, on
    /// the parents' queues, in one round trip. Returns each parent's state;
    /// [`ParentState::Unknown`] for a parent without a dependency record.
    pub(crate) async fn link_children(
        &self,
        parents: &[(QueueKeys, Uuid)],
        child_queue: &str,
        child: Uuid,
    ) -> Result<Vec<ParentState>, Error> {
        const OP: &str = "link_child";
        let field = child_field(child_queue, child);
        let calls: Vec<Call> = parents
            .iter()
            .map(|(queue, id)| {
                SCRIPTS
                    .link_child
                    .call(&[&queue.parent(&id.to_string())])
                    .arg(field.as_str())
            })
            .collect();
        let replies = invoke_pipelined(&mut self.conn.clone(), &calls, OP).await?;
        Ok(replies
            .iter()
            .map(|reply| ParentState::parse(text_reply(reply).as_deref()))
            .collect())
    }
}
