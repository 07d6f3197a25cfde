//! The pages' words in zh-CN and English: one table, looked up by key.
//! Vocabulary labels (categories, states, …) come from the domain's
//! `zh()`/`en()` instead, so a term reads the same in the API and the pages.

/// The language a page is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The `lang` attribute of the page.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Picks the text in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The text of `key`; the key itself if the table lacks it (a test
    /// checks that every key the templates use is present).
    pub fn t(self, key: &str) -> &'static str {
        match all_words().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => self.pick(zh, en),
            None => {
                tracing::warn!(key, "missing translation");
                "?"
            }
        }
    }
}

/// Every table: the shared one here and the ones kept beside their pages.
pub fn all_words() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    WORDS
        .iter()
        .chain(super::exchange::WORDS)
        .chain(super::attachments::WORDS)
}

/// (key, zh-CN, English).
pub const WORDS: &[(&str, &str, &str)] = &[
    // Chrome.
    ("app", "援疆通", "Yuanjiang"),
    (
        "app.tagline",
        "对口援疆一体化数据平台",
        "Integrated data platform for paired assistance to Xinjiang",
    ),
    ("skip", "跳到正文", "Skip to content"),
    ("nav", "主导航", "Main navigation"),
    ("nav.home", "首页", "Dashboard"),
    ("nav.projects", "项目库", "Projects"),
    ("nav.inbox", "待办", "Inbox"),
    ("nav.personnel", "干部人才", "Personnel"),
    ("nav.pairings", "结对关系", "Pairings"),
    ("nav.evaluation", "效益评价", "Evaluation"),
    ("nav.audit", "审计", "Audit"),
    ("nav.users", "用户管理", "Users"),
    ("nav.public", "公开", "Public portal"),
    ("login", "登录", "Sign in"),
    ("logout", "退出", "Sign out"),
    ("public.visitor", "公众访客", "Public visitor"),
    ("lang.switch", "English", "中文"),
    ("lang.switch.label", "Switch to English", "切换到中文"),
    (
        "footer",
        "援疆通 · 数据以分为单位精确记录，处处一致",
        "Yuanjiang · amounts are kept to the fen and agree everywhere",
    ),
    // Errors.
    ("error.title", "出错了", "Something went wrong"),
    (
        "error.not_found",
        "页面不存在，或您无权查看",
        "The page does not exist, or you may not see it",
    ),
    ("error.back", "返回首页", "Back to the dashboard"),
    ("error.login_required", "请先登录", "Please sign in first"),
    // Common.
    ("filter", "筛选", "Filter"),
    ("filters", "筛选条件", "Filters"),
    ("apply", "应用", "Apply"),
    ("reset", "清除", "Clear"),
    ("all", "全部", "All"),
    ("yes", "是", "Yes"),
    ("no", "否", "No"),
    ("none", "无", "None"),
    ("save", "保存", "Save"),
    ("cancel", "取消", "Cancel"),
    ("year", "年度", "Year"),
    ("supporter", "支援方", "Supporter"),
    ("prefecture", "地州/师市", "Prefecture / division"),
    ("recipient", "受援地", "Recipient"),
    ("location", "项目地点", "Location"),
    ("category", "项目类别", "Category"),
    ("state", "项目状态", "State"),
    ("approval", "审批状态", "Approval"),
    ("xpcc", "兵团", "XPCC"),
    ("xpcc.only", "仅兵团", "XPCC only"),
    ("xpcc.without", "不含兵团", "Without XPCC"),
    ("wan_yuan", "万元", "10k yuan"),
    ("yuan", "元", "yuan"),
    ("count", "数量", "Count"),
    ("projects.unit", "个", ""),
    ("people.unit", "人", ""),
    ("days", "天", "days"),
    ("hours", "小时", "hours"),
    ("minutes", "分钟", "minutes"),
    ("total", "合计", "Total"),
    ("legend", "图例", "Legend"),
    ("next_page", "下一页", "Next page"),
    ("first_page", "第一页", "First page"),
    ("no_rows", "没有符合条件的记录", "No matching records"),
    ("comment", "意见", "Comment"),
    ("reason", "原因", "Reason"),
    ("at", "时间", "When"),
    ("by", "操作人", "By"),
    ("done", "已保存", "Saved"),
    // Dashboard.
    (
        "home.title",
        "援疆资金与项目总览",
        "Aid funds and projects at a glance",
    ),
    ("home.scope.all", "全部数据", "All data"),
    (
        "home.scope.public",
        "公众视图：仅含已公开项目",
        "Public view: published projects only",
    ),
    ("home.scope.yours", "您的范围", "Your scope"),
    (
        "home.year.note",
        "资金按交易年度统计，项目数按计划年度统计",
        "Funds by transaction year; projects by plan year",
    ),
    ("fig.planned", "计划安排", "Planned"),
    ("fig.transferred", "资金到疆", "Transferred"),
    ("fig.allocated", "拨付到项目", "Allocated"),
    ("fig.paid", "已支付", "Paid"),
    ("fig.spent", "已支出", "Spent"),
    ("fig.refunded", "退回", "Refunded"),
    ("rate.arrival", "资金到疆率", "Arrival rate"),
    ("rate.allocation", "拨付率", "Allocation rate"),
    ("rate.payment", "支付率", "Payment rate"),
    ("rate.execution", "执行率", "Execution rate"),
    ("rate.start", "开工率", "Start rate"),
    ("rate.completion", "竣工率", "Completion rate"),
    ("rate.acceptance", "验收率", "Acceptance rate"),
    ("rates", "主要比率", "Rates"),
    ("eighty", "80/80 规则", "The 80/80 rule"),
    (
        "eighty.grassroots",
        "县及县以下（基层）资金占比",
        "Share at county level and below",
    ),
    ("eighty.livelihood", "民生资金占比", "Share for livelihood"),
    ("eighty.threshold", "要求不低于 80%", "must be at least 80%"),
    ("eighty.ok", "达标", "met"),
    ("eighty.low", "低于要求", "below threshold"),
    (
        "eighty.note",
        "按计划安排资金计算",
        "computed on planned (committed) funds",
    ),
    ("by_state", "项目状态分布", "Projects by state"),
    ("chart.by_year", "各年度资金", "Funds by year"),
    (
        "chart.by_supporter",
        "各支援方计划安排资金",
        "Planned funds by supporter",
    ),
    (
        "chart.by_category",
        "各类别计划安排资金",
        "Planned funds by category",
    ),
    ("projects.count", "项目数", "Projects"),
    // Registry.
    ("projects.title", "援疆项目库", "Aid project registry"),
    ("search", "搜索", "Search"),
    (
        "search.label",
        "全文搜索（名称、地名、类别）",
        "Full-text search (name, place, category)",
    ),
    (
        "search.placeholder",
        "如：职业教育、喀什",
        "e.g. 职业教育, 喀什",
    ),
    (
        "search.building",
        "搜索索引正在建立，请稍后再试",
        "The search index is being built; please try again shortly",
    ),
    (
        "search.hits",
        "搜索结果按相关度排序",
        "Search results in order of relevance",
    ),
    ("sort", "排序", "Sort by"),
    ("sort.relevance", "相关度", "Relevance"),
    ("sort.newest", "最新录入", "Newest"),
    ("sort.code", "项目编号", "Code"),
    ("sort.name", "项目名称", "Name"),
    ("sort.year", "计划年度", "Plan year"),
    ("sort.investment", "计划总投资", "Planned investment"),
    ("sort.aid", "援疆资金", "Aid funds"),
    ("dir", "顺序", "Order"),
    ("dir.asc", "升序", "Ascending"),
    ("dir.desc", "降序", "Descending"),
    ("in_plan", "规划内", "In plan"),
    ("continued", "续建", "Continued"),
    ("grassroots", "县及县以下", "County level and below"),
    ("livelihood", "民生", "Livelihood"),
    ("export", "导出本列表（JSON）", "Export this list (JSON)"),
    ("new_project", "新建项目", "New project"),
    ("code", "项目编号", "Code"),
    ("name", "项目名称", "Name"),
    ("aid_funds", "援疆资金", "Aid funds"),
    ("planned_investment", "计划总投资", "Planned investment"),
    ("matching_funds", "配套资金", "Matching funds"),
    // Project page.
    ("summary", "概况", "Summary"),
    ("delivery_mode", "建设方式", "Delivery mode"),
    ("kind", "项目性质", "Project kind"),
    ("start_date", "计划开工", "Planned start"),
    ("end_date", "计划完工", "Planned end"),
    ("published", "已公开", "Published"),
    ("description", "项目简介", "Description"),
    ("fund_chain", "资金链", "Fund chain"),
    ("transactions", "资金记录", "Fund transactions"),
    ("fund_type", "资金类型", "Fund type"),
    ("amount", "金额", "Amount"),
    ("amount_yuan", "金额（元）", "Amount (yuan)"),
    ("date", "日期", "Date"),
    ("document_no", "文号", "Document number"),
    ("note", "备注", "Note"),
    ("history", "状态历程", "State history"),
    ("history.from", "原状态", "From"),
    ("history.to", "新状态", "To"),
    ("history.spent", "停留时间", "Time in state"),
    ("history.current", "至今", "so far"),
    ("approvals", "审批记录", "Approval steps"),
    ("approval.step", "操作", "Step"),
    ("approval.waited", "等待时间", "Waited"),
    ("indicators", "绩效指标", "Indicators"),
    ("indicator", "指标", "Indicator"),
    ("unit", "单位", "Unit"),
    ("baseline", "基期值", "Baseline"),
    ("target", "目标值", "Target"),
    ("actual", "实际值", "Actual"),
    ("progress", "完成度", "Progress"),
    (
        "assignments",
        "相关援疆干部人才",
        "Related cadres and professionals",
    ),
    (
        "assignments.link",
        "查看该支援方在本地的干部人才",
        "See this supporter's people posted here",
    ),
    ("actions", "操作", "Actions"),
    ("edit", "编辑项目", "Edit project"),
    ("change_state", "变更状态", "Change state"),
    ("to_state", "新状态", "New state"),
    ("record_txn", "录入资金", "Record a fund transaction"),
    ("take_step", "审批", "Approval"),
    (
        "final_state",
        "已是终态，不能再变更",
        "Final state: no further change",
    ),
    ("version", "版本", "Version"),
    // Forms.
    ("form.new.title", "新建援疆项目", "New aid project"),
    ("form.edit.title", "编辑援疆项目", "Edit aid project"),
    (
        "form.errors",
        "请更正下列标出的字段",
        "Please correct the fields marked below",
    ),
    (
        "form.stale",
        "该项目已被他人修改。您的输入已保留；请核对当前内容后重新提交。",
        "Someone else changed this project. Your input is kept; check the current values and submit again.",
    ),
    ("form.required", "必填", "required"),
    (
        "form.yuan_hint",
        "以元为单位，最多两位小数",
        "in yuan, at most two decimals",
    ),
    (
        "form.code_hint",
        "大写字母、数字和“-”，如 YJ2026-31-00001",
        "upper-case letters, digits and \"-\", e.g. YJ2026-31-00001",
    ),
    (
        "form.location_hint",
        "乡镇或县市代码，须在受援地范围内；留空则同受援地",
        "township or county code within the recipient; empty means the recipient itself",
    ),
    ("form.flags", "项目属性", "Flags"),
    ("form.create", "保存草稿", "Save draft"),
    ("form.update", "保存修改", "Save changes"),
    (
        "form.bad_date",
        "日期无效，应为 YYYY-MM-DD",
        "invalid date: expected YYYY-MM-DD",
    ),
    (
        "form.bad_year",
        "年度无效，应为四位数字",
        "invalid year: expected four digits",
    ),
    ("form.bad_choice", "请选择一项", "please choose one"),
    // Inbox.
    ("inbox.title", "待办事项", "Waiting for me"),
    ("inbox.empty", "暂无待办事项", "Nothing is waiting for you"),
    ("inbox.waiting", "已等待", "Waiting"),
    ("inbox.next", "待办操作", "Next step"),
    (
        "inbox.none_for_role",
        "您的角色没有审批待办",
        "Your role has no approval items",
    ),
    // Public portal.
    ("public.title", "援疆项目公开", "Aid projects, published"),
    (
        "public.intro",
        "以下为已公开的援疆项目和资金情况，无需登录即可查看。",
        "Published aid projects and their funds, open to everyone without signing in.",
    ),
    (
        "public.map",
        "新疆各地州和兵团师市援疆资金示意图",
        "Aid funds by prefecture and XPCC division (schematic)",
    ),
    (
        "public.map.note",
        "示意图：方块按大致地理方位排列，不表示行政边界",
        "Schematic: tiles are placed roughly by geography; they do not show boundaries",
    ),
    ("public.map.prefectures", "地州市", "Prefectures"),
    ("public.map.xpcc", "兵团师市", "XPCC divisions"),
    (
        "public.by_prefecture",
        "各地州/师市",
        "By prefecture and division",
    ),
    ("public.by_category", "各类别", "By category"),
    (
        "public.latest",
        "最近公开的项目",
        "Recently published projects",
    ),
    ("public.open_data", "开放数据下载", "Open data download"),
    (
        "public.all",
        "查看全部公开项目",
        "See all published projects",
    ),
    // Personnel.
    (
        "personnel.title",
        "援疆干部人才",
        "Cadres and professionals",
    ),
    ("personnel.in_post", "在岗人数", "In post"),
    ("personnel.batches", "轮换批次", "Rotation batches"),
    ("personnel.batch", "批次", "Batch"),
    ("personnel.batch_n", "第{}批", "batch {}"),
    ("personnel.start", "开始", "Start"),
    ("personnel.end", "结束", "End"),
    ("personnel.by_category", "按人员类别", "By category"),
    ("personnel.by_host", "按接收单位", "By host unit"),
    ("personnel.host_unit", "接收单位", "Host unit"),
    (
        "personnel.timeline",
        "轮换时间轴：今后 24 个月每月期满返回人数",
        "Rotation timeline: people due to return each month, next 24 months",
    ),
    ("personnel.list", "人员名单", "People"),
    ("personnel.person", "姓名", "Name"),
    ("personnel.id_number", "身份证号", "ID number"),
    ("personnel.phone", "手机", "Phone"),
    ("personnel.post", "职务", "Post"),
    ("personnel.arrival", "到岗", "Arrival"),
    ("personnel.return", "返回", "Return"),
    (
        "personnel.masked",
        "个人信息已按规定脱敏",
        "Personal data masked as the rules require",
    ),
    (
        "personnel.clear",
        "您有权查看完整个人信息",
        "You may see personal data in full",
    ),
    (
        "personnel.more",
        "仅显示前 100 人",
        "Showing the first 100 people",
    ),
    // Pairings.
    ("pairings.title", "对口支援结对关系", "Who supports whom"),
    ("pairings.scope", "范围", "Scope"),
    ("pairings.from", "起", "From"),
    ("pairings.to", "止", "To"),
    ("pairings.ongoing", "至今", "ongoing"),
    ("pairings.timeline", "结对时间轴", "Pairings over time"),
    // Audit and users.
    ("audit.title", "审计日志", "Audit trail"),
    ("audit.entity", "对象类型", "Record kind"),
    ("audit.key", "对象", "Record"),
    ("audit.action", "动作", "Action"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.change", "变更内容", "Change"),
    ("audit.hash", "哈希", "Hash"),
    (
        "audit.retention",
        "审计日志为哈希链，不可篡改，至少保留 6 个月",
        "The trail is a hash chain, tamper-evident, kept at least 6 months",
    ),
    ("users.title", "用户管理", "User administration"),
    ("users.name", "用户名", "User name"),
    ("users.role", "角色", "Role"),
    ("users.scope", "范围", "Scope"),
    ("users.status", "状态", "Status"),
    ("users.active", "正常", "Active"),
    ("users.disabled", "已停用", "Disabled"),
    ("users.locked", "已锁定至", "Locked until"),
    ("users.created", "创建时间", "Created"),
    ("users.disable", "停用", "Disable"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_template_key_exists() {
        let mut keys: Vec<&str> = all_words().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "duplicate translation keys");
        let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for dir in [crate_dir.join("templates"), crate_dir.join("src/web")] {
            for entry in std::fs::read_dir(dir).expect("dir") {
                let path = entry.expect("entry").path();
                if path.ends_with("i18n.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read");
                // Every `t("key")` call, not `split("…")` and the like.
                let mut rest = text.as_str();
                while let Some(at) = rest.find("t(\"") {
                    let before = rest[..at].chars().next_back();
                    rest = &rest[at + 3..];
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let key = rest.split('"').next().unwrap_or_default();
                    assert!(
                        keys.contains(&key),
                        "{}: missing translation key {key:?}",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "pages use translation keys");
    }

    #[test]
    fn lookups() {
        assert_eq!(Lang::Zh.t("nav.home"), "首页");
        assert_eq!(Lang::En.t("nav.home"), "Dashboard");
        assert_eq!(Lang::En.t("no.such.key"), "?");
    }
}
