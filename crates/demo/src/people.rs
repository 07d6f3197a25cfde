//! Cadres and professionals (援疆干部人才): each supporter's three-year
//! batches (批次) from 2010, and the people in them. Cadres serve the whole
//! term; teachers, doctors and technicians mostly come for half a year to a
//! year and a half, from 2016 often as organised teams (组团式). Names, ID
//! numbers (GB 11643, with the supporter's home region and a valid check
//! character) and phone numbers are made up.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use yuanjiang_domain::codes::id_number_check_char;
use yuanjiang_domain::{Assignment, AssignmentCategory, AssignmentMode, Batch, RecipientLevel};

use crate::draw::{
    Purpose, Streams, add_years, between, chance, date_between, one_of, shift, weighted, ymd,
};
use crate::parties::short_name;
use crate::world::World;

/// Common surnames, most frequent first (repeats weight them).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",
    "欧阳", "司马", "王", "李", "张", "刘", "陈",
];

/// Characters of men's given names.
const MALE_GIVEN: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宁", "峰", "建", "国", "志", "海", "文", "东", "晓", "俊", "浩", "宇", "博", "振",
    "立", "新", "永", "春", "德", "兴", "林", "龙",
];

/// Characters of women's given names.
const FEMALE_GIVEN: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "慧", "莉", "琳", "颖",
    "倩", "洁", "晶", "红", "梅", "琴", "云", "兰", "萍", "欣", "悦", "佳", "文", "晓", "春", "华",
];

/// Mobile prefixes of the three operators' older ranges.
const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187", "188",
    "189",
];

/// Category mix of one batch's people.
const CATEGORY_WEIGHTS: [(AssignmentCategory, u32); 5] = [
    (AssignmentCategory::Cadre, 30),
    (AssignmentCategory::Teacher, 33),
    (AssignmentCategory::Doctor, 22),
    (AssignmentCategory::Technician, 10),
    (AssignmentCategory::EnterpriseManager, 5),
];

/// Host units (`{c}` is the county or division, `{p}` the prefecture) and posts.
fn hosts(
    category: AssignmentCategory,
    prefecture_level: bool,
) -> &'static [(&'static str, &'static [&'static str])] {
    use AssignmentCategory::*;
    match (category, prefecture_level) {
        (Cadre, false) => &[
            ("{c}人民政府", &["副{l}长", "常务副{l}长", "{l}长助理"]),
            ("中共{c}委员会", &["{l}委副书记", "{l}委常委"]),
            ("{c}发展和改革委员会", &["副主任"]),
            ("{c}教育局", &["副局长"]),
            ("{c}卫生健康委员会", &["副主任"]),
            ("{c}对口援疆工作办公室", &["副主任", "主任"]),
            ("{c}工业园区管理委员会", &["副主任"]),
        ],
        (Cadre, true) => &[
            ("{p}对口支援工作办公室", &["副主任"]),
            ("{p}发展和改革委员会", &["副主任"]),
            ("{p}教育局", &["副局长"]),
        ],
        (Teacher, false) => &[
            (
                "{c}第一中学",
                &[
                    "语文教师",
                    "数学教师",
                    "英语教师",
                    "物理教师",
                    "化学教师",
                    "副校长",
                ],
            ),
            (
                "{c}第二中学",
                &["数学教师", "生物教师", "历史教师", "班主任"],
            ),
            (
                "{c}高级中学",
                &["语文教师", "数学教师", "信息技术教师", "教研室主任"],
            ),
            ("{c}职业技术学校", &["专业课教师", "实训指导教师", "副校长"]),
            ("{c}实验小学", &["语文教师", "数学教师", "音乐教师"]),
        ],
        (Teacher, true) => &[
            ("{p}第二中学", &["数学教师", "物理教师", "副校长"]),
            ("{p}职业技术学院", &["专业课教师", "系主任"]),
        ],
        (Doctor, false) => &[
            (
                "{c}人民医院",
                &["主治医师", "副主任医师", "主任医师", "副院长", "科室主任"],
            ),
            ("{c}中医医院", &["主治医师", "副主任医师"]),
            ("{c}妇幼保健院", &["主治医师", "护士长"]),
            ("{c}疾病预防控制中心", &["主管医师", "副主任"]),
        ],
        (Doctor, true) => &[
            (
                "{p}人民医院",
                &["副主任医师", "主任医师", "科室主任", "副院长"],
            ),
            ("{p}第二人民医院", &["主治医师", "副主任医师"]),
        ],
        (Technician, false) => &[
            ("{c}农业农村局", &["农艺师", "高级农艺师"]),
            ("{c}水利局", &["水利工程师"]),
            ("{c}自然资源局", &["规划师"]),
            ("{c}住房和城乡建设局", &["工程师", "高级工程师"]),
            ("{c}畜牧兽医站", &["畜牧师"]),
        ],
        (Technician, true) => &[
            ("{p}农业技术推广中心", &["高级农艺师"]),
            ("{p}规划设计院", &["高级工程师"]),
        ],
        (EnterpriseManager, false) => &[
            ("{c}国有资产投资经营有限责任公司", &["副总经理"]),
            ("{c}城市建设投资有限公司", &["副总经理"]),
            ("{c}工业园区管理委员会", &["招商部部长"]),
        ],
        (EnterpriseManager, true) => &[("{p}国有资本投资运营有限公司", &["副总经理"])],
    }
}

/// Each supporter's batches: three-year terms from August 2010 until today.
/// Provinces count the 2010 batch as their 7th (they have sent cadres since
/// 1997, and Shanghai's 11th batch then falls in 2022); central bodies from 1.
pub(crate) fn batches(world: &World) -> Vec<Batch> {
    let mut out = Vec::new();
    for (si, s) in world.supporters.iter().enumerate() {
        let first_number = if s.batches_since_1997 { 7 } else { 1 };
        let mut start = ymd(2010, 8, 1 + (si as u32 * 3) % 27);
        let mut number = first_number;
        while start <= world.today {
            let end = shift(add_years(start, 3), -1);
            out.push(Batch {
                supporter_code: s.code.clone(),
                number,
                start_date: start,
                end_date: end,
            });
            start = add_years(start, 3);
            number += 1;
        }
    }
    out
}

/// A made-up person's name.
fn person_name(rng: &mut impl Rng, male: bool) -> String {
    let given = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let mut name = (*one_of(rng, SURNAMES)).to_owned();
    name.push_str(one_of::<&str>(rng, given));
    if chance(rng, 0.65) {
        name.push_str(one_of::<&str>(rng, given));
    }
    name
}

/// A GB 11643 number for someone born in the supporter's region; unique in `seen`.
fn id_number(
    rng: &mut impl Rng,
    regions: &[&str],
    birth: NaiveDate,
    male: bool,
    seen: &mut HashSet<u64>,
) -> Option<String> {
    let region = one_of(rng, regions);
    let start = between(rng, 0, 498);
    for k in 0..499 {
        // The 17th digit is odd for men and even for women.
        let serial = 2 * ((start + k) % 499) + if male { 1 } else { 2 };
        let first17 = format!("{region}{}{serial:03}", birth.format("%Y%m%d"));
        // Seventeen digits fit a u64: the set stays one flat table.
        let key = first17.parse::<u64>().ok()?;
        if seen.insert(key) {
            let check = id_number_check_char(&first17)?;
            return Some(format!("{first17}{check}"));
        }
    }
    None
}

/// The people of all batches, about `total` in all.
pub(crate) fn assignments(
    world: &World,
    streams: &Streams,
    batches: &[Batch],
    total: u32,
) -> Vec<Assignment> {
    let today = world.today;
    let latest_return = add_years(today, 3);
    let elapsed = |b: &Batch| {
        let span = (b.end_date - b.start_date).num_days().max(1) as f64;
        ((b.end_date.min(today) - b.start_date).num_days().max(0) as f64 / span).min(1.0)
    };
    let weight = |b: &Batch| {
        world
            .supporters
            .iter()
            .find(|s| s.code == b.supporter_code)
            .map_or(0.0, |s| s.budget)
            * elapsed(b)
    };
    let total_weight: f64 = batches.iter().map(weight).sum();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(total as usize);
    for (bi, batch) in batches.iter().enumerate() {
        let Some(si) = world
            .supporters
            .iter()
            .position(|s| s.code == batch.supporter_code)
        else {
            continue;
        };
        let supporter = &world.supporters[si];
        let n = if total_weight > 0.0 {
            (f64::from(total) * weight(batch) / total_weight).round() as usize
        } else {
            0
        };
        let pairings: Vec<usize> = (0..world.pairings.len())
            .filter(|&p| world.pairings[p].supporter == si)
            .collect();
        let mut rng = streams.rng(Purpose::People, bi as u64);
        for _ in 0..n {
            let category = weighted(&mut rng, &CATEGORY_WEIGHTS);
            let team_era = |day: NaiveDate| day >= ymd(2016, 1, 1);
            let (mode, arrival, return_date) = match category {
                AssignmentCategory::Cadre if chance(&mut rng, 0.9) => {
                    let arrival = shift(batch.start_date, between(&mut rng, 0, 20)).min(today);
                    let back = shift(batch.end_date, -between(&mut rng, 0, 20));
                    (AssignmentMode::LongTerm, arrival, back)
                }
                AssignmentCategory::Cadre => short_stay(&mut rng, batch, today),
                _ => {
                    let long = match category {
                        AssignmentCategory::Teacher => 0.15,
                        AssignmentCategory::Doctor => 0.1,
                        AssignmentCategory::Technician => 0.2,
                        _ => 0.5,
                    };
                    if chance(&mut rng, long) {
                        let latest = shift(batch.start_date, 365).min(today);
                        let arrival = date_between(&mut rng, batch.start_date, latest);
                        let back = shift(arrival, between(&mut rng, 540, 1095));
                        (AssignmentMode::LongTerm, arrival, back)
                    } else {
                        let (_, arrival, back) = short_stay(&mut rng, batch, today);
                        let teams = matches!(
                            category,
                            AssignmentCategory::Teacher | AssignmentCategory::Doctor
                        );
                        let mode = if teams && team_era(arrival) && chance(&mut rng, 0.5) {
                            AssignmentMode::Team
                        } else {
                            AssignmentMode::ShortTerm
                        };
                        (mode, arrival, back)
                    }
                }
            };
            let return_date = return_date.min(latest_return);
            let active: Vec<usize> = pairings
                .iter()
                .copied()
                .filter(|&p| world.pairings[p].is_active_on(arrival))
                .collect();
            // A supporter always has a pairing; an ended one only hosts people
            // if nothing else is in force.
            let pool = if active.is_empty() {
                &pairings
            } else {
                &active
            };
            if pool.is_empty() {
                continue;
            }
            let pairing = *one_of(&mut rng, pool);
            let target = &world.targets[world.pairings[pairing].target];
            let unit = &world.places[target.place];
            let prefecture_level =
                unit.level == RecipientLevel::Prefecture && chance(&mut rng, 0.3);
            let county = if target.counties.is_empty() {
                unit
            } else {
                &world.places[*one_of(&mut rng, &target.counties)]
            };
            let county_name = if county.level == RecipientLevel::XpccDivision {
                short_name(&county.name).to_owned()
            } else {
                county.name.clone()
            };
            // 县长 in a county, 市长 in a county-level city, 区长 in a district.
            let level_char = match county_name.chars().last() {
                Some('市') => "市",
                Some('区') => "区",
                _ if county.level == RecipientLevel::XpccDivision => "师",
                _ => "县",
            };
            let (host, posts) = *one_of(&mut rng, hosts(category, prefecture_level));
            let host_unit = host.replace("{c}", &county_name).replace("{p}", &unit.name);
            let post = one_of(&mut rng, posts).replace("{l}", level_char);

            let male_share = match category {
                AssignmentCategory::Cadre => 0.85,
                AssignmentCategory::Teacher => 0.45,
                AssignmentCategory::Doctor => 0.55,
                AssignmentCategory::Technician => 0.7,
                AssignmentCategory::EnterpriseManager => 0.8,
            };
            let male = chance(&mut rng, male_share);
            let lo = 1965.max(arrival.year() - 55);
            let hi = 1995.min(arrival.year() - 24).max(lo);
            let birth = ymd(
                between(&mut rng, i64::from(lo), i64::from(hi)) as i32,
                between(&mut rng, 1, 12) as u32,
                between(&mut rng, 1, 28) as u32,
            );
            let person_name = person_name(&mut rng, male);
            let id_number = id_number(&mut rng, supporter.id_regions, birth, male, &mut seen);
            let phone = format!(
                "{}{:08}",
                one_of(&mut rng, PHONE_PREFIXES),
                between(&mut rng, 0, 99_999_999)
            );
            let batch_number = (category == AssignmentCategory::Cadre || chance(&mut rng, 0.85))
                .then_some(batch.number);
            let appraisal = (return_date <= today).then(|| {
                weighted(&mut rng, &[("优秀", 20), ("称职", 75), ("基本称职", 5)]).to_owned()
            });
            out.push(Assignment {
                supporter_code: supporter.code.clone(),
                batch_number,
                person_name,
                id_number,
                phone: Some(phone),
                category,
                mode,
                recipient_code: unit.code.clone(),
                host_unit,
                post,
                arrival_date: arrival,
                return_date,
                appraisal,
            });
        }
    }
    out
}

/// Half a year to a year and a half, arriving during the batch and not after today.
fn short_stay(
    rng: &mut impl Rng,
    batch: &Batch,
    today: NaiveDate,
) -> (AssignmentMode, NaiveDate, NaiveDate) {
    let latest = shift(batch.end_date, -180).min(today);
    let arrival = date_between(rng, batch.start_date, latest).min(today);
    let back = shift(arrival, between(rng, 180, 540));
    (AssignmentMode::ShortTerm, arrival, back)
}
