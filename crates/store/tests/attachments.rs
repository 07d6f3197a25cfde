//! Attachments on both backends: content-addressed files, deduplication,
//! type by content, the size limit, step references, the audit entry, and
//! the bulletin's "acceptance without documents" warning.

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use sm3::{Digest, Sm3};
use yuanjiang_domain::{
    ApprovalStep, AttachmentKind, Category, DeliveryMode, Fen, MAX_ATTACHMENT_BYTES, Principal,
    Project, ProjectBundle, ProjectKind, ProjectState, Role, StateChange,
};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{AuditFilter, AuditVerdict, ProjectFilter, Store, StoreError};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n%%EOF\n").into_bytes()
}

fn sm3_hex(bytes: &[u8]) -> String {
    Sm3::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn gd() -> Principal {
    Principal {
        name: "gd-officer".into(),
        role: Role::Supporter,
        scope: Some("44".into()),
    }
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn project(code: &str, state: ProjectState) -> Project {
    Project {
        code: code.into(),
        name: "疏附县人民医院门诊楼建设项目".into(),
        category: Category::Health,
        delivery_mode: DeliveryMode::Turnkey,
        kind: ProjectKind::Construction,
        year: 2025,
        in_plan: true,
        continued: false,
        grassroots: true,
        livelihood: true,
        supporter_code: "44".into(),
        recipient_code: "653121".into(),
        location_code: "653121".into(),
        planned_investment: Fen::from_yuan(30_000_000),
        aid_funds: Fen::from_yuan(25_000_000),
        matching_funds: Fen::from_yuan(5_000_000),
        start_date: d("2025-03-01"),
        end_date: d("2026-06-30"),
        state,
        published: true,
        description: String::new(),
    }
}

/// Writes an accepted (验收) project with no attachment.
async fn accepted_project(store: &Store, code: &str) {
    let bundle = ProjectBundle {
        project: project(code, ProjectState::Accepted),
        history: vec![
            StateChange {
                from: None,
                to: ProjectState::Proposed,
                at: Utc
                    .with_ymd_and_hms(2024, 11, 1, 9, 0, 0)
                    .single()
                    .expect("time"),
                by: "gd-officer".into(),
                reason: "立项".into(),
            },
            StateChange {
                from: Some(ProjectState::Completed),
                to: ProjectState::Accepted,
                at: Utc
                    .with_ymd_and_hms(2026, 7, 10, 9, 0, 0)
                    .single()
                    .expect("time"),
                by: "gd-officer".into(),
                reason: "竣工验收".into(),
            },
        ],
        transactions: Vec::new(),
        indicators: Vec::new(),
    };
    let mut bulk = store.bulk().await.expect("bulk");
    bulk.insert_bundles(&[bundle]).await.expect("bundle");
    bulk.commit().await.expect("commit");
}

/// The content files under `dir` (temporary files excluded).
fn stored_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(subs) = std::fs::read_dir(dir) else {
        return out;
    };
    for sub in subs {
        let sub = sub.expect("entry").path();
        for f in std::fs::read_dir(&sub).expect("subdir") {
            let name = f.expect("file").file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                out.push(name);
            }
        }
    }
    out.sort();
    out
}

/// Runs `story` on a SQLite store (default attachment directory beside the
/// file) and, when configured, on PostgreSQL (a temporary directory).
async fn on_both<F, Fut>(name: &str, story: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite store");
    assert_eq!(
        sqlite.attachment_dir(),
        dir.path().join("test.attachments"),
        "SQLite keeps attachments beside its file"
    );
    story(sqlite).await;
    if let Some(pg) = postgres_store(name).await.expect("postgres store") {
        let files = tempfile::tempdir().expect("tempdir");
        story(pg.with_attachment_dir(files.path())).await;
    }
}

#[tokio::test]
async fn content_is_stored_once_by_sm3_and_read_back_exactly() {
    on_both("attachments_dedupe", |store| async move {
        let code = "YJ2025-44-95001";
        accepted_project(&store, code).await;
        let bytes = pdf("疏附县人民医院门诊楼 批复");
        let first = store
            .add_attachment(
                &gd(),
                code,
                None,
                AttachmentKind::ApprovalDocument,
                "批复.pdf",
                bytes.clone(),
            )
            .await
            .expect("first upload");
        let second = store
            .add_attachment(
                &gd(),
                code,
                None,
                AttachmentKind::Other,
                "copy/of/批复 (1).pdf",
                bytes.clone(),
            )
            .await
            .expect("second upload");
        assert_ne!(first.id, second.id, "two rows");
        assert_eq!(first.content_sm3, sm3_hex(&bytes));
        assert_eq!(second.content_sm3, first.content_sm3);
        assert_eq!(first.file_name, "批复.pdf");
        assert_eq!(second.file_name, "批复 (1).pdf", "directories are dropped");
        assert_eq!(first.media_type, "application/pdf");
        assert_eq!(first.size_bytes, i64::try_from(bytes.len()).expect("len"));
        assert_eq!(first.uploaded_by, "gd-officer");
        let hex = first.content_sm3.clone();
        assert_eq!(
            stored_files(store.attachment_dir()),
            vec![hex.clone()],
            "one file for both"
        );
        assert!(store.attachment_dir().join(&hex[..2]).join(&hex).is_file());

        let third = store
            .add_attachment(&gd(), code, None, AttachmentKind::Photo, "现场.png", PNG)
            .await
            .expect("third upload");
        assert_eq!(stored_files(store.attachment_dir()).len(), 2);

        let row = store.project(code).await.expect("read").expect("project");
        let listed = store.project_attachments(row.id).await.expect("list");
        assert_eq!(
            listed
                .iter()
                .map(|a| (a.id, a.kind, a.file_name.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (first.id, AttachmentKind::ApprovalDocument, "批复.pdf"),
                (second.id, AttachmentKind::Other, "批复 (1).pdf"),
                (third.id, AttachmentKind::Photo, "现场.png"),
            ]
        );
        let again = store
            .attachment(first.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(again, first, "the row reads back as written");
        assert_eq!(
            store.attachment_content(&again).await.expect("content"),
            bytes
        );
        assert_eq!(store.attachment_content(&third).await.expect("png"), PNG);
        assert_eq!(store.attachment(999_999).await.expect("read"), None);

        // A file changed on disk is refused rather than served.
        std::fs::write(
            store.attachment_dir().join(&hex[..2]).join(&hex),
            pdf("forged"),
        )
        .expect("tamper");
        assert!(matches!(
            store.attachment_content(&again).await,
            Err(StoreError::Corrupt { .. })
        ));
        // Uploading the same content again repairs the damaged copy.
        store
            .add_attachment(
                &gd(),
                code,
                None,
                AttachmentKind::Other,
                "批复.pdf",
                bytes.clone(),
            )
            .await
            .expect("re-upload");
        assert_eq!(
            store.attachment_content(&again).await.expect("repaired"),
            bytes
        );
    })
    .await;
}

#[tokio::test]
async fn type_is_judged_by_content_and_size_is_limited() {
    on_both("attachments_type_size", |store| async move {
        let code = "YJ2025-44-95002";
        accepted_project(&store, code).await;
        let png = store
            .add_attachment(&gd(), code, None, AttachmentKind::Photo, "scan.pdf", PNG)
            .await
            .expect("png named pdf");
        assert_eq!(png.media_type, "image/png", "stored as what it is");
        assert_eq!(png.file_name, "scan.pdf.png");

        let refusals: [(&str, Vec<u8>, &str, &str); 4] = [
            (
                "setup.pdf",
                b"MZ\x90\0\x03\0\0\0\x04\0".to_vec(),
                "attachment_type_not_allowed",
                "a Windows executable",
            ),
            (
                "report.pdf",
                vec![0x13, 0x9f, 0x00, 0xfe, 0x42, 0x88, 0x01],
                "attachment_type_not_allowed",
                "unrecognised data",
            ),
            (
                "empty.pdf",
                Vec::new(),
                "attachment_empty",
                "the file is empty",
            ),
            (
                "big.pdf",
                {
                    let mut v = pdf("big");
                    v.resize(MAX_ATTACHMENT_BYTES + 1, b' ');
                    v
                },
                "attachment_too_large",
                "the file is 20.0 MB, above the limit of 20 MB",
            ),
        ];
        for (name, bytes, code_expected, en) in refusals {
            match store
                .add_attachment(
                    &gd(),
                    code,
                    None,
                    AttachmentKind::AcceptanceReport,
                    name,
                    bytes,
                )
                .await
            {
                Err(StoreError::Rule(e)) => {
                    assert_eq!(e.code, code_expected, "{name}");
                    assert!(e.en.contains(en), "{name}: {}", e.en);
                    assert!(!e.zh.is_empty());
                }
                other => panic!("{name}: expected a refusal, got {other:?}"),
            }
        }
        let row = store.project(code).await.expect("read").expect("project");
        assert_eq!(
            store.project_attachments(row.id).await.expect("list").len(),
            1,
            "refusals store nothing"
        );
        assert_eq!(
            stored_files(store.attachment_dir()),
            vec![png.content_sm3.clone()]
        );

        assert!(matches!(
            store
                .add_attachment(
                    &gd(),
                    "YJ2025-44-99999",
                    None,
                    AttachmentKind::Photo,
                    "x.png",
                    PNG
                )
                .await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn attachments_reference_steps_of_their_own_project_and_are_audited() {
    on_both("attachments_steps_audit", |store| async move {
        let mut draft = project("YJ2026-44-95003", ProjectState::Proposed);
        draft.year = 2026;
        let row = store.create_project(&gd(), &draft).await.expect("draft");
        store
            .take_step(
                &gd(),
                &draft.code,
                row.row_version,
                ApprovalStep::Submit,
                "请审核",
            )
            .await
            .expect("submit");
        let steps = store.attachable_steps(row.id).await.expect("steps");
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].step, ApprovalStep::Submit);
        assert_eq!(steps[0].actor, "gd-officer");
        let doc = store
            .add_attachment(
                &gd(),
                &draft.code,
                Some(steps[0].id),
                AttachmentKind::ApprovalDocument,
                "可研批复.pdf",
                pdf("可研批复"),
            )
            .await
            .expect("on a step");
        assert_eq!(doc.step_id, Some(steps[0].id));

        accepted_project(&store, "YJ2025-44-95004").await;
        match store
            .add_attachment(
                &gd(),
                "YJ2025-44-95004",
                Some(steps[0].id),
                AttachmentKind::Photo,
                "x.png",
                PNG,
            )
            .await
        {
            Err(StoreError::Rule(e)) => {
                assert_eq!(e.code, "unknown_approval_step");
                assert_eq!(
                    e.en,
                    format!(
                        "project YJ2025-44-95004 has no approval step {}",
                        steps[0].id
                    )
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }

        let page = store
            .audit_entries(
                &AuditFilter {
                    entity: Some("attachment".into()),
                    entity_key: Some(doc.id.to_string()),
                    actor: None,
                },
                None,
                10,
            )
            .await
            .expect("audit");
        assert_eq!(page.items.len(), 1, "one entry for the upload");
        let entry = &page.items[0];
        assert_eq!(entry.actor, "gd-officer");
        assert_eq!(entry.action, "create");
        let after: serde_json::Value =
            serde_json::from_str(entry.after_json.as_deref().expect("after")).expect("json");
        assert_eq!(after["project"], "YJ2026-44-95003");
        assert_eq!(after["kind"], "approval_document");
        assert_eq!(after["file_name"], "可研批复.pdf");
        assert_eq!(after["content_sm3"], sm3_hex(&pdf("可研批复")));
        assert_eq!(after["step_id"], steps[0].id);
        assert!(matches!(
            store.verify_audit().await.expect("verify"),
            AuditVerdict::Intact { .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn acceptance_without_a_report_is_flagged_until_one_is_uploaded() {
    on_both("attachments_acceptance_warning", |store| async move {
        let code = "YJ2025-44-95005";
        accepted_project(&store, code).await;
        // A project still under construction needs no report.
        let mut bundle_project = project("YJ2025-44-95006", ProjectState::UnderConstruction);
        bundle_project.name = "在建项目".into();
        let mut bulk = store.bulk().await.expect("bulk");
        bulk.insert_bundles(&[ProjectBundle {
            project: bundle_project,
            history: Vec::new(),
            transactions: Vec::new(),
            indicators: Vec::new(),
        }])
        .await
        .expect("bundle");
        bulk.commit().await.expect("commit");

        let today = Utc::now().date_naive();
        let all = ProjectFilter::default();
        let flagged = |store: Store, filter: ProjectFilter, day: NaiveDate| async move {
            store
                .accepted_without_report(&filter, day)
                .await
                .expect("warning")
                .into_iter()
                .map(|f| (f.code, f.amount))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            flagged(store.clone(), all.clone(), today).await,
            vec![(code.to_owned(), Fen::from_yuan(25_000_000))]
        );
        let shanghai = ProjectFilter {
            supporter: Some("31".into()),
            ..Default::default()
        };
        assert_eq!(flagged(store.clone(), shanghai, today).await, vec![]);

        // A photo is not a report.
        store
            .add_attachment(
                &gd(),
                code,
                None,
                AttachmentKind::Photo,
                "验收现场.png",
                PNG,
            )
            .await
            .expect("photo");
        assert_eq!(flagged(store.clone(), all.clone(), today).await.len(), 1);

        store
            .add_attachment(
                &gd(),
                code,
                None,
                AttachmentKind::AcceptanceReport,
                "竣工验收报告.pdf",
                pdf("竣工验收报告"),
            )
            .await
            .expect("report");
        assert_eq!(flagged(store.clone(), all.clone(), today).await, vec![]);
        // As of yesterday the report had not been uploaded yet.
        let yesterday = today.pred_opt().expect("yesterday");
        assert_eq!(
            flagged(store.clone(), all.clone(), yesterday).await.len(),
            1
        );
    })
    .await;
}
