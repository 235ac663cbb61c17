//! Where Redis is: one server, a Redis Cluster, or a Sentinel-managed
//! primary, all named by one URL string so every tool that takes
//! `--redis-url` works with all three.
//!
//! | URL | topology |
//! | --- | --- |
//! | `redis://[user:pass@]host:port[/db]`, `rediss://…`, `unix://…` | one server |
//! | `redis+cluster://[user:pass@]host1:port1,host2:port2,…` | Redis Cluster, the hosts are seed nodes |
//! | `rediss+cluster://…` | the same over TLS |
//! | `redis+sentinel://[user:pass@]host1:port1,…/service[/db]` | the primary Sentinel names `service`; the credentials are the primary's |
//! | `rediss+sentinel://…` | the same, TLS to the primary and the sentinels |
//!
//! Seed and sentinel lists need not be complete: one reachable node is
//! enough, the rest of the topology is discovered from it.

use crate::error::Error;
use crate::store::conn::redact_url;

/// A parsed Redis location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTopology {
    /// One server (or a proxy in front of several).
    Single {
        /// Its `redis://`, `rediss://` or `unix://` URL.
        url: String,
    },
    /// A Redis Cluster.
    Cluster {
        /// One `redis://` (or `rediss://`) URL per seed node, credentials included.
        nodes: Vec<String>,
    },
    /// A primary managed by Redis Sentinel.
    Sentinel {
        /// One `redis://` (or `rediss://`) URL per sentinel, without credentials.
        sentinels: Vec<String>,
        /// The name the sentinels monitor the primary under.
        service: String,
        /// ACL user for the primary, if any.
        username: Option<String>,
        /// Password for the primary, if any.
        password: Option<String>,
        /// Database number on the primary.
        db: i64,
        /// Whether to talk TLS.
        tls: bool,
    },
}

impl RedisTopology {
    /// Parses a URL of any of the forms in the module table.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |why: &str| {
            Error::invalid(
                "connect",
                format!("invalid Redis URL {:?}: {why}", redact_url(url)),
            )
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(invalid("expected scheme://…"));
        };
        let (node_scheme, kind) = match scheme {
            "redis+cluster" => ("redis", Kind::Cluster),
            "rediss+cluster" => ("rediss", Kind::Cluster),
            "redis+sentinel" => ("redis", Kind::Sentinel),
            "rediss+sentinel" => ("rediss", Kind::Sentinel),
            _ => {
                return Ok(Self::Single {
                    url: url.to_owned(),
                });
            }
        };
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let hosts: Vec<&str> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        if hosts.is_empty() {
            return Err(invalid("no host:port given"));
        }
        match kind {
            Kind::Cluster => {
                if !path.is_empty() {
                    return Err(invalid("a cluster has only database 0: drop the path"));
                }
                let credentials = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
                Ok(Self::Cluster {
                    nodes: hosts
                        .iter()
                        .map(|host| format!("{node_scheme}://{credentials}{host}"))
                        .collect(),
                })
            }
            Kind::Sentinel => {
                let mut segments = path.split('/').filter(|s| !s.is_empty());
                let service = segments
                    .next()
                    .ok_or_else(|| invalid("name the monitored service: …/<service>"))?;
                let db = match segments.next() {
                    Some(db) => db
                        .parse()
                        .map_err(|_| invalid("the database after the service must be a number"))?,
                    None => 0,
                };
                let (username, password) = split_userinfo(userinfo);
                Ok(Self::Sentinel {
                    sentinels: hosts
                        .iter()
                        .map(|host| format!("{node_scheme}://{host}"))
                        .collect(),
                    service: service.to_owned(),
                    username,
                    password,
                    db,
                    tls: node_scheme == "rediss",
                })
            }
        }
    }

    /// URLs a pub/sub subscriber may connect to, in order of preference.
    ///
    /// On a cluster any node will do: a `PUBLISH` on one node reaches
    /// subscribers on every node over the cluster bus. For Sentinel the
    /// primary must be resolved first, so this list is empty.
    pub fn pubsub_urls(&self) -> Vec<String> {
        match self {
            Self::Single { url } => vec![url.clone()],
            Self::Cluster { nodes } => nodes.clone(),
            Self::Sentinel { .. } => Vec::new(),
        }
    }
}

enum Kind {
    Cluster,
    Sentinel,
}

/// Splits `user:password`, `:password` or `user` (percent-decoding is left
/// to the user: credentials are taken as written).
fn split_userinfo(userinfo: Option<&str>) -> (Option<String>, Option<String>) {
    match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((user, password)) => (
                (!user.is_empty()).then(|| user.to_owned()),
                Some(password.to_owned()),
            ),
            None => ((!info.is_empty()).then(|| info.to_owned()), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_are_one_server() {
        for url in ["redis://h:1", "rediss://u:p@h:1/2", "unix:///tmp/r.sock"] {
            assert_eq!(
                RedisTopology::parse(url).unwrap(),
                RedisTopology::Single {
                    url: url.to_owned()
                }
            );
        }
    }

    #[test]
    fn cluster_urls_list_seed_nodes_with_credentials() {
        let topology = RedisTopology::parse("rediss+cluster://app:pw@a:1, b:2,").unwrap();
        assert_eq!(
            topology,
            RedisTopology::Cluster {
                nodes: vec!["rediss://app:pw@a:1".into(), "rediss://app:pw@b:2".into()]
            }
        );
        assert!(RedisTopology::parse("redis+cluster://a:1/3").is_err());
        assert!(RedisTopology::parse("redis+cluster://").is_err());
    }

    #[test]
    fn sentinel_urls_name_the_service() {
        let topology =
            RedisTopology::parse("redis+sentinel://:pw@s1:26379,s2:26379/main/2").unwrap();
        assert_eq!(
            topology,
            RedisTopology::Sentinel {
                sentinels: vec!["redis://s1:26379".into(), "redis://s2:26379".into()],
                service: "main".into(),
                username: None,
                password: Some("pw".into()),
                db: 2,
                tls: false,
            }
        );
        let err = RedisTopology::parse("redis+sentinel://s1:26379").unwrap_err();
        assert!(err.to_string().contains("service"), "{err}");
        assert!(RedisTopology::parse("redis+sentinel://s:1/main/x").is_err());
    }

    #[test]
    fn errors_never_show_passwords() {
        let err = RedisTopology::parse("redis+sentinel://u:secret@s:1").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
