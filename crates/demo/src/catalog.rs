//! The vocabulary a real project list is written in: how often each category
//! occurs and how large its projects are, the objects projects build or run
//! at each level (the "实训楼" in 疏附县职业技术学校实训楼建设项目), the
//! indicators each category reports, and the reasons written on each change
//! of state. Tables only; the drawing happens in `project`.

use yuanjiang_domain::{Category, DeliveryMode, ProjectKind, ProjectState};

/// Relative frequency of categories among projects: education, industry,
/// housing and health lead, as in published annual project lists.
pub(crate) const CATEGORY_WEIGHTS: [(Category, u32); 10] = [
    (Category::Education, 19),
    (Category::IndustryEmployment, 16),
    (Category::Housing, 15),
    (Category::Health, 12),
    (Category::Infrastructure, 10),
    (Category::Talent, 8),
    (Category::Culture, 6),
    (Category::EthnicExchange, 5),
    (Category::Other, 5),
    (Category::Science, 4),
];

/// Share of a category's projects that build nothing (training, exchange).
pub(crate) fn non_construction_share(category: Category) -> f64 {
    match category {
        Category::Talent => 0.9,
        Category::EthnicExchange => 0.85,
        Category::Culture => 0.45,
        Category::Science => 0.4,
        Category::Other => 0.3,
        Category::Education | Category::Health => 0.15,
        Category::IndustryEmployment => 0.12,
        Category::Housing | Category::Infrastructure => 0.0,
    }
}

/// Share of a category's projects that count as livelihood (民生).
/// Education, health and housing always do; employment-oriented industry
/// mostly does; an industrial park or a trunk road often does not.
pub(crate) fn livelihood_share(category: Category) -> f64 {
    match category {
        Category::Education | Category::Health | Category::Housing => 1.0,
        Category::IndustryEmployment => 0.75,
        Category::Culture => 0.8,
        Category::Infrastructure => 0.65,
        Category::EthnicExchange => 0.6,
        Category::Talent => 0.5,
        Category::Other => 0.5,
        Category::Science => 0.35,
    }
}

/// Median aid funds of a project, in 万元 (10,000 yuan).
pub(crate) fn median_wan(category: Category, kind: ProjectKind) -> f64 {
    let construction = match category {
        Category::Infrastructure => 820.0,
        Category::IndustryEmployment => 720.0,
        Category::Housing => 680.0,
        Category::Health => 600.0,
        Category::Education => 500.0,
        Category::Science => 360.0,
        Category::Culture => 320.0,
        Category::EthnicExchange => 280.0,
        Category::Other => 280.0,
        Category::Talent => 230.0,
    };
    match kind {
        ProjectKind::Construction => construction,
        // Training and exchange programmes cost a few hundred thousand to a few million.
        ProjectKind::NonConstruction => 80.0,
    }
}

/// Delivery modes by kind: most construction money is handed over as a
/// cheque for the recipient to build; programmes are mostly run jointly.
pub(crate) fn delivery_weights(kind: ProjectKind) -> &'static [(DeliveryMode, u32)] {
    match kind {
        ProjectKind::Construction => &[
            (DeliveryMode::Cheque, 55),
            (DeliveryMode::Turnkey, 25),
            (DeliveryMode::Joint, 20),
        ],
        ProjectKind::NonConstruction => &[
            (DeliveryMode::Joint, 50),
            (DeliveryMode::Cheque, 40),
            (DeliveryMode::Turnkey, 10),
        ],
    }
}

/// The administrative level a project object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// A township (乡镇) or sub-district.
    Township,
    /// A county, county-level city or XPCC division.
    County,
    /// A prefecture-level unit (地区、自治州、地级市).
    Prefecture,
}

/// Project-name templates: `{p}` is the place, `{y}` the plan year.
pub(crate) fn name_templates(
    category: Category,
    kind: ProjectKind,
    level: Level,
) -> &'static [&'static str] {
    use Category::*;
    use Level::*;
    use ProjectKind::*;
    match (category, kind, level) {
        (IndustryEmployment, Construction, Township) => &[
            "{p}卫星工厂建设项目",
            "{p}农产品加工车间建设项目",
            "{p}设施农业大棚建设项目",
            "{p}特色林果保鲜库建设项目",
            "{p}畜牧养殖小区建设项目",
            "{p}就业帮扶车间建设项目",
        ],
        (IndustryEmployment, Construction, County) => &[
            "{p}纺织服装产业园标准化厂房项目",
            "{p}工业园区标准化厂房建设项目",
            "{p}现代农业产业园基础设施项目",
            "{p}电子产品组装产业园建设项目",
            "{p}农产品冷链物流中心建设项目",
            "{p}创业孵化园建设项目",
            "{p}特色农产品交易市场建设项目",
        ],
        (IndustryEmployment, Construction, Prefecture) => &[
            "{p}经济技术开发区标准化厂房项目",
            "{p}综合物流园区建设项目",
            "{p}农副产品精深加工园区基础设施项目",
        ],
        (IndustryEmployment, NonConstruction, Township) => &["{y}年{p}农民职业技能培训项目"],
        (IndustryEmployment, NonConstruction, County) => &[
            "{y}年{p}劳动力转移就业培训项目",
            "{y}年{p}农产品产销对接项目",
            "{y}年{p}就业创业扶持项目",
        ],
        (IndustryEmployment, NonConstruction, Prefecture) => &["{y}年{p}产业援疆招商推介项目"],

        (Education, Construction, Township) => &[
            "{p}中心小学教学楼建设项目",
            "{p}中心幼儿园建设项目",
            "{p}寄宿制学校学生宿舍建设项目",
            "{p}中心学校综合楼建设项目",
            "{p}中心小学运动场改造项目",
        ],
        (Education, Construction, County) => &[
            "{p}职业技术学校实训楼建设项目",
            "{p}第一中学教学楼建设项目",
            "{p}第二中学学生宿舍建设项目",
            "{p}高级中学综合楼建设项目",
            "{p}第三小学改扩建项目",
            "{p}教师周转宿舍建设项目",
            "{p}特殊教育学校建设项目",
        ],
        (Education, Construction, Prefecture) => &[
            "{p}第二中学教学综合楼建设项目",
            "{p}职业技术学院实训基地建设项目",
            "{p}少年宫建设项目",
        ],
        (Education, NonConstruction, Township) => &["{y}年{p}幼儿教师培训项目"],
        (Education, NonConstruction, County) => &[
            "{p}教师培训项目",
            "{y}年{p}骨干教师跟岗研修项目",
            "{y}年{p}国家通用语言文字培训项目",
            "{y}年{p}校长能力提升培训项目",
        ],
        (Education, NonConstruction, Prefecture) => &["{y}年{p}教育人才组团式帮扶项目"],

        (Health, Construction, Township) => &[
            "{p}卫生院业务用房建设项目",
            "{p}卫生院周转宿舍建设项目",
            "{p}村卫生室标准化建设项目",
        ],
        (Health, Construction, County) => &[
            "{p}人民医院住院楼建设项目",
            "{p}人民医院门诊楼建设项目",
            "{p}中医医院综合楼建设项目",
            "{p}妇幼保健院建设项目",
            "{p}疾病预防控制中心业务楼建设项目",
            "{p}人民医院医疗设备购置项目",
        ],
        (Health, Construction, Prefecture) => &[
            "{p}人民医院医技楼建设项目",
            "{p}传染病医院建设项目",
            "{p}妇幼保健院综合楼建设项目",
        ],
        (Health, NonConstruction, Township) => &["{y}年{p}乡村医生培训项目"],
        (Health, NonConstruction, County) => &[
            "{y}年{p}医疗人才组团式帮扶项目",
            "{y}年{p}基层医务人员培训项目",
            "{y}年{p}全民健康体检项目",
        ],
        (Health, NonConstruction, Prefecture) => &["{y}年{p}远程医疗会诊项目"],

        (Culture, Construction, Township) => &[
            "{p}综合文化站建设项目",
            "{p}农家书屋建设项目",
            "{p}文化广场建设项目",
        ],
        (Culture, Construction, County) => &[
            "{p}文化馆建设项目",
            "{p}图书馆建设项目",
            "{p}全民健身中心建设项目",
            "{p}博物馆改造项目",
        ],
        (Culture, Construction, Prefecture) => &[
            "{p}少年宫文化润疆项目",
            "{p}文化艺术中心建设项目",
            "{p}非物质文化遗产展示馆建设项目",
        ],
        (Culture, NonConstruction, Township) => &["{y}年{p}文化润疆进村入户项目"],
        (Culture, NonConstruction, County) => &[
            "{y}年{p}文化润疆惠民演出项目",
            "{y}年{p}文艺人才培训项目",
            "{p}文化润疆书香工程项目",
        ],
        (Culture, NonConstruction, Prefecture) => &["{y}年{p}文化润疆影视创作项目"],

        (EthnicExchange, Construction, Township) => &["{p}民族团结活动中心建设项目"],
        (EthnicExchange, Construction, County) => &[
            "{p}青少年交流活动中心建设项目",
            "{p}民族团结教育基地建设项目",
        ],
        (EthnicExchange, Construction, Prefecture) => &["{p}交往交流交融示范基地建设项目"],
        (EthnicExchange, NonConstruction, Township) => &["{y}年{p}结对认亲交流项目"],
        (EthnicExchange, NonConstruction, County) => &[
            "{y}年{p}青少年“手拉手”交流项目",
            "{y}年{p}两地学生交流夏令营项目",
            "{y}年{p}干部群众赴内地参观交流项目",
            "{y}年{p}民族团结联谊活动项目",
        ],
        (EthnicExchange, NonConstruction, Prefecture) => &["{y}年{p}“旅游援疆”交流项目"],

        (Housing, _, Township) => &[
            "{y}年{p}农村安居富民房建设项目",
            "{p}农村人居环境整治项目",
            "{p}安全饮水工程项目",
            "{p}易地扶贫搬迁安置点配套项目",
        ],
        (Housing, _, County) => &[
            "{p}农村安居富民房建设项目",
            "{p}保障性住房建设项目",
            "{p}棚户区改造配套基础设施项目",
            "{p}老旧小区改造项目",
            "{p}城乡供暖改造项目",
        ],
        (Housing, _, Prefecture) => &["{p}保障性住房配套设施建设项目"],

        (Infrastructure, _, Township) => &[
            "{p}农村公路建设项目",
            "{p}村级道路硬化项目",
            "{p}农田水利设施建设项目",
            "{p}便民服务中心建设项目",
        ],
        (Infrastructure, _, County) => &[
            "{p}城市道路改造项目",
            "{p}污水处理厂建设项目",
            "{p}供水管网改造项目",
            "{p}客运站建设项目",
            "{p}城乡供水一体化项目",
        ],
        (Infrastructure, _, Prefecture) => &["{p}城市综合管廊建设项目", "{p}物流园区道路建设项目"],

        (Talent, Construction, Township) => &["{p}干部周转房建设项目"],
        (Talent, Construction, County) => &["{p}人才公寓建设项目", "{p}干部培训中心建设项目"],
        (Talent, Construction, Prefecture) => &["{p}人才服务中心建设项目"],
        (Talent, NonConstruction, Township) => &["{y}年{p}村干部能力提升培训项目"],
        (Talent, NonConstruction, County) => &[
            "{y}年{p}干部人才培训项目",
            "{y}年{p}驻村干部培训项目",
            "{y}年{p}专业技术人才柔性引进项目",
            "{y}年{p}党政干部赴内地挂职锻炼项目",
        ],
        (Talent, NonConstruction, Prefecture) => &["{y}年{p}智力援疆专家服务项目"],

        (Science, Construction, Township) => &["{p}农业科技推广站建设项目"],
        (Science, Construction, County) => &["{p}农业科技示范园建设项目", "{p}科技馆建设项目"],
        (Science, Construction, Prefecture) => &["{p}科技成果转化中心建设项目"],
        (Science, NonConstruction, Township) => &["{y}年{p}林果技术培训项目"],
        (Science, NonConstruction, County) => {
            &["{y}年{p}农业新技术推广项目", "{y}年{p}科技特派员服务项目"]
        }
        (Science, NonConstruction, Prefecture) => &["{y}年{p}产学研合作项目"],

        (Other, Construction, Township) => &["{p}便民服务站建设项目", "{p}村级活动阵地建设项目"],
        (Other, Construction, County) => &[
            "{p}政务服务中心建设项目",
            "{p}应急物资储备库建设项目",
            "{p}殡仪服务设施建设项目",
        ],
        (Other, Construction, Prefecture) => &["{p}援疆成果展示馆建设项目"],
        (Other, NonConstruction, Township) => &["{y}年{p}困难群众帮扶项目"],
        (Other, NonConstruction, County) => &[
            "{y}年{p}援疆项目前期工作经费",
            "{y}年{p}援疆项目绩效评价经费",
        ],
        (Other, NonConstruction, Prefecture) => &["{y}年{p}援疆宣传经费项目"],
    }
}

/// An indicator a project of some category reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndicatorSpec {
    /// Name, e.g. 新增就业岗位.
    pub name: &'static str,
    /// Unit of measure.
    pub unit: &'static str,
    /// Target per million yuan of aid funds.
    pub per_million: f64,
    /// Smallest sensible target.
    pub min: f64,
    /// Largest sensible target.
    pub max: f64,
    /// A satisfaction rate in per cent, with a non-zero baseline.
    pub rate: bool,
}

const fn spec(
    name: &'static str,
    unit: &'static str,
    per_million: f64,
    min: f64,
    max: f64,
) -> IndicatorSpec {
    IndicatorSpec {
        name,
        unit,
        per_million,
        min,
        max,
        rate: false,
    }
}

const fn satisfaction(name: &'static str) -> IndicatorSpec {
    IndicatorSpec {
        name,
        unit: "%",
        per_million: 0.0,
        min: 0.0,
        max: 100.0,
        rate: true,
    }
}

/// Indicators by category and kind (distinct names within each list).
pub(crate) fn indicator_specs(category: Category, kind: ProjectKind) -> &'static [IndicatorSpec] {
    use Category::*;
    use ProjectKind::*;
    match (category, kind) {
        (Education, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("新增学位", "个", 60.0, 30.0, 6000.0),
                spec("新增校舍面积", "平方米", 350.0, 200.0, 100_000.0),
                spec("受益学生", "人", 120.0, 50.0, 20_000.0),
            ];
            S
        }
        (Education, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("培训教师", "人次", 150.0, 20.0, 5000.0),
                satisfaction("参训教师满意度"),
            ];
            S
        }
        (Health, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("新增床位", "张", 12.0, 10.0, 1500.0),
                spec("新增业务用房面积", "平方米", 250.0, 200.0, 80_000.0),
                spec("服务人口", "人", 3000.0, 2000.0, 800_000.0),
            ];
            S
        }
        (Health, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("培训医务人员", "人次", 120.0, 20.0, 5000.0),
                spec("开展新技术新项目", "项", 3.0, 1.0, 80.0),
                spec("诊疗人次", "人次", 2000.0, 500.0, 200_000.0),
            ];
            S
        }
        (Housing, _) => {
            const S: &[IndicatorSpec] = &[
                spec("安居房", "套", 25.0, 10.0, 5000.0),
                spec("受益人口", "人", 100.0, 40.0, 40_000.0),
                spec("改善住房面积", "平方米", 2000.0, 800.0, 400_000.0),
            ];
            S
        }
        (IndustryEmployment, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("新增就业岗位", "人", 40.0, 20.0, 8000.0),
                spec("入驻企业", "家", 0.8, 1.0, 200.0),
                spec("带动农户", "户", 60.0, 20.0, 10_000.0),
            ];
            S
        }
        (IndustryEmployment, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("培训人次", "人次", 300.0, 30.0, 20_000.0),
                spec("实现转移就业", "人", 100.0, 10.0, 8000.0),
            ];
            S
        }
        (Infrastructure, _) => {
            const S: &[IndicatorSpec] = &[
                spec("受益人口", "人", 2500.0, 1000.0, 600_000.0),
                spec("新建改建道路", "公里", 0.6, 1.0, 300.0),
                spec("新增供水能力", "吨/日", 200.0, 100.0, 50_000.0),
            ];
            S
        }
        (Culture, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("新增文化设施面积", "平方米", 300.0, 200.0, 50_000.0),
                spec("年接待群众", "人次", 5000.0, 2000.0, 500_000.0),
            ];
            S
        }
        (Culture, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("开展文化活动", "场", 20.0, 5.0, 500.0),
                spec("受益群众", "人次", 8000.0, 1000.0, 300_000.0),
            ];
            S
        }
        (EthnicExchange, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("年开展交流活动", "场", 10.0, 5.0, 300.0),
                spec("受益群众", "人次", 5000.0, 1000.0, 200_000.0),
            ];
            S
        }
        (EthnicExchange, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("交流人次", "人次", 400.0, 20.0, 20_000.0),
                spec("开展交流活动", "场", 30.0, 2.0, 300.0),
                satisfaction("群众满意度"),
            ];
            S
        }
        (Talent, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("新增人才公寓", "套", 20.0, 10.0, 1000.0),
                spec("引进人才", "人", 5.0, 2.0, 500.0),
            ];
            S
        }
        (Talent, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("培训人次", "人次", 500.0, 30.0, 20_000.0),
                spec("带教本地骨干", "人", 50.0, 5.0, 2000.0),
                satisfaction("参训人员满意度"),
            ];
            S
        }
        (Science, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("示范推广面积", "亩", 2000.0, 100.0, 200_000.0),
                spec("引进新品种新技术", "项", 5.0, 1.0, 100.0),
            ];
            S
        }
        (Science, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("推广新技术", "项", 8.0, 1.0, 100.0),
                spec("培训农技人员", "人次", 300.0, 20.0, 10_000.0),
            ];
            S
        }
        (Other, Construction) => {
            const S: &[IndicatorSpec] = &[
                spec("受益人口", "人", 2000.0, 500.0, 300_000.0),
                spec("新增服务设施面积", "平方米", 300.0, 100.0, 30_000.0),
            ];
            S
        }
        (Other, NonConstruction) => {
            const S: &[IndicatorSpec] = &[
                spec("受益人口", "人", 3000.0, 200.0, 300_000.0),
                satisfaction("群众满意度"),
            ];
            S
        }
    }
}

/// Reasons recorded for moving into `to`.
pub(crate) fn reasons(to: ProjectState) -> &'static [&'static str] {
    use ProjectState::*;
    match to {
        Proposed => &["纳入援疆项目储备库", "受援地申报，纳入项目库"],
        PlanIssued => &["年度援疆计划下达", "自治区援疆办批复年度计划"],
        Preparation => &["完成立项批复，开展前期工作", "可研报告获批，开展勘察设计"],
        Tendering => &["施工图审查通过，发布招标公告", "初步设计批复，进入招投标"],
        UnderConstruction => &["取得施工许可，正式开工", "完成招标，施工单位进场"],
        Completed => &["主体工程完工", "工程全部完工，申请竣工验收"],
        Accepted => &["通过竣工验收", "竣工验收合格，资料归档"],
        HandedOver => &["移交受援地管理使用", "办理资产移交手续"],
        Operating => &["投入使用", "正式投入运营"],
        Closed => &["项目关闭归档", "资产已纳入受援地管理，项目关闭"],
        Suspended => &[
            "因征地拆迁问题暂停",
            "冬季停工",
            "设计方案调整，暂停实施",
            "资金未到位，暂停实施",
        ],
        Adjusted => &[
            "根据受援地需求调整建设内容",
            "选址变更，调整项目",
            "年度计划调整",
        ],
        Cancelled => &[
            "选址条件不具备，项目取消",
            "与其他资金重复安排，项目取消",
            "受援地申请取消",
        ],
        Approved => &["项目实施方案获批", "年度援疆计划下达"],
        Implementing => &["项目启动实施", "首期培训开班"],
        Done => &["完成全部实施内容", "完成年度培训任务"],
        Evaluated => &["完成绩效评价", "第三方绩效评价完成"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination_has_names_and_indicators() {
        for &category in Category::ALL {
            for &kind in ProjectKind::ALL {
                assert!(!indicator_specs(category, kind).is_empty());
                for level in [Level::Township, Level::County, Level::Prefecture] {
                    let names = name_templates(category, kind, level);
                    assert!(!names.is_empty());
                    for n in names {
                        assert!(n.contains("{p}"), "{n}");
                        assert!(n.ends_with("项目") || n.ends_with("经费"), "{n}");
                    }
                }
                let specs = indicator_specs(category, kind);
                let mut names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), specs.len(), "indicator names repeat");
            }
        }
        for &s in ProjectState::ALL {
            assert!(!reasons(s).is_empty());
        }
        let categories: Vec<Category> = CATEGORY_WEIGHTS.iter().map(|c| c.0).collect();
        for c in Category::ALL {
            assert!(categories.contains(c), "{c:?} never drawn");
        }
    }
}
