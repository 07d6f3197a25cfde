//! Responses kept for the current write version ([`Store::write_version`]):
//! the pages everyone asks for again and again (a project, the public
//! dashboard) are built once per change to the data instead of once per
//! request. A cached entry is only served after the caller's scope is
//! checked against what it was built from, exactly as for a fresh one.
//!
//! [`Store::write_version`]: yuanjiang_store::Store::write_version

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use yuanjiang_store::{Store, StoreError};

/// Entries kept before the cache starts afresh (bounds memory: a project
/// answer is a few kilobytes, a dashboard some tens).
const MAX_ENTRIES: usize = 4096;

/// A response body with what is needed to serve it again.
#[derive(Debug)]
pub struct Cached {
    /// The serialised body.
    pub body: axum::body::Bytes,
    /// The `ETag`, for answers that carry one.
    pub etag: Option<axum::http::HeaderValue>,
    /// The record's owner (supporter, recipient, published) and the
    /// supporter's parent, for the scope check.
    pub owner: Option<CachedOwner>,
}

/// Whom a cached record belongs to.
#[derive(Debug, Clone)]
pub struct CachedOwner {
    /// Supporter code.
    pub supporter_code: String,
    /// Recipient code.
    pub recipient_code: String,
    /// Published to the public.
    pub published: bool,
    /// The supporter's parent (Shenzhen → Guangdong).
    pub parent: Option<String>,
}

#[derive(Default)]
struct Entries {
    version: i64,
    map: HashMap<String, Arc<Cached>>,
}

/// How long a write version read from the database is trusted on this node.
/// Each read is a hand-off to a database worker thread, which profiling
/// showed to dominate a cached answer; within this window a read from
/// another node or process may be that much late, while this node's own
/// writes are seen at once (see [`ResponseCache::forget_version`]).
pub const VERSION_FRESH: Duration = Duration::from_millis(50);

/// The last write version read, and a generation that every local write
/// moves on, so that a read begun before the write cannot put back a
/// version older than it.
#[derive(Default)]
struct VersionMemo {
    generation: u64,
    read: Option<(Instant, i64)>,
}

/// The cache, shared by the app's handlers.
#[derive(Clone, Default)]
pub struct ResponseCache {
    inner: Arc<RwLock<Entries>>,
    memo: Arc<Mutex<VersionMemo>>,
}

impl ResponseCache {
    /// The current write version, read from the database at most once per
    /// [`VERSION_FRESH`] unless this node has written since.
    pub async fn version(&self, store: &Store) -> Result<i64, StoreError> {
        // The guard must be gone before any await: the future is `Send`.
        let remembered = self.memo.lock().ok().map(|memo| {
            let fresh = memo
                .read
                .filter(|(at, _)| at.elapsed() < VERSION_FRESH)
                .map(|(_, version)| version);
            (fresh, memo.generation)
        });
        let generation = match remembered {
            Some((Some(version), _)) => return Ok(version),
            Some((None, generation)) => generation,
            None => return store.write_version().await,
        };
        let version = store.write_version().await?;
        if let Ok(mut memo) = self.memo.lock()
            && memo.generation == generation
        {
            memo.read = Some((Instant::now(), version));
        }
        Ok(version)
    }

    /// Forgets the remembered version: called after every request that may
    /// have written, before its answer leaves, so the next request sees it.
    pub fn forget_version(&self) {
        if let Ok(mut memo) = self.memo.lock() {
            memo.generation += 1;
            memo.read = None;
        }
    }

    /// The entry for `key` built at `version`.
    pub fn get(&self, key: &str, version: i64) -> Option<Arc<Cached>> {
        let entries = self.inner.read().ok()?;
        if entries.version != version {
            return None;
        }
        entries.map.get(key).cloned()
    }

    /// Keeps `value` for `key` at `version`; a newer version drops every
    /// older entry, an older one (a slow request) is not kept.
    pub fn put(&self, key: String, version: i64, value: Cached) -> Arc<Cached> {
        let value = Arc::new(value);
        if let Ok(mut entries) = self.inner.write() {
            if version > entries.version {
                entries.version = version;
                entries.map.clear();
            }
            if version == entries.version {
                if entries.map.len() >= MAX_ENTRIES {
                    entries.map.clear();
                }
                entries.map.insert(key, value.clone());
            }
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &'static str) -> Cached {
        Cached {
            body: axum::body::Bytes::from_static(body.as_bytes()),
            etag: None,
            owner: None,
        }
    }

    #[test]
    fn entries_live_for_one_version_only() {
        let cache = ResponseCache::default();
        cache.put("a".into(), 3, entry("three"));
        assert_eq!(cache.get("a", 3).expect("hit").body, "three");
        assert!(cache.get("a", 4).is_none(), "a newer version misses");
        cache.put("b".into(), 4, entry("four"));
        assert!(cache.get("a", 3).is_none(), "older entries are dropped");
        // A slow request that built its answer at an older version does not
        // put it back.
        cache.put("a".into(), 3, entry("stale"));
        assert!(cache.get("a", 3).is_none() && cache.get("a", 4).is_none());
        assert_eq!(cache.get("b", 4).expect("hit").body, "four");
    }
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[tokio::test]
    async fn a_forgotten_version_is_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = yuanjiang_store::testing::sqlite_store(dir.path())
            .await
            .expect("store");
        let cache = ResponseCache::default();
        let before = cache.version(&store).await.expect("version");
        assert_eq!(before, store.write_version().await.expect("version"));
        let principal = yuanjiang_domain::Principal {
            name: "memo".into(),
            role: yuanjiang_domain::Role::Region,
            scope: None,
        };
        store
            .create_user(&principal, &yuanjiang_store::Secret::new("Xinjiang-2026!"))
            .await
            .expect("user");
        cache.forget_version();
        let after = cache.version(&store).await.expect("version");
        assert!(after > before, "{after} after a write, {before} before");
    }
}
