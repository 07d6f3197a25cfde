//! Chinese full-text search over the project registry. A tantivy index
//! whose text field is segmented by jieba (search mode, so a long word also
//! yields its parts: 职业教育 → 职业, 教育, 职业教育), built from the store
//! on start and updated by every project write, so that 职业教育 or 喀什
//! finds the right projects.
//!
//! The index lives in a private temporary directory (under `TMPDIR`),
//! memory-mapped and removed when the server stops: at the national scale
//! an in-memory index held 160 MB of the server's heap, where mapped files
//! cost only the pages a search touches. Each node builds its own, so app
//! nodes stay stateless. When no directory can be made, it falls back to
//! memory and says so in the log.
//!
//! Each project is one document: its code, name, description, category
//! label (zh and en), the names of its supporter, recipient, location and
//! the units above them. Scope terms (supporter and its parent, every prefix
//! of the recipient code, the published flag) sit beside the text, so a
//! search returns only codes the viewer may read, exactly like the registry.
//!
//! Queries are segmented without search mode and every word must match; when
//! nothing does, character bigrams of the query are tried instead, which
//! finds place names that jieba cut differently in the text.

#![forbid(unsafe_code)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tantivy::collector::TopDocs;
use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tantivy_jieba::JiebaTokenizer;
use yuanjiang_domain::Viewer;
use yuanjiang_store::{ProjectFilter, ProjectRow, Scope, Store, StoreError};

/// Projects read from the store per page while (re)building.
const BUILD_PAGE: u32 = 1000;
/// Memory the single indexing thread may use before it flushes a segment.
const WRITER_MEMORY: usize = 50_000_000;

/// A search failure: the index or the store.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index itself failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Reading projects to index failed.
    #[error("reading projects to index: {0}")]
    Store(#[from] StoreError),
    /// The indexing task died.
    #[error("indexing task: {0}")]
    Task(String),
}

/// What a viewer may find: the same narrowing as the registry's scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// Published projects only (the public).
    pub published_only: bool,
    /// The viewer's scope, if narrowed.
    pub scope: Option<Scope>,
}

impl SearchFilter {
    /// The filter of a viewer: what [`ProjectFilter`] narrows the registry to.
    pub fn of(viewer: &Viewer) -> SearchFilter {
        SearchFilter {
            published_only: *viewer == Viewer::Public,
            scope: Scope::of(viewer),
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    code: Field,
    text: Field,
    grams: Field,
    supporter: Field,
    recipient: Field,
    published: Field,
}

/// Names of the parties, to index projects by place name.
#[derive(Default)]
struct Places {
    /// Supporter code → (name, English name, parent code).
    supporters: HashMap<String, (String, String, Option<String>)>,
    /// Recipient code (down to townships) → (name, parent code).
    recipients: HashMap<String, (String, Option<String>)>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    places: RwLock<Places>,
    ready: AtomicBool,
    /// Codes written while a rebuild runs: the rebuild's older copy of
    /// them must not overwrite the newer one.
    touched: Mutex<Option<HashMap<String, ProjectRow>>>,
    /// Where the index lives; removed with it. `None` when in memory.
    dir: Option<tempfile::TempDir>,
}

/// The name every index directory starts with.
const DIR_PREFIX: &str = "yuanjiang-search-";

/// Directories younger than this are left alone: a server starting beside
/// this one may have made its directory and not yet taken its lock.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Removes the index directories under `parent` that no live index owns,
/// as a server killed with SIGKILL (or a crash) leaves them; a clean stop
/// removes its own. An index holds tantivy's writer lock (an exclusive
/// `flock`) for as long as it lives, and the kernel drops the lock with
/// the process: a directory whose lock can be taken, and older than
/// `min_age`, belongs to no one. Returns how many were removed.
fn clear_stale(parent: &Path, min_age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return 0;
    };
    let mut cleared = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_string_lossy().starts_with(DIR_PREFIX);
        let old = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_dir)
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= min_age);
        if !ours || !old {
            continue;
        }
        let unowned = MmapDirectory::open(&path)
            .map(|dir| dir.acquire_lock(&INDEX_WRITER_LOCK).is_ok())
            .unwrap_or(false);
        if unowned && std::fs::remove_dir_all(&path).is_ok() {
            cleared += 1;
        }
    }
    cleared
}

/// The project search index; cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct ProjectIndex {
    inner: Arc<Inner>,
}

const TEXT_ANALYZER: &str = "yj_jieba";
const QUERY_ANALYZER: &str = "yj_jieba_query";
const GRAM_ANALYZER: &str = "yj_bigram";

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked mid-update; the
    // index itself stays consistent (tantivy commits atomically).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ProjectIndex {
    /// An empty index in a temporary directory (in memory if none can be
    /// made), not yet ready; [`ProjectIndex::rebuild`] fills it. Directories
    /// left by servers that were killed are cleared first.
    pub fn new() -> Result<ProjectIndex, SearchError> {
        ProjectIndex::new_in(&std::env::temp_dir())
    }

    /// [`ProjectIndex::new`] under `parent` instead of the system's
    /// temporary directory.
    pub fn new_in(parent: &Path) -> Result<ProjectIndex, SearchError> {
        let cleared = clear_stale(parent, STALE_AFTER);
        if cleared > 0 {
            tracing::info!(
                cleared,
                "removed search indexes left by servers that were killed"
            );
        }
        let on_disk = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(parent)
            .map_err(|e| SearchError::Index(e.into()))
            .and_then(|dir| ProjectIndex::create(Some(dir)));
        on_disk.or_else(|e| {
            tracing::warn!(error = %e, "search index kept in memory: no temporary directory");
            ProjectIndex::create(None)
        })
    }

    /// An empty index in memory, not yet ready.
    #[cfg(test)]
    fn in_memory() -> Result<ProjectIndex, SearchError> {
        ProjectIndex::create(None)
    }

    fn create(dir: Option<tempfile::TempDir>) -> Result<ProjectIndex, SearchError> {
        let mut builder = Schema::builder();
        let text_options = |analyzer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
        };
        let fields = Fields {
            code: builder.add_text_field("code", STRING | STORED),
            text: builder.add_text_field("text", text_options(TEXT_ANALYZER)),
            grams: builder.add_text_field("grams", text_options(GRAM_ANALYZER)),
            supporter: builder.add_text_field("supporter", STRING),
            recipient: builder.add_text_field("recipient", STRING),
            published: builder.add_text_field("published", STRING),
        };
        let index = match &dir {
            Some(dir) => Index::create_in_dir(dir.path(), builder.build())?,
            None => Index::create_in_ram(builder.build()),
        };
        index.tokenizers().register(
            TEXT_ANALYZER,
            TextAnalyzer::builder(JiebaTokenizer::new())
                .filter(LowerCaser)
                .build(),
        );
        index.tokenizers().register(
            QUERY_ANALYZER,
            TextAnalyzer::builder(JiebaTokenizer::with_search_mode(false))
                .filter(LowerCaser)
                .build(),
        );
        index.tokenizers().register(
            GRAM_ANALYZER,
            TextAnalyzer::builder(NgramTokenizer::new(2, 2, false)?)
                .filter(LowerCaser)
                .build(),
        );
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(ProjectIndex {
            inner: Arc::new(Inner {
                index,
                reader,
                writer: Mutex::new(writer),
                fields,
                places: RwLock::new(Places::default()),
                ready: AtomicBool::new(false),
                touched: Mutex::new(None),
                dir,
            }),
        })
    }

    /// The directory the index lives in; `None` when it is in memory.
    pub fn directory(&self) -> Option<&std::path::Path> {
        self.inner.dir.as_ref().map(tempfile::TempDir::path)
    }

    /// Whether the index has been built from the store.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    /// Rebuilds the index from every project in the store; returns how
    /// many were indexed. Writes that happen meanwhile are kept.
    ///
    /// Projects are indexed a page at a time, so the build holds one page
    /// of rows, not the registry. Searches see the old index until the
    /// build commits; writes made meanwhile go in at its end, as written.
    pub async fn rebuild(&self, store: &Store) -> Result<usize, SearchError> {
        let supporters = store.supporters().await?;
        let recipients = store.recipients(true).await?;
        {
            let mut places = self.inner.places.write().unwrap_or_else(|e| e.into_inner());
            places.supporters = supporters
                .into_iter()
                .map(|s| (s.code, (s.name, s.name_en, s.parent_code)))
                .collect();
            places.recipients = recipients
                .into_iter()
                .map(|r| (r.code, (r.name, r.parent_code)))
                .collect();
        }
        self.begin_rebuild()?;
        if let Err(e) = self.add_registry(store).await {
            // The old index stays; the writes kept aside go in now.
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.abandon_rebuild())
                .await
                .map_err(|e| SearchError::Task(e.to_string()))??;
            return Err(e);
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.finish_rebuild())
            .await
            .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Adds every project of the store, a page at a time, uncommitted.
    async fn add_registry(&self, store: &Store) -> Result<(), SearchError> {
        let mut cursor = None;
        let all = ProjectFilter::default();
        loop {
            let page = store.projects(&all, cursor, BUILD_PAGE).await?;
            let this = self.clone();
            let rows = page.items;
            tokio::task::spawn_blocking(move || this.add_all(&rows))
                .await
                .map_err(|e| SearchError::Task(e.to_string()))??;
            match page.next_cursor.and_then(|c| c.parse::<i64>().ok()) {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Drops a failed rebuild's uncommitted work, keeps the old index, and
    /// puts in the writes made meanwhile, so none is lost to the failure.
    fn abandon_rebuild(&self) -> Result<(), SearchError> {
        let mut writer = lock(&self.inner.writer);
        let fresh = lock(&self.inner.touched).take().unwrap_or_default();
        writer.rollback()?;
        self.put_all(&writer, fresh.values())?;
        writer.commit()?;
        drop(writer);
        self.inner.reader.reload()?;
        Ok(())
    }

    /// Replaces each project's document by the row given.
    fn put_all<'a>(
        &self,
        writer: &IndexWriter,
        rows: impl Iterator<Item = &'a ProjectRow>,
    ) -> Result<(), SearchError> {
        for row in rows {
            // A delete removes only the documents added before it.
            writer.delete_term(Term::from_field_text(
                self.inner.fields.code,
                &row.project.code,
            ));
            writer.add_document(self.document(row))?;
        }
        Ok(())
    }

    /// Empties the index, uncommitted, and starts keeping writes aside.
    fn begin_rebuild(&self) -> Result<(), SearchError> {
        let writer = lock(&self.inner.writer);
        *lock(&self.inner.touched) = Some(HashMap::new());
        writer.delete_all_documents()?;
        Ok(())
    }

    fn add_all(&self, rows: &[ProjectRow]) -> Result<(), SearchError> {
        let writer = lock(&self.inner.writer);
        for row in rows {
            writer.add_document(self.document(row))?;
        }
        Ok(())
    }

    /// Puts in the writes made during a rebuild, over the copies the
    /// rebuild read, and commits the whole.
    fn finish_rebuild(&self) -> Result<usize, SearchError> {
        let mut writer = lock(&self.inner.writer);
        let fresh = lock(&self.inner.touched).take().unwrap_or_default();
        self.put_all(&writer, fresh.values())?;
        writer.commit()?;
        drop(writer);
        self.inner.reader.reload()?;
        let n = usize::try_from(self.inner.reader.searcher().num_docs()).unwrap_or(usize::MAX);
        self.inner.ready.store(true, Ordering::Release);
        let dir = self.directory().map(|d| d.display().to_string());
        tracing::info!(
            projects = n,
            dir = dir.as_deref().unwrap_or("memory"),
            "search index built"
        );
        Ok(n)
    }

    /// Indexes a project as just written, replacing any older copy.
    pub fn upsert(&self, row: &ProjectRow) -> Result<(), SearchError> {
        let mut writer = lock(&self.inner.writer);
        // During a rebuild the write waits for its end: committing now
        // would publish a half-built index.
        if let Some(fresh) = lock(&self.inner.touched).as_mut() {
            fresh.insert(row.project.code.clone(), row.clone());
            return Ok(());
        }
        writer.delete_term(Term::from_field_text(
            self.inner.fields.code,
            &row.project.code,
        ));
        writer.add_document(self.document(row))?;
        writer.commit()?;
        drop(writer);
        self.inner.reader.reload()?;
        Ok(())
    }

    /// The codes of the projects that match `q` and that `filter` lets
    /// through, best first, at most `limit`.
    pub fn search(
        &self,
        q: &str,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<String>, SearchError> {
        let q = q.trim();
        if q.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.inner.fields;
        let words = self.analyse(QUERY_ANALYZER, q)?;
        let mut hits = Vec::new();
        if !words.is_empty() || !q.contains(char::is_whitespace) {
            let exact_code: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(f.code, &q.to_uppercase()),
                IndexRecordOption::Basic,
            ));
            let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, exact_code)];
            if !words.is_empty() {
                any.push((Occur::Should, all_terms(f.text, &words)));
            }
            hits = self.run(Box::new(BooleanQuery::new(any)), filter, limit)?;
        }
        if hits.is_empty() {
            let grams = self.analyse(GRAM_ANALYZER, q)?;
            if !grams.is_empty() {
                hits = self.run(all_terms(f.grams, &grams), filter, limit)?;
            }
        }
        Ok(hits)
    }

    fn run(
        &self,
        query: Box<dyn Query>,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<String>, SearchError> {
        let f = self.inner.fields;
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
        if filter.published_only {
            clauses.push((Occur::Must, term(f.published, "1")));
        }
        match &filter.scope {
            Some(Scope::Supporter(s)) => clauses.push((Occur::Must, term(f.supporter, s))),
            Some(Scope::Recipient(r)) => clauses.push((Occur::Must, term(f.recipient, r))),
            None => {}
        }
        let searcher = self.inner.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit).order_by_score(),
        )?;
        let mut codes = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(code) = doc.get_first(f.code).and_then(|v| v.as_str()) {
                codes.push(code.to_owned());
            }
        }
        Ok(codes)
    }

    /// The distinct words of `text` under an analyzer, without punctuation.
    fn analyse(&self, analyzer: &str, text: &str) -> Result<Vec<String>, SearchError> {
        let mut analyzer = self.inner.index.tokenizers().get(analyzer).ok_or_else(|| {
            SearchError::Index(tantivy::TantivyError::InvalidArgument(format!(
                "analyzer {analyzer} missing"
            )))
        })?;
        let mut stream = analyzer.token_stream(text);
        let mut words: Vec<String> = Vec::new();
        while stream.advance() {
            let word = &stream.token().text;
            if word.chars().any(char::is_alphanumeric) && !words.contains(word) {
                words.push(word.clone());
            }
        }
        Ok(words)
    }

    /// The document of a project: its text and its scope terms.
    fn document(&self, row: &ProjectRow) -> TantivyDocument {
        let f = self.inner.fields;
        let p = &row.project;
        let places = self.inner.places.read().unwrap_or_else(|e| e.into_inner());
        let mut text = vec![
            p.code.clone(),
            p.name.clone(),
            p.description.clone(),
            p.category.zh().to_owned(),
            p.category.en().to_owned(),
        ];
        let mut doc = TantivyDocument::default();
        doc.add_text(f.code, &p.code);
        doc.add_text(f.supporter, &p.supporter_code);
        if let Some((name, name_en, parent)) = places.supporters.get(&p.supporter_code) {
            text.push(name.clone());
            text.push(name_en.clone());
            if let Some(parent) = parent {
                doc.add_text(f.supporter, parent);
            }
        }
        // The recipient, the location and every unit above them, so that a
        // search for the prefecture finds projects of its counties.
        let mut named = HashSet::new();
        for start in [&p.recipient_code, &p.location_code, &row.prefecture_code] {
            let mut code = Some(start.clone());
            while let Some(c) = code {
                if !named.insert(c.clone()) {
                    break;
                }
                code = places.recipients.get(&c).and_then(|(name, parent)| {
                    text.push(name.clone());
                    parent.clone()
                });
            }
        }
        let recipient = &p.recipient_code;
        for (i, _) in recipient.char_indices().skip(1) {
            doc.add_text(f.recipient, &recipient[..i]);
        }
        doc.add_text(f.recipient, recipient);
        doc.add_text(f.published, if p.published { "1" } else { "0" });
        let text = text.join("\n");
        doc.add_text(f.text, &text);
        doc.add_text(f.grams, &text);
        doc
    }
}

/// A query that every one of `words` must match in `field`.
fn all_terms(field: Field, words: &[String]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        words
            .iter()
            .map(|w| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, w),
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Must, q)
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yuanjiang_domain::{
        ApprovalStatus, Category, DeliveryMode, Fen, Principal, Project, ProjectKind, ProjectState,
        Role,
    };

    fn row(
        code: &str,
        name: &str,
        supporter: &str,
        recipient: &str,
        published: bool,
    ) -> ProjectRow {
        let date = chrono_date();
        ProjectRow {
            id: 0,
            row_version: 1,
            prefecture_code: recipient[..4].to_owned(),
            approval: ApprovalStatus::Draft,
            project: Project {
                code: code.into(),
                name: name.into(),
                category: Category::Education,
                delivery_mode: DeliveryMode::Turnkey,
                kind: ProjectKind::Construction,
                year: 2026,
                in_plan: true,
                continued: false,
                grassroots: true,
                livelihood: true,
                supporter_code: supporter.into(),
                recipient_code: recipient.into(),
                location_code: recipient.into(),
                planned_investment: Fen(100),
                aid_funds: Fen(100),
                matching_funds: Fen(0),
                start_date: date,
                end_date: date,
                state: ProjectState::Proposed,
                published,
                description: String::new(),
            },
        }
    }

    fn chrono_date() -> chrono::NaiveDate {
        chrono::NaiveDate::default()
    }

    #[test]
    fn finds_words_and_respects_scope() {
        let index = ProjectIndex::new().expect("index");
        index
            .upsert(&row(
                "YJ-1",
                "疏附县职业技术学校实训楼",
                "31",
                "653121",
                true,
            ))
            .expect("upsert");
        index
            .upsert(&row("YJ-2", "和田市人民医院门诊楼", "44", "653201", false))
            .expect("upsert");
        let all = SearchFilter::default();
        assert_eq!(index.search("职业", &all, 10).expect("search"), ["YJ-1"]);
        assert_eq!(index.search("实训楼", &all, 10).expect("search"), ["YJ-1"]);
        assert_eq!(index.search("yj-2", &all, 10).expect("search"), ["YJ-2"]);
        assert_eq!(
            index.search("education", &all, 10).expect("search").len(),
            2
        );
        assert!(index.search("高铁", &all, 10).expect("search").is_empty());
        let public = SearchFilter::of(&Viewer::Public);
        assert!(
            index
                .search("医院", &public, 10)
                .expect("search")
                .is_empty()
        );
        let shanghai = SearchFilter::of(&Viewer::User(Principal {
            name: "s".into(),
            role: Role::Supporter,
            scope: Some("31".into()),
        }));
        assert!(
            index
                .search("医院", &shanghai, 10)
                .expect("search")
                .is_empty()
        );
        let hotan = SearchFilter::of(&Viewer::User(Principal {
            name: "h".into(),
            role: Role::Prefecture,
            scope: Some("6532".into()),
        }));
        assert_eq!(index.search("医院", &hotan, 10).expect("search"), ["YJ-2"]);
        // A rewrite replaces the old copy.
        index
            .upsert(&row("YJ-2", "和田市第二中学", "44", "653201", false))
            .expect("upsert");
        assert!(index.search("医院", &all, 10).expect("search").is_empty());
    }

    #[test]
    fn a_rebuild_publishes_at_its_end_and_keeps_writes_made_meanwhile() {
        let index = ProjectIndex::new().expect("index");
        let dir = index.directory().expect("on disk").to_owned();
        let all = SearchFilter::default();
        index
            .upsert(&row("YJ-1", "和田市人民医院", "44", "653201", true))
            .expect("upsert");
        assert!(std::fs::read_dir(&dir).expect("dir").count() > 1);

        index.begin_rebuild().expect("begin");
        // Written during the build: kept aside, and the old index still answers.
        index
            .upsert(&row("YJ-2", "疏附县第二中学", "31", "653121", true))
            .expect("upsert");
        assert_eq!(index.search("医院", &all, 10).expect("search"), ["YJ-1"]);
        assert!(index.search("中学", &all, 10).expect("search").is_empty());
        // The build read YJ-2 before the write: its older copy must not win.
        index
            .add_all(&[
                row("YJ-1", "和田市人民医院", "44", "653201", true),
                row("YJ-2", "疏附县卫生院", "31", "653121", true),
            ])
            .expect("add");
        assert_eq!(index.finish_rebuild().expect("finish"), 2);
        assert_eq!(index.search("中学", &all, 10).expect("search"), ["YJ-2"]);
        assert!(index.search("卫生院", &all, 10).expect("search").is_empty());
        assert_eq!(index.search("医院", &all, 10).expect("search"), ["YJ-1"]);

        drop(index);
        assert!(!dir.exists(), "the index directory goes with the index");
    }

    #[test]
    fn a_failed_rebuild_keeps_the_old_index_and_the_writes_made_meanwhile() {
        let index = ProjectIndex::new().expect("index");
        let all = SearchFilter::default();
        index
            .upsert(&row("YJ-1", "和田市人民医院", "44", "653201", true))
            .expect("upsert");
        index.begin_rebuild().expect("begin");
        index
            .add_all(&[row("YJ-1", "和田市卫生院", "44", "653201", true)])
            .expect("add");
        index
            .upsert(&row("YJ-2", "疏附县第二中学", "31", "653121", true))
            .expect("upsert");
        index.abandon_rebuild().expect("abandon");
        assert_eq!(index.search("医院", &all, 10).expect("search"), ["YJ-1"]);
        assert!(index.search("卫生院", &all, 10).expect("search").is_empty());
        assert_eq!(index.search("中学", &all, 10).expect("search"), ["YJ-2"]);
        // Writes after it commit at once again.
        index
            .upsert(&row("YJ-3", "喀什地区职业技术学院", "31", "653101", true))
            .expect("upsert");
        assert_eq!(index.search("学院", &all, 10).expect("search"), ["YJ-3"]);
    }

    #[test]
    fn the_in_memory_index_answers_alike() {
        let index = ProjectIndex::in_memory().expect("index");
        assert!(index.directory().is_none());
        index
            .upsert(&row("YJ-1", "和田市人民医院", "44", "653201", true))
            .expect("upsert");
        let all = SearchFilter::default();
        assert_eq!(index.search("医院", &all, 10).expect("search"), ["YJ-1"]);
    }

    fn index_dirs(parent: &Path) -> Vec<std::path::PathBuf> {
        let mut dirs: Vec<_> = std::fs::read_dir(parent)
            .expect("read parent")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(DIR_PREFIX))
            .map(|e| e.path())
            .collect();
        dirs.sort();
        dirs
    }

    #[test]
    fn directories_of_killed_servers_are_cleared_and_live_ones_kept() {
        let parent = tempfile::tempdir().expect("parent");
        let live = ProjectIndex::new_in(parent.path()).expect("live index");
        let live_dir = live.directory().expect("on disk").to_path_buf();
        // What a killed server leaves: an index directory whose lock no one holds.
        let killed = parent.path().join(format!("{DIR_PREFIX}killed"));
        std::fs::create_dir(&killed).expect("dir");
        std::fs::write(killed.join(".tantivy-writer.lock"), b"").expect("lock file");
        std::fs::write(killed.join("segment.idx"), b"postings").expect("segment");
        let other = parent.path().join("not-an-index");
        std::fs::create_dir(&other).expect("dir");

        // Young directories are left: a server may be starting beside us.
        assert_eq!(clear_stale(parent.path(), Duration::from_secs(3600)), 0);
        assert_eq!(index_dirs(parent.path()).len(), 2);

        assert_eq!(clear_stale(parent.path(), Duration::ZERO), 1);
        assert_eq!(index_dirs(parent.path()), [live_dir]);
        assert!(other.exists(), "other directories are not touched");
        // The live index, whose lock is held, still answers.
        live.upsert(&row("YJ-1", "和田市人民医院", "44", "653201", true))
            .expect("upsert");
        let all = SearchFilter::default();
        assert_eq!(live.search("医院", &all, 10).expect("search"), ["YJ-1"]);

        // A clean stop removes its own.
        drop(live);
        assert!(index_dirs(parent.path()).is_empty());
    }
}
