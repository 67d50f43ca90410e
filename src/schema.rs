//! The document kinds of the v1 formats, as data: strict, typed validation with
//! positioned errors (unknown field with a did-you-mean, wrong type, impossible date),
//! normalisation of values for rules, and JSON Schema for editors.

use chrono::NaiveDate;
use rhai::ImmutableString;

use crate::parse::tree::{Key, NodeId, Span, Tree, Value};
use crate::parse::yaml::LoadError;

#[derive(Debug)]
pub enum Ty {
    Str,
    Int,
    Bool,
    Date,
    /// A decimal (`0.05`) or a percent string (`"5%"`); normalised to a number.
    Ratio,
    Enum(&'static [&'static str]),
    List(&'static Ty),
    Obj(&'static [Field]),
    /// Per-risk-class ratios `{A: …, B: …, C: …, D: …}`.
    RiskRatios,
    /// Columns of a published table that no rule reads, kept as written: header text →
    /// cell text (any keys; text, number or boolean values).
    Columns,
    /// Anything (policy parameters); checked where it is used.
    Any,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    /// The Chinese name (and table header) of the field.
    pub zh: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub doc: &'static str,
}

const fn f(name: &'static str, zh: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        name,
        zh,
        ty,
        required: false,
        doc,
    }
}

const fn req(name: &'static str, zh: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        name,
        zh,
        ty,
        required: true,
        doc,
    }
}

pub const ENTITY_TYPES: &[&str] = &["enterprise", "individual", "cooperative", "other"];
pub const CHANNELS: &[&str] = &["gsxt", "website", "credit_wuhan", "internet_plus"];
pub const RISK_CLASSES: &[&str] = &["A", "B", "C", "D"];

const WEBSITE_URL: Field = f(
    "website_url",
    "公示网址",
    Ty::Str,
    "Address of the page on the department's official website.",
);
const PUBLISHED_ON: Field = f(
    "published_on",
    "公示日期",
    Ty::Date,
    "Date published on the website.",
);

const DISCLOSURE: &[Field] = &[WEBSITE_URL, PUBLISHED_ON];

const PUBLICATION: &[Field] = &[
    WEBSITE_URL,
    PUBLISHED_ON,
    f(
        "platform_entered_on",
        "录入平台日期",
        Ty::Date,
        "Date entered into the provincial spot-check platform.",
    ),
];

const OBJECT_FILTER: &[Field] = &[
    f(
        "industry",
        "所处行业",
        Ty::Str,
        "Library objects of this industry.",
    ),
    f(
        "licence_category",
        "许可类别",
        Ty::Str,
        "Library objects of this licence category.",
    ),
    f(
        "entity_type",
        "主体类型",
        Ty::Enum(ENTITY_TYPES),
        "Library objects of this entity type.",
    ),
    f(
        "description",
        "检查对象",
        Ty::Str,
        "The objects as the published plan words them.",
    ),
];

const CREDIT_RISK: &[Field] = &[
    f(
        "applied",
        "应用信用风险分类",
        Ty::Bool,
        "Does the task apply credit-risk classification results?",
    ),
    f(
        "classification",
        "分类类型",
        Ty::Enum(&["general", "industry"]),
        "general (通用型) or industry (行业型).",
    ),
    f(
        "ratios",
        "分类抽查比例",
        Ty::RiskRatios,
        "Sampling ratio per risk class A (low) .. D (high).",
    ),
];

const TASK: &[Field] = &[
    req("id", "任务编号", Ty::Str, "Task id, unique in the plan."),
    f("name", "抽查任务名称", Ty::Str, "Task name."),
    f(
        "joint",
        "是否联合抽查",
        Ty::Bool,
        "Is this a joint (部门联合) task?",
    ),
    f(
        "lead",
        "发起部门",
        Ty::Str,
        "Lead department of a joint task.",
    ),
    f(
        "partners",
        "配合部门",
        Ty::List(&Ty::Str),
        "Partner departments of a joint task.",
    ),
    f(
        "items",
        "抽查事项",
        Ty::List(&Ty::Str),
        "Item ids from the department's item list.",
    ),
    f(
        "objects",
        "检查对象",
        Ty::Obj(OBJECT_FILTER),
        "Which library objects form the population.",
    ),
    f(
        "level",
        "检查层级",
        Ty::Enum(&["city", "district"]),
        "Who carries the task out: city or district.",
    ),
    f(
        "implements",
        "承接市级任务",
        Ty::Str,
        "In a district joint plan: the city joint-plan task it carries out.",
    ),
    f(
        "hotspot",
        "民生热点",
        Ty::Bool,
        "民生关注热点 / 风险突出领域.",
    ),
    f(
        "credit_risk",
        "信用风险分类",
        Ty::Obj(CREDIT_RISK),
        "Credit-risk differentiated sampling.",
    ),
    f(
        "ratio",
        "抽查比例",
        Ty::Ratio,
        "Single sampling ratio when classification is not applied.",
    ),
    f(
        "ratio_max",
        "抽查比例上限",
        Ty::Ratio,
        "Highest sampling ratio, when the plan sets a ceiling or a range (不高于10%, 10-20%).",
    ),
    f(
        "count",
        "抽查数量",
        Ty::Int,
        "Number of objects to check (the lower end of a range; a floor such as 不少于2所).",
    ),
    f(
        "count_max",
        "抽查数量上限",
        Ty::Int,
        "Highest number of objects, when the plan gives a range or a ceiling (60-70家).",
    ),
    f("frequency", "抽查频次", Ty::Int, "Checks per year (次/年)."),
    f("start", "开始日期", Ty::Date, "Start date."),
    f(
        "end",
        "结束日期",
        Ty::Date,
        "End date: results must be entered by then.",
    ),
    f(
        "columns",
        "其他列",
        Ty::Columns,
        "Columns of a published table that no rule reads, as written (header: cell).",
    ),
];

const PLAN: &[Field] = &[
    req("kind", "类型", Ty::Str, "Plan"),
    req(
        "department",
        "部门",
        Ty::Str,
        "Issuing department (for a joint plan: the office).",
    ),
    f(
        "level",
        "层级",
        Ty::Enum(&["city", "district"]),
        "city or district.",
    ),
    f(
        "district",
        "区",
        Ty::Str,
        "District name when level is district.",
    ),
    req("year", "年度", Ty::Int, "Plan year."),
    f(
        "scope",
        "计划类型",
        Ty::Enum(&["department", "joint"]),
        "department, or joint (部门联合抽查计划).",
    ),
    f(
        "industry_credit_mechanism",
        "行业信用分类机制",
        Ty::Bool,
        "Has the department its own industry credit-risk mechanism?",
    ),
    f(
        "publication",
        "公示",
        Ty::Obj(PUBLICATION),
        "Website publication and platform entry.",
    ),
    f(
        "approval",
        "审批",
        Ty::Obj(&[
            f(
                "approved_on",
                "批准日期",
                Ty::Date,
                "Approved by the city government on.",
            ),
            f("approved_by", "批准机关", Ty::Str, "Approving body."),
        ]),
        "Approval of a city joint plan.",
    ),
    f(
        "tasks",
        "抽查任务",
        Ty::List(&Ty::Obj(TASK)),
        "The plan's tasks.",
    ),
];

const ITEM: &[Field] = &[
    req("id", "事项编号", Ty::Str, "Item id."),
    f(
        "category",
        "事项类别",
        Ty::Enum(&["general", "key"]),
        "general (一般检查事项) or key (重点检查事项).",
    ),
    f("name", "抽查事项", Ty::Str, "Item name."),
    f(
        "objects",
        "检查对象",
        Ty::Str,
        "Objects the item applies to.",
    ),
    f("method", "检查方式", Ty::Str, "Inspection method."),
    f("basis", "抽查依据", Ty::Str, "Legal basis."),
    f(
        "columns",
        "其他列",
        Ty::Columns,
        "Columns of a published table that no rule reads, as written (header: cell).",
    ),
];

const ITEM_LIST: &[Field] = &[
    req("kind", "类型", Ty::Str, "ItemList"),
    req("department", "部门", Ty::Str, "Department."),
    f("updated_on", "更新日期", Ty::Date, "Last update."),
    f(
        "publication",
        "公开",
        Ty::Obj(DISCLOSURE),
        "Disclosure to the public.",
    ),
    f(
        "filing",
        "备案",
        Ty::Obj(&[
            f("office", "备案机关", Ty::Str, "Office filed with."),
            f("filed_on", "备案日期", Ty::Date, "Filing date."),
        ]),
        "Filing with the city joint-meeting office.",
    ),
    f("items", "事项", Ty::List(&Ty::Obj(ITEM)), "The items."),
];

pub const OBJECT: &[Field] = &[
    f(
        "uscc",
        "统一社会信用代码",
        Ty::Str,
        "统一社会信用代码 (market entities).",
    ),
    f("id", "编号", Ty::Str, "Own id for objects without a USCC."),
    f("name", "名称", Ty::Str, "Name."),
    f(
        "entity_type",
        "主体类型",
        Ty::Enum(ENTITY_TYPES),
        "enterprise 企业 | individual 个体工商户 | cooperative 农民专业合作社 | other.",
    ),
    f("licence_category", "许可类别", Ty::Str, "Licence category."),
    f("industry", "所处行业", Ty::Str, "Industry."),
    f(
        "risk_level",
        "风险等级",
        Ty::Enum(RISK_CLASSES),
        "Credit-risk class A (low) .. D (high), 通用型.",
    ),
    f("tags", "标签", Ty::List(&Ty::Str), "行业型 labels."),
];

const OBJECT_LIBRARY: &[Field] = &[
    req("kind", "类型", Ty::Str, "ObjectLibrary"),
    req("department", "部门", Ty::Str, "Department."),
    f("updated_on", "更新日期", Ty::Date, "Last update."),
    f(
        "objects",
        "检查对象",
        Ty::List(&Ty::Obj(OBJECT)),
        "The objects.",
    ),
];

pub const PERSON: &[Field] = &[
    req("id", "人员编号", Ty::Str, "Person id."),
    f("name", "姓名", Ty::Str, "Name."),
    f(
        "certificate",
        "执法证号",
        Ty::Str,
        "Enforcement certificate number.",
    ),
    f(
        "qualification",
        "执法资质",
        Ty::Str,
        "Enforcement qualification.",
    ),
    f("expertise", "业务专长", Ty::List(&Ty::Str), "Expertise."),
    f("active", "在岗", Ty::Bool, "Currently active."),
];

const PERSONNEL_LIBRARY: &[Field] = &[
    req("kind", "类型", Ty::Str, "PersonnelLibrary"),
    req("department", "部门", Ty::Str, "Department."),
    f("updated_on", "更新日期", Ty::Date, "Last update."),
    f(
        "roster",
        "在编执法人员",
        Ty::List(&Ty::Str),
        "Everyone the department holds as enforcement staff.",
    ),
    f(
        "people",
        "执法人员",
        Ty::List(&Ty::Obj(PERSON)),
        "The people.",
    ),
];

pub const RESULT: &[Field] = &[
    f(
        "object",
        "检查对象",
        Ty::Str,
        "USCC or library id of the inspected object.",
    ),
    f(
        "entity_type",
        "主体类型",
        Ty::Enum(ENTITY_TYPES),
        "Entity type of the object.",
    ),
    f(
        "inspectors",
        "检查人员",
        Ty::List(&Ty::Str),
        "Person ids of the inspectors.",
    ),
    f(
        "finished_on",
        "检查完成日期",
        Ty::Date,
        "The day the inspection ended.",
    ),
    f("outcome", "检查结果", Ty::Str, "Published result category."),
    f(
        "problem",
        "是否发现问题",
        Ty::Bool,
        "Did the check find a problem?",
    ),
    f(
        "crime_suspected",
        "是否涉嫌犯罪",
        Ty::Bool,
        "Is a crime suspected?",
    ),
    f(
        "entered_on",
        "录入日期",
        Ty::Date,
        "Entered into the provincial platform on.",
    ),
    f(
        "publication",
        "公示",
        Ty::Obj(&[
            f(
                "channel",
                "公示渠道",
                Ty::Enum(CHANNELS),
                "gsxt | website | credit_wuhan | internet_plus.",
            ),
            f("published_on", "公示日期", Ty::Date, "Published on."),
        ]),
        "Publication of the result.",
    ),
    f(
        "follow_up",
        "后续处置",
        Ty::Obj(&[
            f(
                "action",
                "后续处置措施",
                Ty::Str,
                "责令整改 | 立案查处 | 移送司法机关 | …",
            ),
            f(
                "responsible",
                "后续处置责任部门",
                Ty::Str,
                "Responsible department (谁管辖、谁负责).",
            ),
            f(
                "done_on",
                "后续处置日期",
                Ty::Date,
                "Date of the follow-up.",
            ),
        ]),
        "Follow-up of a problem.",
    ),
];

const RESULTS: &[Field] = &[
    req("kind", "类型", Ty::Str, "Results"),
    req("department", "部门", Ty::Str, "Department."),
    req("year", "年度", Ty::Int, "Year."),
    req("task", "抽查任务", Ty::Str, "Task id in the plan."),
    f(
        "records",
        "检查结果",
        Ty::List(&Ty::Obj(RESULT)),
        "One record per inspected object.",
    ),
];

/// A document kind: its name, fields and the list a per-record rule walks.
#[derive(Debug)]
pub struct KindSchema {
    pub kind: &'static str,
    pub zh: &'static str,
    pub fields: &'static [Field],
    /// The field holding the kind's records (`records`, `objects`, …).
    pub records: &'static str,
}

pub const KINDS: &[KindSchema] = &[
    KindSchema {
        kind: "Plan",
        zh: "年度抽查计划",
        fields: PLAN,
        records: "tasks",
    },
    KindSchema {
        kind: "ItemList",
        zh: "抽查事项清单",
        fields: ITEM_LIST,
        records: "items",
    },
    KindSchema {
        kind: "ObjectLibrary",
        zh: "检查对象名录库",
        fields: OBJECT_LIBRARY,
        records: "objects",
    },
    KindSchema {
        kind: "PersonnelLibrary",
        zh: "执法人员库",
        fields: PERSONNEL_LIBRARY,
        records: "people",
    },
    KindSchema {
        kind: "Results",
        zh: "抽查结果",
        fields: RESULTS,
        records: "records",
    },
];

/// The fields of a kind's records (`records` of Results, `tasks` of a Plan, …).
pub fn record_fields(kind: &KindSchema) -> &'static [Field] {
    kind.fields
        .iter()
        .find(|f| f.name == kind.records)
        .and_then(|f| match &f.ty {
            Ty::List(Ty::Obj(fields)) => Some(*fields),
            _ => None,
        })
        .unwrap_or(&[])
}

/// A kind as one bit (for sets of kinds checked for every record); 0 for no kind.
pub fn kind_bit(kind: &str) -> u8 {
    KINDS
        .iter()
        .position(|k| k.kind == kind)
        .map_or(0, |i| 1 << i)
}

pub fn kind_schema(kind: &str) -> Option<&'static KindSchema> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Validates a document against its kind and normalises values in place (dates checked,
/// ratios as numbers, verbatim text for text fields). Returns every problem found.
pub fn validate(tree: &mut Tree, schema: &KindSchema) -> Vec<LoadError> {
    let mut errors = Vec::new();
    let root = tree.root;
    check_obj(tree, root, schema.fields, &mut errors);
    tree.invalid.sort_unstable();
    tree.invalid.dedup();
    errors
}

fn check_obj(tree: &mut Tree, id: NodeId, fields: &'static [Field], errors: &mut Vec<LoadError>) {
    let count = match &tree.node(id).value {
        Value::Map(entries) => entries.len(),
        other => {
            errors.push(wrong_type(
                tree.report_span(id),
                "mapping",
                other.type_name(),
            ));
            return;
        }
    };
    // Entry by entry, so that the map is neither copied nor borrowed while its values
    // are normalised.
    let mut invalid: Vec<&'static str> = Vec::new();
    for i in 0..count {
        let (field, child, key) = match &mut tree.nodes[id as usize].value {
            Value::Map(entries) => match entries.get_mut(i) {
                Some((key, child)) => match fields.iter().find(|f| f.name == key.as_str()) {
                    Some(field) => {
                        // The field's own name: compared without a pointer chase.
                        *key = Key::Static(field.name);
                        (Some(field), *child, None)
                    }
                    None => (None, *child, Some(key.to_string())),
                },
                None => break,
            },
            _ => break,
        };
        match field {
            Some(field) => {
                let before = errors.len();
                check_value(tree, child, field, errors);
                if errors.len() > before {
                    // Read as absent from now on, but reported once, as invalid.
                    invalid.push(field.name);
                }
            }
            None => {
                let span = tree.node(child).key_span.unwrap_or(tree.node(child).span);
                errors.push(unknown_field(span, &key.unwrap_or_default(), fields));
            }
        }
    }
    for field in fields
        .iter()
        .filter(|f| f.required && !invalid.contains(&f.name))
    {
        if tree.get_present(id, field.name).is_none() {
            errors.push(LoadError {
                code: "input/missing-field",
                span: tree.report_span(id),
                en: format!("missing required field `{}` ({})", field.name, field.doc),
                zh: format!("缺少必填字段 `{}`（{}）", field.name, field.zh),
            });
        }
    }
}

fn check_value(tree: &mut Tree, id: NodeId, field: &'static Field, errors: &mut Vec<LoadError>) {
    if matches!(tree.node(id).value, Value::Null) {
        return;
    }
    check_ty(tree, id, &field.ty, field, errors);
}

fn check_ty(
    tree: &mut Tree,
    id: NodeId,
    ty: &'static Ty,
    field: &'static Field,
    errors: &mut Vec<LoadError>,
) {
    let span = tree.node(id).span;
    // Lists and mappings are walked, not copied; scalars are cheap to copy.
    match (ty, &tree.node(id).value) {
        (Ty::List(inner), Value::Seq(items)) => {
            let items = items.clone();
            for item in items {
                let empty_text =
                    matches!(&tree.node(item).value, Value::Str(s) if s.trim().is_empty());
                if matches!(tree.node(item).value, Value::Null) || empty_text {
                    errors.push(wrong_type(tree.node(item).span, expected(inner), "null"));
                } else {
                    check_ty(tree, item, inner, field, errors);
                }
            }
            return;
        }
        (Ty::Obj(fields), Value::Map(_)) => {
            check_obj(tree, id, fields, errors);
            return;
        }
        // The usual values, valid as written: decided without copying them (a library
        // of a hundred thousand objects has a million).
        (Ty::Any, _) | (Ty::Int, Value::Int(_)) | (Ty::Bool, Value::Bool(_)) => return,
        (Ty::Str, Value::Str(s)) if !s.trim().is_empty() => return,
        (Ty::Date, Value::Str(s)) if is_iso_date(s) => return,
        (Ty::Enum(allowed), Value::Str(s)) if allowed.contains(&s.as_str()) => return,
        _ => {}
    }
    let value = tree.node(id).value.clone();
    let normalised = match (ty, &value) {
        (Ty::Any, _) => return,
        // Empty text is no text: `name: ""` is as absent as `name: ~`.
        (Ty::Str, Value::Str(s)) if s.trim().is_empty() => Some(Value::Null),
        (Ty::Str, Value::Str(_)) => return,
        (Ty::Str, Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
            tree.node(id).raw.clone().map(Value::Str)
        }
        (Ty::Int, Value::Int(_)) => return,
        (Ty::Int, Value::Str(s)) => s.trim().parse::<i64>().ok().map(Value::Int),
        (Ty::Bool, Value::Bool(_)) => return,
        (Ty::Bool, Value::Str(s)) => parse_bool(s).map(Value::Bool),
        (Ty::Date, Value::Str(s)) => match parse_date(s) {
            Ok(_) => return,
            Err(e) => {
                errors.push(e.at(span, s));
                unusable(tree, id);
                return;
            }
        },
        (Ty::Ratio, Value::Int(i)) if (0..=1).contains(i) => Some(Value::Float(*i as f64)),
        (Ty::Ratio, Value::Float(x)) if (0.0..=1.0).contains(x) => return,
        (Ty::Ratio, Value::Float(_) | Value::Int(_)) => {
            errors.push(LoadError {
                code: "input/bad-value",
                span,
                en: "a ratio is a decimal between 0 and 1 (0.05) or a percent string (\"5%\")"
                    .into(),
                zh: "抽查比例应为 0 到 1 之间的小数（0.05）或百分数字符串（\"5%\"）".into(),
            });
            unusable(tree, id);
            return;
        }
        (Ty::Ratio, Value::Str(s)) => crate::domain::ratio::parse_fraction(s).map(Value::Float),
        (Ty::Enum(allowed), Value::Str(s)) => {
            if allowed.contains(&s.as_str()) {
                return;
            }
            errors.push(LoadError {
                code: "input/bad-value",
                span,
                en: format!(
                    "`{}` is not one of: {}{}",
                    clipped(s),
                    allowed.join(", "),
                    suggest(s, allowed.iter().copied())
                ),
                zh: format!(
                    "`{}` 不是允许的取值：{}{}",
                    clipped(s),
                    allowed.join("、"),
                    suggest(s, allowed.iter().copied())
                ),
            });
            unusable(tree, id);
            return;
        }
        (Ty::List(inner), Value::Seq(items)) => {
            for item in items {
                let empty_text =
                    matches!(&tree.node(*item).value, Value::Str(s) if s.trim().is_empty());
                if matches!(tree.node(*item).value, Value::Null) || empty_text {
                    errors.push(wrong_type(tree.node(*item).span, expected(inner), "null"));
                } else {
                    check_ty(tree, *item, inner, field, errors);
                }
            }
            return;
        }
        (Ty::Obj(fields), Value::Map(_)) => {
            check_obj(tree, id, fields, errors);
            return;
        }
        (Ty::Columns, Value::Map(entries)) => {
            // Text, or the texts of several rows of one record.
            let scalar = |v: &Value| !matches!(v, Value::Seq(_) | Value::Map(_));
            for (_, child) in entries {
                let node = tree.node(*child);
                let fine = match &node.value {
                    Value::Seq(items) => items.iter().all(|i| scalar(&tree.node(*i).value)),
                    other => scalar(other),
                };
                if !fine {
                    errors.push(wrong_type(
                        tree.report_span(*child),
                        "text or a list of texts",
                        node.value.type_name(),
                    ));
                }
            }
            return;
        }
        (Ty::RiskRatios, Value::Map(entries)) => {
            // Known classes get their own name as key (see `check_obj`).
            if let Value::Map(keys) = &mut tree.nodes[id as usize].value {
                for (class, _) in keys.iter_mut() {
                    if let Some(name) = RISK_CLASSES.iter().find(|c| **c == class.as_str()) {
                        *class = Key::Static(name);
                    }
                }
            }
            for (class, child) in entries {
                if RISK_CLASSES.contains(&class.as_str()) {
                    if !matches!(tree.node(*child).value, Value::Null) {
                        check_ty(tree, *child, &Ty::Ratio, field, errors);
                    }
                } else {
                    let key_span = tree.node(*child).key_span.unwrap_or(span);
                    errors.push(LoadError {
                        code: "input/unknown-field",
                        span: key_span,
                        en: format!(
                            "unknown risk class `{class}`; classes are A (low), B, C, D (high)"
                        ),
                        zh: format!("未知的风险等级 `{class}`；等级为 A（低）、B、C、D（高）"),
                    });
                }
            }
            return;
        }
        _ => None,
    };
    match normalised {
        Some(v) => tree.nodes[id as usize].value = v,
        None => {
            let shown = match &value {
                Value::Str(s) => format!("`{}`", clipped(s)),
                other => other.type_name().to_owned(),
            };
            errors.push(LoadError {
                code: "input/wrong-type",
                span: tree.report_span(id),
                en: format!("`{}` must be {}, found {shown}", field.name, expected(ty)),
                zh: format!("`{}` 应为{}，实为 {shown}", field.name, expected_zh(ty)),
            });
            unusable(tree, id);
        }
    }
}

/// A value that failed validation is read as absent from then on: its error is
/// reported at it, and the rest of its record is still checked (see
/// [`errors_within_records`]).
fn unusable(tree: &mut Tree, id: NodeId) {
    if let Some(node) = tree.nodes.get_mut(id as usize) {
        if !matches!(node.value, Value::Seq(_) | Value::Map(_)) {
            node.value = Value::Null;
            tree.invalid.push(id);
        }
    }
}

/// Whether every error lies within an entry of the kind's record list (a result
/// record, a plan task, a library object): then the document is kept and checked,
/// its invalid values read as absent, instead of the whole document being dropped
/// for one bad record. Errors in the document's header (department, year, task)
/// still drop it.
pub fn errors_within_records(tree: &Tree, kind: &KindSchema, errors: &[LoadError]) -> bool {
    let Some(list) = tree.get_present(tree.root, kind.records) else {
        return false;
    };
    let Value::Seq(items) = &tree.node(list).value else {
        return false;
    };
    let mut extents: Vec<(u32, u32)> = items.iter().map(|&item| extent(tree, item)).collect();
    extents.sort_unstable();
    errors.iter().all(|e| {
        let at = extents.partition_point(|&(start, _)| start <= e.span.start);
        at > 0 && e.span.start < extents[at - 1].1
    })
}

/// The text a node and everything under it cover, keys included.
fn extent(tree: &Tree, id: NodeId) -> (u32, u32) {
    let node = tree.node(id);
    let mut start = node
        .key_span
        .map_or(node.span.start, |k| k.start.min(node.span.start));
    let mut end = node.span.end;
    let mut pending = vec![id];
    while let Some(id) = pending.pop() {
        let node = tree.node(id);
        start = start.min(node.span.start);
        end = end.max(node.span.end);
        if let Some(key) = node.key_span {
            start = start.min(key.start);
            end = end.max(key.end);
        }
        match &node.value {
            Value::Seq(items) => pending.extend(items.iter().copied()),
            Value::Map(entries) => pending.extend(entries.iter().map(|(_, v)| *v)),
            _ => {}
        }
    }
    // A record's extent reaches past its last value's end (a closing brace, say).
    (start, end.saturating_add(1))
}

fn expected(ty: &Ty) -> &'static str {
    match ty {
        Ty::Str => "text",
        Ty::Int => "a whole number",
        Ty::Bool => "true or false",
        Ty::Date => "a date YYYY-MM-DD",
        Ty::Ratio => "a ratio (0.05 or \"5%\")",
        Ty::Enum(_) => "one of the listed values",
        Ty::List(_) => "a list",
        Ty::Obj(_) | Ty::RiskRatios | Ty::Columns => "a mapping",
        Ty::Any => "a value",
    }
}

fn expected_zh(ty: &Ty) -> &'static str {
    match ty {
        Ty::Str => "文本",
        Ty::Int => "整数",
        Ty::Bool => "true 或 false",
        Ty::Date => "日期 YYYY-MM-DD",
        Ty::Ratio => "比例（0.05 或 \"5%\"）",
        Ty::Enum(_) => "列出的取值之一",
        Ty::List(_) => "列表",
        Ty::Obj(_) | Ty::RiskRatios | Ty::Columns => "映射",
        Ty::Any => "值",
    }
}

fn wrong_type(span: Span, expected: &str, found: &str) -> LoadError {
    LoadError {
        code: "input/wrong-type",
        span,
        en: format!("expected {expected}, found {found}"),
        zh: format!("应为 {expected}，实为 {found}"),
    }
}

fn unknown_field(span: Span, key: &str, fields: &'static [Field]) -> LoadError {
    let by_zh = fields.iter().find(|f| f.zh == key);
    let hint = match by_zh {
        Some(f) => format!("; did you mean `{}`?", f.name),
        None => suggest(key, fields.iter().map(|f| f.name)),
    };
    let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
    LoadError {
        code: "input/unknown-field",
        span,
        en: format!(
            "unknown field `{key}`{hint} (known fields: {})",
            known.join(", ")
        ),
        zh: format!(
            "未知字段 `{key}`{}（可用字段：{}）",
            hint.replace("; did you mean", "；是否应为")
                .replace('?', "？"),
            known.join(", ")
        ),
    }
}

/// A value as a message quotes it: at most 80 characters, the rest elided (a cell may
/// hold a megabyte; the diagnostic points at it).
pub fn clipped(value: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 80;
    match value.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &value[..at]).into(),
        None => value.into(),
    }
}

/// "; did you mean `x`?" for the closest known name, if any is close.
pub fn suggest<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> String {
    // A blank is no misspelling of anything: `""` is one edit from `A`.
    if given.trim().is_empty() {
        return String::new();
    }
    let lower = given.to_lowercase();
    let chars = lower.chars().count();
    // Only names whose length is within the distance allowed are compared: a long cell
    // (a paragraph where a header was expected) is compared with none, not character
    // by character with every name.
    known
        .filter_map(|k| {
            let allowed = 2.max(k.chars().count() / 3);
            (k.chars().count().abs_diff(chars) <= allowed).then(|| {
                let d = strsim::damerau_levenshtein(&lower, &k.to_lowercase());
                (d, k, allowed)
            })
        })
        .filter(|(d, _, allowed)| d <= allowed)
        .map(|(d, k, _)| (d, k))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "True" | "TRUE" | "是" | "Y" | "y" | "yes" => Some(true),
        "false" | "False" | "FALSE" | "否" | "N" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// Why a date field is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    Format,
    Impossible,
}

impl DateError {
    fn at(&self, span: Span, text: &str) -> LoadError {
        let text = clipped(text);
        match self {
            DateError::Format => LoadError {
                code: "input/bad-date",
                span,
                en: format!("`{text}` is not a date; write it as YYYY-MM-DD, e.g. 2024-05-30"),
                zh: format!("`{text}` 不是日期，请写作 YYYY-MM-DD，例如 2024-05-30"),
            },
            DateError::Impossible => LoadError {
                code: "input/bad-date",
                span,
                en: format!("`{text}` is not a real calendar date"),
                zh: format!("`{text}` 不是真实存在的日期"),
            },
        }
    }
}

/// Parses a strict ISO date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    // Dates repeat: a million results fall on a few hundred days, and checks read
    // several dates of each. The dates parsed last are kept by their text, per thread.
    use std::cell::Cell;
    const SLOTS: usize = 1024;
    type Parsed = (u64, u16, Result<NaiveDate, DateError>);
    thread_local! {
        // Ten zero bytes, the key of an unused slot, are no date.
        static PARSED: [Cell<Parsed>; SLOTS] =
            const { [const { Cell::new((0, 0, Err(DateError::Format))) }; SLOTS] };
    }
    let Ok(&[b0, b1, b2, b3, b4, b5, b6, b7, b8, b9]) = <&[u8; 10]>::try_from(s.as_bytes()) else {
        return Err(DateError::Format);
    };
    let head = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
    let tail = u16::from_le_bytes([b8, b9]);
    let slot = ((head ^ u64::from(tail) << 48).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
    PARSED.with(|parsed| {
        let cell = &parsed[slot % SLOTS];
        let (h, t, known) = cell.get();
        if h == head && t == tail {
            return known;
        }
        let date = parse_date_text(s);
        cell.set((head, tail, date));
        date
    })
}

fn parse_date_text(s: &str) -> Result<NaiveDate, DateError> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(DateError::Format);
    }
    let number = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    };
    let year = i32::try_from(number(0..4)).map_err(|_| DateError::Impossible)?;
    NaiveDate::from_ymd_opt(year, number(5..7), number(8..10)).ok_or(DateError::Impossible)
}

/// Whether [`parse_date`] reads `s`, without making the date: the date cells of a large
/// table are checked row by row.
/// A date as documents write it, `YYYY-MM-DD`; without chrono's formatter, which
/// parses its pattern on every call (scripts and checks make one per record).
pub fn format_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    let (year, month, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&year) {
        return format!("{year:04}-{month:02}-{day:02}");
    }
    let mut text = *b"0000-00-00";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut value = value;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, year.unsigned_abs(), 4);
    put(5, month, 2);
    put(8, day, 2);
    String::from_utf8_lossy(&text).into_owned()
}

pub fn is_iso_date(s: &str) -> bool {
    let Some(b) = s.as_bytes().first_chunk::<10>() else {
        return false;
    };
    if s.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    // The eight digits as the bytes of one word, checked all at once: this runs for
    // every date cell of a large table.
    let word = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[5], b[6], b[8], b[9]]);
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // Each byte is 0x30..=0x39: its high half is 3, and adding 6 does not carry into it.
    if word & HIGH != ZEROS || word.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return false;
    }
    let digit = |i: usize| ((word >> (8 * i)) & 0x0F) as u32;
    let (month, day) = (digit(4) * 10 + digit(5), digit(6) * 10 + digit(7));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            // The proleptic Gregorian calendar, as chrono's.
            let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            if leap {
                29
            } else {
                28
            }
        }
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// JSON Schema (draft-07) of a document kind, for editors (yaml-language-server).
pub fn json_schema(schema: &KindSchema) -> serde_json::Value {
    let mut root = object_schema(schema.fields);
    root["$schema"] = serde_json::json!("http://json-schema.org/draft-07/schema#");
    root["title"] = serde_json::json!(format!("{} — {}", schema.kind, schema.zh));
    root["properties"]["kind"] = serde_json::json!({"const": schema.kind});
    root
}

fn object_schema(fields: &[Field]) -> serde_json::Value {
    let properties: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|f| {
            let mut s = ty_schema(&f.ty);
            s["description"] = serde_json::json!(format!("{}（{}）", f.doc, f.zh));
            (f.name.to_owned(), s)
        })
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    serde_json::json!({"type": "object", "additionalProperties": false, "properties": properties, "required": required})
}

fn ty_schema(ty: &Ty) -> serde_json::Value {
    use serde_json::json;
    let nullable = |t: serde_json::Value| json!({"anyOf": [t, {"type": "null"}]});
    match ty {
        Ty::Str => nullable(json!({"type": ["string", "number", "boolean"]})),
        Ty::Int => nullable(json!({"type": "integer"})),
        Ty::Bool => nullable(json!({"type": "boolean"})),
        Ty::Date => nullable(json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})),
        Ty::Ratio => nullable(
            json!({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": "^\\s*[0-9.]+\\s*[%％]\\s*$"}]}),
        ),
        Ty::Enum(values) => nullable(json!({"enum": values})),
        Ty::List(inner) => nullable(json!({"type": "array", "items": ty_schema(inner)})),
        Ty::Obj(fields) => nullable(object_schema(fields)),
        Ty::RiskRatios => nullable(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {"A": ty_schema(&Ty::Ratio), "B": ty_schema(&Ty::Ratio), "C": ty_schema(&Ty::Ratio), "D": ty_schema(&Ty::Ratio)},
        })),
        Ty::Columns => nullable(json!({
            "type": "object",
            "additionalProperties": {"anyOf": [
                {"type": ["string", "number", "boolean", "null"]},
                {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
            ]},
        })),
        Ty::Any => json!({}),
    }
}

/// Text of a string node, for headers read before validation.
pub fn header_str(tree: &Tree, key: &str) -> Option<ImmutableString> {
    let node = tree.node(tree.get(tree.root, key)?);
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        _ => node.raw.clone(),
    }
}

/// `kind: Waivers`: findings set aside (see [`crate::findings::waivers`]).
const WAIVER: &[Field] = &[
    Field {
        name: "rule",
        zh: "规则",
        ty: Ty::Str,
        required: true,
        doc: "Rule id the waiver applies to.",
    },
    Field {
        name: "file",
        zh: "文件",
        ty: Ty::Str,
        required: false,
        doc: "File of the finding, relative to the waiver file.",
    },
    Field {
        name: "target",
        zh: "对象",
        ty: Ty::Str,
        required: false,
        doc: "Record, object, person or task id of the finding.",
    },
    Field {
        name: "reason",
        zh: "理由",
        ty: Ty::Str,
        required: true,
        doc: "Why the exception is justified.",
    },
    Field {
        name: "approved_by",
        zh: "批准人",
        ty: Ty::Str,
        required: true,
        doc: "Who approved it.",
    },
    Field {
        name: "expires_on",
        zh: "到期日",
        ty: Ty::Date,
        required: true,
        doc: "Last day the waiver holds.",
    },
];

const WAIVERS: &[Field] = &[
    Field {
        name: "kind",
        zh: "类型",
        ty: Ty::Str,
        required: true,
        doc: "Waivers",
    },
    Field {
        name: "waivers",
        zh: "豁免",
        ty: Ty::List(&Ty::Obj(WAIVER)),
        required: true,
        doc: "The waivers.",
    },
];

pub const WAIVERS_SCHEMA: KindSchema = KindSchema {
    kind: "Waivers",
    zh: "豁免清单",
    fields: WAIVERS,
    records: "waivers",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_documents_write_them() {
        for (y, m, d, text) in [
            (2024, 5, 6, "2024-05-06"),
            (999, 12, 31, "0999-12-31"),
            (9999, 1, 1, "9999-01-01"),
            (12345, 1, 1, "12345-01-01"),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("date");
            assert_eq!(format_date(date), text);
            if y <= 9999 {
                assert_eq!(format_date(date), date.format("%Y-%m-%d").to_string());
            }
        }
    }

    #[test]
    fn iso_dates_are_told_as_parse_date_tells_them() {
        let mut texts: Vec<String> = Vec::new();
        for year in [0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 2100, 2400, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    texts.push(format!("{year:04}-{month:02}-{day:02}"));
                }
            }
        }
        for text in [
            "",
            "2024-5-06",
            "2024/05/06",
            "2024-05-06 ",
            " 2024-05-06",
            "2024-05-0x",
            "２０２４-05-06",
            "+024-05-06",
            "2024--5-06",
            "2024-05-6-",
            "20240506xx",
        ] {
            texts.push(text.to_owned());
        }
        for text in &texts {
            assert_eq!(is_iso_date(text), parse_date(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_date_parsed_again_is_the_same_date() {
        let mut texts: Vec<String> = (0..5_000)
            .map(|i| format!("{:04}-{:02}-{:02}", 1990 + i % 50, i % 14, i % 33))
            .collect();
        texts.extend(["\0\0\0\0\0\0\0\0\0\0", "2024-05-06", "2024-05-6x"].map(String::from));
        // Twice over, and in another order: each text meets the kept ones of others.
        for text in texts.iter().chain(texts.iter().rev()) {
            assert_eq!(parse_date(text), parse_date_text(text), "{text:?}");
        }
    }
    use crate::parse::source::SourceFile;

    fn check(text: &str) -> Vec<LoadError> {
        let source = SourceFile::from_text("t.yaml", text);
        let mut trees = crate::parse::yaml::load(&source).unwrap();
        let kind = header_str(&trees[0], "kind").unwrap();
        validate(&mut trees[0], kind_schema(&kind).unwrap())
    }

    #[test]
    fn a_blank_value_gets_no_suggestion() {
        assert_eq!(suggest("", RISK_CLASSES.iter().copied()), "");
        assert_eq!(suggest("  ", RISK_CLASSES.iter().copied()), "");
        assert_eq!(
            suggest("a", RISK_CLASSES.iter().copied()),
            "; did you mean `A`?"
        );
    }

    #[test]
    fn unknown_field_suggests_the_closest() {
        let errors = check("kind: Results\ndepartment: d\nyear: 2024\ntask: T\nrecords:\n  - finishd_on: 2024-01-02\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "input/unknown-field");
        assert!(
            errors[0].en.contains("did you mean `finished_on`"),
            "{}",
            errors[0].en
        );
    }

    #[test]
    fn dates_types_and_required_fields() {
        let errors = check("kind: Results\ndepartment: d\nyear: twenty\nrecords:\n  - finished_on: 2024-02-30\n    problem: maybe\n    inspectors: P1\n");
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "input/wrong-type",
                "input/bad-date",
                "input/wrong-type",
                "input/wrong-type",
                "input/missing-field"
            ]
        );
    }
}
