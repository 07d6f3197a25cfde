//! Writes, optimistic concurrency and the approval workflow, on both backends.

use chrono::NaiveDate;
use yuanjiang_domain::{
    ApprovalStatus, ApprovalStep, Category, DeliveryMode, Fen, FundTransaction, FundType,
    Indicator, Principal, Project, ProjectKind, ProjectState, Role,
};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{Store, StoreError};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(name: &str, role: Role, scope: Option<&str>) -> Principal {
    Principal {
        name: name.into(),
        role,
        scope: scope.map(str::to_owned),
    }
}

fn draft(code: &str) -> Project {
    Project {
        code: code.into(),
        name: "疏附县职业技术学校实训楼建设项目".into(),
        category: Category::Education,
        delivery_mode: DeliveryMode::Turnkey,
        kind: ProjectKind::Construction,
        year: 2026,
        in_plan: true,
        continued: false,
        grassroots: true,
        livelihood: true,
        supporter_code: "44".into(),
        recipient_code: "653121".into(),
        location_code: "653121".into(),
        planned_investment: Fen::from_yuan(12_000_000),
        aid_funds: Fen::from_yuan(10_000_000),
        matching_funds: Fen::from_yuan(2_000_000),
        start_date: d("2026-03-01"),
        end_date: d("2027-08-31"),
        state: ProjectState::Operating,
        published: true,
        description: "<script>alert('x')</script>' OR 1=1; --".into(),
    }
}

fn txn(fund_type: FundType, yuan: i64, date: &str, doc: &str) -> FundTransaction {
    FundTransaction {
        project_code: String::new(),
        fund_type,
        amount: Fen::from_yuan(yuan),
        date: d(date),
        document_no: doc.into(),
        note: String::new(),
    }
}

async fn on_both<F, Fut>(name: &str, story: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    story(sqlite_store(dir.path()).await.expect("sqlite store")).await;
    if let Some(pg) = postgres_store(name).await.expect("postgres store") {
        story(pg).await;
    }
}

#[tokio::test]
async fn project_writes_check_rules_and_versions() {
    on_both("project_writes", |store| async move {
        let gd = user("gd-officer", Role::Supporter, Some("44"));
        let row = store.create_project(&gd, &draft("YJ2026-44-90001")).await.expect("create");
        assert_eq!(row.project.state, ProjectState::Proposed, "new projects start as proposed");
        assert!(!row.project.published, "drafts are not published");
        assert_eq!(row.approval, ApprovalStatus::Draft);
        assert_eq!(row.prefecture_code, "6531");
        assert_eq!(row.project.description, draft("x").description, "stored verbatim, harmlessly");
        let v1 = row.row_version;

        // Duplicate code → Duplicate; location outside the recipient → rule.
        let dup = store.create_project(&gd, &draft("YJ2026-44-90001")).await;
        assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
        let mut away = draft("YJ2026-44-90002");
        away.location_code = "653201".into();
        let err = store.create_project(&gd, &away).await.expect_err("outside");
        assert!(matches!(err, StoreError::Rule(ref e) if e.code == "location_outside_recipient"));

        // Update with the right version, then a stale one.
        let mut edit = row.project.clone();
        edit.name = "疏附县职业技术学校实训楼（二期）建设项目".into();
        let updated = store.update_project(&gd, "YJ2026-44-90001", v1, &edit).await.expect("update");
        assert_eq!(updated.row_version, v1 + 1);
        assert_eq!(updated.project.name, edit.name);
        assert_eq!(updated.project.state, ProjectState::Proposed, "PUT does not change state");
        let stale = store.update_project(&gd, "YJ2026-44-90001", v1, &edit).await;
        assert!(matches!(stale, Err(StoreError::VersionMismatch { current }) if current == v1 + 1), "{stale:?}");

        // Lifecycle: illegal transitions are refused with the allowed ones named.
        let v = updated.row_version;
        let err = store.change_state(&gd, "YJ2026-44-90001", v, ProjectState::Completed, "").await.expect_err("illegal");
        assert!(matches!(err, StoreError::Rule(ref e) if e.code == "illegal_transition" && e.en.contains("plan issued")));
        let issued = store.change_state(&gd, "YJ2026-44-90001", v, ProjectState::PlanIssued, "计划下达").await.expect("legal");
        assert_eq!(issued.project.state, ProjectState::PlanIssued);
        let history = store.project_history(issued.id).await.expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!((history[1].from, history[1].to), (Some(ProjectState::Proposed), ProjectState::PlanIssued));
        assert_eq!(history[1].by, "gd-officer");

        // Fund chain through writes: payment beyond allocation refused.
        let code = "YJ2026-44-90001";
        let filter = yuanjiang_store::ProjectFilter::default();
        let before = store.fund_stats(&filter, &[]).await.expect("stats")[0].chain;
        for t in [
            txn(FundType::Commitment, 10_000_000, "2026-03-01", "粤援〔2026〕1号"),
            txn(FundType::Transfer, 8_000_000, "2026-03-10", "粤援〔2026〕2号"),
            txn(FundType::Allocation, 5_000_000, "2026-03-20", "喀财〔2026〕3号"),
        ] {
            store.add_transaction(&gd, code, &t).await.expect("chain step");
        }
        // The (cached) figures follow the writes at once.
        let after = store.fund_stats(&filter, &[]).await.expect("stats")[0].chain;
        assert_eq!(after.committed.0 - before.committed.0, Fen::from_yuan(10_000_000).0);
        assert_eq!(after.allocated.0 - before.allocated.0, Fen::from_yuan(5_000_000).0);
        let over = store.add_transaction(&gd, code, &txn(FundType::Payment, 5_000_001, "2026-04-01", "疏财〔2026〕4号")).await;
        assert!(matches!(over, Err(StoreError::Rule(ref e)) if e.code == "fund_chain_broken"), "{over:?}");
        let paid = store.add_transaction(&gd, code, &txn(FundType::Payment, 5_000_000, "2026-04-01", "疏财〔2026〕4号")).await.expect("pay");
        let again = store.add_transaction(&gd, code, &txn(FundType::Payment, 1, "2026-04-01", "疏财〔2026〕4号")).await;
        assert!(matches!(again, Err(StoreError::Duplicate(_)) | Err(StoreError::Rule(_))), "{again:?}");
        // Correcting the allocation below what was paid breaks the chain.
        let txns = store.project_transactions(issued.id).await.expect("txns");
        let alloc = txns.iter().find(|t| t.transaction.fund_type == FundType::Allocation).expect("alloc");
        let mut lower = alloc.transaction.clone();
        lower.amount = Fen::from_yuan(4_000_000);
        let err = store.update_transaction(&gd, alloc.id, alloc.row_version, &lower).await.expect_err("chain");
        assert!(matches!(err, StoreError::Rule(ref e) if e.code == "fund_chain_broken"));
        let mut higher = alloc.transaction.clone();
        higher.amount = Fen::from_yuan(6_000_000);
        let fixed = store.update_transaction(&gd, alloc.id, alloc.row_version, &higher).await.expect("raise");
        assert_eq!(fixed.row_version, alloc.row_version + 1);
        let stale = store.update_transaction(&gd, alloc.id, alloc.row_version, &higher).await;
        assert!(matches!(stale, Err(StoreError::VersionMismatch { .. })));
        assert_eq!(paid.transaction.amount, Fen::from_yuan(5_000_000));

        // Indicator values: creating needs no version, replacing does.
        store.put_indicator(&gd, code, &Indicator {
            project_code: code.into(), name: "新增学位".into(), unit: "个".into(), baseline: 0.0, target: 1200.0,
        }).await.expect("indicator");
        let v = store.put_indicator_value(&gd, code, "新增学位", "2026", 300.0, None).await.expect("value");
        assert_eq!(v, 1);
        let missing = store.put_indicator_value(&gd, code, "新增学位", "2026", 400.0, None).await;
        assert!(matches!(missing, Err(StoreError::VersionRequired { current: 1 })), "{missing:?}");
        let v2 = store.put_indicator_value(&gd, code, "新增学位", "2026", 400.0, Some(1)).await.expect("replace");
        assert_eq!(v2, 2);
        let bad = store.put_indicator_value(&gd, code, "新增学位", "2026-13", 1.0, None).await;
        assert!(matches!(bad, Err(StoreError::Rule(ref e)) if e.code == "invalid_period"));

        assert!(store.check().await.expect("check").is_clean());
    })
    .await;
}

#[tokio::test]
async fn approval_workflow_end_to_end() {
    on_both("approval_workflow", |store| async move {
        let gd = user("gd-officer", Role::Supporter, Some("44"));
        let kashgar = user("kashgar-office", Role::Prefecture, Some("6531"));
        let region = user("region-office", Role::Region, None);
        let code = "YJ2026-44-90010";
        let row = store
            .create_project(&gd, &draft(code))
            .await
            .expect("create");
        assert_eq!(
            store.inbox(&gd, 100).await.expect("inbox").len(),
            1,
            "a draft waits for its author"
        );
        assert!(store.inbox(&kashgar, 100).await.expect("inbox").is_empty());

        let err = store
            .take_step(&region, code, row.row_version, ApprovalStep::Approve, "")
            .await
            .expect_err("not yet");
        assert!(matches!(err, StoreError::Rule(ref e) if e.code == "illegal_approval_step"));

        let submitted = store
            .take_step(&gd, code, row.row_version, ApprovalStep::Submit, "请审核")
            .await
            .expect("submit");
        assert_eq!(submitted.approval, ApprovalStatus::Submitted);
        let waiting = store.inbox(&kashgar, 100).await.expect("inbox");
        assert_eq!(
            waiting
                .iter()
                .map(|i| i.project.project.code.as_str())
                .collect::<Vec<_>>(),
            vec![code]
        );
        assert!(store.inbox(&gd, 100).await.expect("inbox").is_empty());

        let reviewed = store
            .take_step(
                &kashgar,
                code,
                submitted.row_version,
                ApprovalStep::Review,
                "同意",
            )
            .await
            .expect("review");
        let err = store
            .take_step(
                &region,
                code,
                reviewed.row_version,
                ApprovalStep::Return,
                "  ",
            )
            .await
            .expect_err("comment");
        assert!(matches!(err, StoreError::Rule(ref e) if e.code == "comment_required"));
        let returned = store
            .take_step(
                &region,
                code,
                reviewed.row_version,
                ApprovalStep::Return,
                "请补充可研报告",
            )
            .await
            .expect("return");
        assert_eq!(returned.approval, ApprovalStatus::Returned);
        assert_eq!(
            store.inbox(&gd, 100).await.expect("inbox").len(),
            1,
            "returned to its author"
        );

        let resubmitted = store
            .take_step(
                &gd,
                code,
                returned.row_version,
                ApprovalStep::Submit,
                "已补充",
            )
            .await
            .expect("resubmit");
        let reviewed = store
            .take_step(
                &kashgar,
                code,
                resubmitted.row_version,
                ApprovalStep::Review,
                "",
            )
            .await
            .expect("review");
        assert_eq!(store.inbox(&region, 100).await.expect("inbox").len(), 1);
        let approved = store
            .take_step(
                &region,
                code,
                reviewed.row_version,
                ApprovalStep::Approve,
                "批准",
            )
            .await
            .expect("approve");
        assert_eq!(approved.approval, ApprovalStatus::Approved);
        assert_eq!(
            approved.project.state,
            ProjectState::PlanIssued,
            "approval issues the plan"
        );
        assert!(approved.project.published, "approval publishes");
        assert!(store.inbox(&region, 100).await.expect("inbox").is_empty());

        let steps = store.approval_steps(approved.id).await.expect("steps");
        let trail: Vec<(ApprovalStep, &str)> =
            steps.iter().map(|s| (s.step, s.actor.as_str())).collect();
        assert_eq!(
            trail,
            vec![
                (ApprovalStep::Submit, "gd-officer"),
                (ApprovalStep::Review, "kashgar-office"),
                (ApprovalStep::Return, "region-office"),
                (ApprovalStep::Submit, "gd-officer"),
                (ApprovalStep::Review, "kashgar-office"),
                (ApprovalStep::Approve, "region-office"),
            ]
        );
        assert_eq!(steps[2].comment, "请补充可研报告");
        assert!(steps.iter().all(|s| s.waited_seconds >= 0));
        let history = store.project_history(approved.id).await.expect("history");
        assert_eq!(history.last().map(|h| h.to), Some(ProjectState::PlanIssued));
    })
    .await;
}
