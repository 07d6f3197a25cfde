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

/// Entries kept before the cache starts afresh.
const MAX_ENTRIES: usize = 4096;

/// Bytes of bodies kept before the cache starts afresh: each key keeps its
/// latest answer across versions, so the count alone let a mixed load's
/// many keys (projects, list pages) hold tens of megabytes more.
const MAX_BYTES: usize = 32 * 1024 * 1024;

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

/// Each key's latest answer, with the write version it was built at, and
/// the size of all the bodies.
#[derive(Default)]
struct Entries {
    map: HashMap<String, (i64, Arc<Cached>)>,
    bytes: usize,
}

/// One lock per key, held while its answer is built: under a steady stream
/// of writes every version misses, and without it each waiting request
/// rebuilt the same answer at once and the rebuilds filled the database
/// pool (the 200-connection mixed load timed out requests after 10 s).
type Flights = HashMap<String, Arc<tokio::sync::Mutex<()>>>;

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

/// The cache, shared by the app's handlers; one `Arc`, as it is cloned
/// into a middleware's state on every request.
#[derive(Clone, Default)]
pub struct ResponseCache(Arc<Shared>);

#[derive(Default)]
struct Shared {
    inner: RwLock<Entries>,
    flights: Mutex<Flights>,
    memo: Mutex<VersionMemo>,
}

/// Who is asking, for [`ResponseCache::get_or_build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// Someone who may have just written: the answer must be at least as
    /// new as the version read when the request came in.
    Current,
    /// The public, who cannot write: while another request rebuilds the
    /// answer, the one before it is served (at most one rebuild old).
    Public,
}

impl Asker {
    /// The public for an anonymous viewer, else someone who may write.
    pub fn of(viewer: &yuanjiang_domain::Viewer) -> Asker {
        if *viewer == yuanjiang_domain::Viewer::Public {
            Asker::Public
        } else {
            Asker::Current
        }
    }
}

impl ResponseCache {
    /// The current write version, read from the database at most once per
    /// [`VERSION_FRESH`] unless this node has written since.
    pub async fn version(&self, store: &Store) -> Result<i64, StoreError> {
        // The guard must be gone before any await: the future is `Send`.
        let remembered = self.0.memo.lock().ok().map(|memo| {
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
        if let Ok(mut memo) = self.0.memo.lock()
            && memo.generation == generation
        {
            memo.read = Some((Instant::now(), version));
        }
        Ok(version)
    }

    /// Forgets the remembered version: called after every request that may
    /// have written, before its answer leaves, so the next request sees it.
    pub fn forget_version(&self) {
        if let Ok(mut memo) = self.0.memo.lock() {
            memo.generation += 1;
            memo.read = None;
        }
    }

    /// The entry for `key` if it was built at `version` or later.
    pub fn get(&self, key: &str, version: i64) -> Option<Arc<Cached>> {
        let entries = self.0.inner.read().ok()?;
        entries
            .map
            .get(key)
            .filter(|(built, _)| *built >= version)
            .map(|(_, value)| value.clone())
    }

    /// The latest entry for `key`, whatever its version.
    fn latest(&self, key: &str) -> Option<Arc<Cached>> {
        let entries = self.0.inner.read().ok()?;
        entries.map.get(key).map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `key` at `version`, unless a newer one is there
    /// already (a slow request does not put back an older answer).
    pub fn put(&self, key: String, version: i64, value: Cached) -> Arc<Cached> {
        let value = Arc::new(value);
        if let Ok(mut entries) = self.0.inner.write() {
            let size = value.body.len();
            if entries.map.len() >= MAX_ENTRIES || entries.bytes + size > MAX_BYTES {
                entries.map.clear();
                entries.bytes = 0;
            }
            let newer = entries
                .map
                .get(&key)
                .is_some_and(|(built, _)| *built > version);
            if !newer {
                entries.bytes += size;
                if let Some((_, old)) = entries.map.insert(key, (version, value.clone())) {
                    entries.bytes = entries.bytes.saturating_sub(old.body.len());
                }
            }
        }
        value
    }

    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let Ok(mut flights) = self.0.flights.lock() else {
            return Arc::default();
        };
        if flights.len() >= MAX_ENTRIES && !flights.contains_key(key) {
            flights.clear();
        }
        flights.entry(key.to_owned()).or_default().clone()
    }

    /// The answer for `key`: cached if it is as new as the data, else built
    /// by `build`, one build per key at a time. Requests that arrive while
    /// a build runs wait for it and take the next one's answer if it began
    /// before they came; the build is labelled with the version read just
    /// before it starts, so an entry is never newer-labelled than its data.
    pub async fn get_or_build<E, F, Fut>(
        &self,
        store: &Store,
        key: String,
        asker: Asker,
        build: F,
    ) -> Result<Arc<Cached>, E>
    where
        E: From<StoreError>,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Cached, E>>,
    {
        let version = self.version(store).await?;
        if let Some(hit) = self.get(&key, version) {
            return Ok(hit);
        }
        let flight = self.flight(&key);
        let _building = match flight.clone().try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                if asker == Asker::Public
                    && let Some(previous) = self.latest(&key)
                {
                    return Ok(previous);
                }
                let guard = flight.lock_owned().await;
                if let Some(hit) = self.get(&key, version) {
                    return Ok(hit);
                }
                guard
            }
        };
        // Read afresh, not from the memo: the label must not be older than
        // any version a waiter saw.
        let built_at = store.write_version().await?;
        let value = build().await?;
        Ok(self.put(key, built_at, value))
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
    fn an_entry_serves_its_version_and_older_asks() {
        let cache = ResponseCache::default();
        cache.put("a".into(), 3, entry("three"));
        assert_eq!(cache.get("a", 3).expect("hit").body, "three");
        assert_eq!(cache.get("a", 2).expect("hit").body, "three");
        assert!(cache.get("a", 4).is_none(), "a newer version misses");
        cache.put("b".into(), 4, entry("four"));
        assert_eq!(cache.get("a", 3).expect("other keys stay").body, "three");
        cache.put("a".into(), 5, entry("five"));
        // A slow request that built its answer at an older version does not
        // put it back.
        cache.put("a".into(), 4, entry("stale"));
        assert_eq!(cache.get("a", 5).expect("hit").body, "five");
        assert_eq!(cache.latest("a").expect("latest").body, "five");
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
        write_something(&store, "memo").await;
        cache.forget_version();
        let after = cache.version(&store).await.expect("version");
        assert!(after > before, "{after} after a write, {before} before");
    }

    /// A write (a new account), which moves the write version on.
    async fn write_something(store: &Store, name: &str) {
        let principal = yuanjiang_domain::Principal {
            name: name.into(),
            role: yuanjiang_domain::Role::Region,
            scope: None,
        };
        store
            .create_user(&principal, &yuanjiang_store::Secret::new("Xinjiang-2026!"))
            .await
            .expect("user");
    }

    fn body(text: String) -> Cached {
        Cached {
            body: text.into(),
            etag: None,
            owner: None,
        }
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_build_and_the_public_gets_the_previous_answer() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().expect("tempdir");
        let store = yuanjiang_store::testing::sqlite_store(dir.path())
            .await
            .expect("store");
        let cache = ResponseCache::default();
        let builds = Arc::new(AtomicUsize::new(0));
        let slow_build = |label: &'static str| {
            let builds = builds.clone();
            move || async move {
                builds.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok::<_, StoreError>(body(label.to_owned()))
            }
        };
        let askers: Vec<_> = (0..20)
            .map(|_| cache.get_or_build(&store, "k".into(), Asker::Current, slow_build("first")))
            .collect();
        let answers = futures_util::future::join_all(askers).await;
        assert!(
            answers
                .iter()
                .all(|a| a.as_ref().expect("answer").body == "first")
        );
        assert_eq!(builds.load(Ordering::SeqCst), 1, "20 misses, one build");

        // A write moves the version on: the next ask rebuilds. While that
        // build runs, the public gets the previous answer at once, and a
        // caller who may have written waits for the new one.
        write_something(&store, "writer").await;
        cache.forget_version();
        let rebuild = cache.get_or_build(&store, "k".into(), Asker::Current, slow_build("second"));
        let public = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let started = Instant::now();
            let answer = cache
                .get_or_build(&store, "k".into(), Asker::Public, slow_build("never"))
                .await
                .expect("public");
            (answer, started.elapsed())
        };
        let writer = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            cache
                .get_or_build(&store, "k".into(), Asker::Current, slow_build("never"))
                .await
                .expect("writer")
        };
        let (rebuilt, (public, waited), writer) = tokio::join!(rebuild, public, writer);
        assert_eq!(rebuilt.expect("rebuilt").body, "second");
        assert_eq!(public.body, "first", "the previous answer");
        assert!(
            waited < Duration::from_millis(100),
            "without waiting: {waited:?}"
        );
        assert_eq!(writer.body, "second", "the new answer, not a third build");
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }
}
