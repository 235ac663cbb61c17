//! `batch_link_child.lua`: a child batch joins its parent as one job.

use uuid::Uuid;

use crate::error::Error;
use crate::store::handle::Store;
use crate::store::keys::QueueKeys;
use crate::store::reply::int_reply;
use crate::store::scripts::SCRIPTS;

impl Store {
    /// Counts the child batch `child` (on `child_queue`) as one pending
    /// job of the batch `parent` on `parent_queue` (`batch_link_child.lua`).
    /// Returns true when linked now, false when it was linked already (a
    /// repeat counts nothing); fails with [`Error::BatchNotFound`] or
    /// [`Error::BatchClosed`] (nothing counted).
    pub async fn batch_link_child(
        &self,
        parent_queue: &QueueKeys,
        parent: Uuid,
        child_queue: &str,
        child: Uuid,
    ) -> Result<bool, Error> {
        const OP: &str = "batch_link_child";
        let parent_key = parent_queue.batch(&parent.to_string());
        let reply = SCRIPTS
            .batch_link_child
            .call(&[parent_key.as_str()])
            .arg(child.to_string())
            .arg(child_queue)
            .invoke(&mut self.conn.clone(), OP)
            .await?;
        match int_reply(&reply, OP)? {
            -1 => Err(Error::BatchNotFound {
                op: OP,
                queue: parent_queue.name().to_owned(),
                id: parent,
            }),
            -2 => Err(Error::BatchClosed { op: OP, id: parent }),
            linked => Ok(linked == 1),
        }
    }
}
