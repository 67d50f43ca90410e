//! The policy format: policies, rules, overrides and calendars, as data for the
//! loader's validation and for the JSON Schema editors use.

use crate::schema::{Field, KindSchema, Ty};

const TEXT: &[Field] = &[
    Field {
        name: "zh",
        zh: "中文",
        ty: Ty::Str,
        required: false,
        doc: "Chinese text.",
    },
    Field {
        name: "en",
        zh: "英文",
        ty: Ty::Str,
        required: false,
        doc: "English text.",
    },
];

pub const KIND_NAMES: &[&str] = &[
    "Plan",
    "ItemList",
    "ObjectLibrary",
    "PersonnelLibrary",
    "Results",
];

const RULE: &[Field] = &[
    Field {
        name: "id",
        zh: "规则编号",
        ty: Ty::Str,
        required: true,
        doc: "Stable rule id (never renamed once shipped).",
    },
    Field {
        name: "title",
        zh: "标题",
        ty: Ty::Obj(TEXT),
        required: true,
        doc: "Title in Chinese and English.",
    },
    Field {
        name: "clause",
        zh: "条款",
        ty: Ty::Str,
        required: true,
        doc: "The clause of the notice the rule enforces.",
    },
    Field {
        name: "quote",
        zh: "原文",
        ty: Ty::Str,
        required: true,
        doc: "The clause's words.",
    },
    Field {
        name: "source",
        zh: "依据文件",
        ty: Ty::Str,
        required: false,
        doc: "The document the clause is in (default: the policy's `notice`).",
    },
    Field {
        name: "severity",
        zh: "严重程度",
        ty: Ty::Enum(&["error", "warning"]),
        required: true,
        doc: "error or warning.",
    },
    Field {
        name: "on",
        zh: "适用文档",
        ty: Ty::List(&Ty::Enum(KIND_NAMES)),
        required: true,
        doc: "Document kinds the rule reads.",
    },
    Field {
        name: "each",
        zh: "粒度",
        ty: Ty::Enum(&["record", "document", "submission"]),
        required: false,
        doc: "record, document or submission: what a script's `check` is called with (default record; checks choose their own).",
    },
    Field {
        name: "script",
        zh: "脚本",
        ty: Ty::Str,
        required: false,
        doc: "Rhai script, relative to the policy file (a rule has a script, or `check`, or `checks`).",
    },
    Field {
        name: "check",
        zh: "检查",
        ty: Ty::Any,
        required: false,
        doc: "A declarative check: one of deadline, required, count, allowed, reference, uscc, share, sample_size, with its options; optional `when`, `on`, `each`, `message`.",
    },
    Field {
        name: "checks",
        zh: "检查列表",
        ty: Ty::Any,
        required: false,
        doc: "Several declarative checks, each as under `check`.",
    },
    Field {
        name: "labels",
        zh: "取值名称",
        ty: Ty::Any,
        required: false,
        doc: "How values are shown in messages: placeholder → value → {zh, en}; `_` for any other value.",
    },
    Field {
        name: "doc",
        zh: "说明",
        ty: Ty::Str,
        required: false,
        doc: "Documentation of a declarative rule (## What it does, ## Why, ## Example, ## Use instead, ## Parameters); a script rule's is its //! header.",
    },
    Field {
        name: "params",
        zh: "参数",
        ty: Ty::Any,
        required: false,
        doc: "Parameters with their defaults.",
    },
    Field {
        name: "message",
        zh: "提示",
        ty: Ty::Obj(TEXT),
        required: true,
        doc: "Finding message; {name} placeholders take the values the check or script reports, the parameters, and the reported record's fields.",
    },
    Field {
        name: "messages",
        zh: "其他提示",
        ty: Ty::Any,
        required: false,
        doc: "Further messages by key, for scripts that report several kinds of finding.",
    },
    Field {
        name: "help",
        zh: "整改建议",
        ty: Ty::Obj(TEXT),
        required: true,
        doc: "How to fix it.",
    },
    Field {
        name: "figure",
        zh: "合规指标",
        ty: Ty::Obj(TEXT),
        required: false,
        doc: "Name of the compliance figure the rule measures, for the summary.",
    },
    Field {
        name: "since",
        zh: "起始版本",
        ty: Ty::Str,
        required: false,
        doc: "spotlint version that shipped the rule.",
    },
];

pub const OVERRIDE: &[Field] = &[
    Field {
        name: "severity",
        zh: "严重程度",
        ty: Ty::Enum(&["error", "warning"]),
        required: false,
        doc: "New severity.",
    },
    Field {
        name: "params",
        zh: "参数",
        ty: Ty::Any,
        required: false,
        doc: "Parameter values to change.",
    },
];

const POLICY: &[Field] = &[
    Field {
        name: "kind",
        zh: "类型",
        ty: Ty::Str,
        required: true,
        doc: "Policy",
    },
    Field {
        name: "id",
        zh: "编号",
        ty: Ty::Str,
        required: true,
        doc: "Policy id; namespaces its rules.",
    },
    Field {
        name: "title",
        zh: "标题",
        ty: Ty::Obj(TEXT),
        required: false,
        doc: "Title.",
    },
    Field {
        name: "source",
        zh: "依据",
        ty: Ty::Str,
        required: false,
        doc: "The notice the policy enforces, in full.",
    },
    Field {
        name: "notice",
        zh: "文号",
        ty: Ty::Str,
        required: false,
        doc: "Short citation of the notice (文号), used in findings.",
    },
    Field {
        name: "extends",
        zh: "继承",
        ty: Ty::Str,
        required: false,
        doc: "Parent policy file, relative to this one.",
    },
    Field {
        name: "effective",
        zh: "有效期",
        ty: Ty::Obj(&[
            Field {
                name: "from",
                zh: "起",
                ty: Ty::Date,
                required: false,
                doc: "First day.",
            },
            Field {
                name: "to",
                zh: "止",
                ty: Ty::Date,
                required: false,
                doc: "Last day.",
            },
        ]),
        required: false,
        doc: "Dates the policy applies to.",
    },
    Field {
        name: "calendar",
        zh: "工作日历",
        ty: Ty::Str,
        required: false,
        doc: "Working-day calendar file, relative to this one.",
    },
    Field {
        name: "waivers",
        zh: "豁免规则",
        ty: Ty::Obj(&[
            Field {
                name: "beside_submission",
                zh: "允许随报送材料提交",
                ty: Ty::Bool,
                required: false,
                doc: "Apply waiver files found among the checked files (default false: only `--waivers` files, which the reviewer controls, are applied).",
            },
            Field {
                name: "approvers",
                zh: "批准人",
                ty: Ty::List(&Ty::Str),
                required: false,
                doc: "Who may approve: a waiver's `approved_by` must contain one of these texts.",
            },
            Field {
                name: "max_days",
                zh: "最长有效天数",
                ty: Ty::Int,
                required: false,
                doc: "Longest validity: `expires_on` at most this many days after the evaluation date.",
            },
            Field {
                name: "scope",
                zh: "豁免范围",
                ty: Ty::Enum(&["record", "rule"]),
                required: false,
                doc: "`record` (default): a waiver must name its `target` record; `rule`: it may cover every finding of a rule.",
            },
        ]),
        required: false,
        doc: "Who may waive what: waivers are the reviewer's, never the submitter's.",
    },
    Field {
        name: "vocabulary",
        zh: "表头词表",
        ty: Ty::Str,
        required: false,
        doc: "Header vocabulary file (kind: Vocabulary), relative to this one, laid over the shipped one when tables are read.",
    },
    Field {
        name: "disable",
        zh: "停用规则",
        ty: Ty::List(&Ty::Str),
        required: false,
        doc: "Inherited rules to switch off.",
    },
    Field {
        name: "overrides",
        zh: "覆盖",
        ty: Ty::Any,
        required: false,
        doc: "Inherited rule id → {severity, params}.",
    },
    Field {
        name: "rules",
        zh: "规则",
        ty: Ty::List(&Ty::Obj(RULE)),
        required: false,
        doc: "Rules this policy declares.",
    },
];

pub const POLICY_SCHEMA: KindSchema = KindSchema {
    kind: "Policy",
    zh: "规则集",
    fields: POLICY,
    records: "rules",
};

const CALENDAR: &[Field] = &[
    Field {
        name: "kind",
        zh: "类型",
        ty: Ty::Str,
        required: true,
        doc: "Calendar",
    },
    Field {
        name: "id",
        zh: "编号",
        ty: Ty::Str,
        required: true,
        doc: "Calendar id.",
    },
    Field {
        name: "title",
        zh: "标题",
        ty: Ty::Str,
        required: false,
        doc: "Title.",
    },
    Field {
        name: "years",
        zh: "年份",
        ty: Ty::List(&Ty::Int),
        required: true,
        doc: "Years the calendar covers.",
    },
    Field {
        name: "sources",
        zh: "来源",
        ty: Ty::List(&Ty::Obj(&[
            Field {
                name: "year",
                zh: "年份",
                ty: Ty::Int,
                required: true,
                doc: "Year.",
            },
            Field {
                name: "notice",
                zh: "通知",
                ty: Ty::Str,
                required: true,
                doc: "The State Council notice.",
            },
        ])),
        required: true,
        doc: "The notice behind each year.",
    },
    Field {
        name: "holidays",
        zh: "放假日期",
        ty: Ty::List(&Ty::Date),
        required: true,
        doc: "Days off.",
    },
    Field {
        name: "workdays",
        zh: "调休上班日期",
        ty: Ty::List(&Ty::Date),
        required: true,
        doc: "Weekend days that are working days.",
    },
];

pub const CALENDAR_SCHEMA: KindSchema = KindSchema {
    kind: "Calendar",
    zh: "工作日历",
    fields: CALENDAR,
    records: "holidays",
};
