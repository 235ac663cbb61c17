//! The Redis server itself: version and memory (`INFO`).

use crate::error::Error;
use crate::store::handle::Store;

impl Store {
    /// The `server` and `memory` sections of `INFO`, as text; empty when
    /// the server denies `INFO` (some managed Redis do).
    pub async fn server_info_text(&self) -> Result<String, Error> {
        match redis::cmd("INFO")
            .arg("server")
            .arg("memory")
            .query_async(&mut self.conn.clone())
            .await
        {
            Ok(text) => Ok(text),
            Err(err) if err.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm) => {
                Ok(String::new())
            }
            Err(err) => Err(Error::Redis {
                op: "server_info",
                source: err,
            }),
        }
    }
}
