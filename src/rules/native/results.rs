//! Checks of Results records against the libraries and the plan, and of their
//! publication and follow-up.

use rhai::{Array, Dynamic, Map};

use super::{Cx, NativeRule, Out, Rec, Step, V};
use crate::values;

pub static RULES: &[&dyn NativeRule] = &[
    &InspectorsKnown,
    &ObjectKnown,
    &WithinPlan,
    &PublicationChannel,
    &FollowUp,
    &JudicialTransfer,
    &PublicationRate,
];

/// `node.key` as a script reads it (`()` when absent or null), for values maps.
fn field(r: &Rec, key: &str) -> Dynamic {
    r.script_value(key)
}

/// `sub.personnel_library != ()` and the like: the submission has a document of `kind`.
fn has_kind(cx: &Cx, kind: &str) -> bool {
    cx.submission.of_kind(kind).next().is_some()
}

/// `x == true` in a script: only the boolean `true` is.
fn is_true(r: &Rec, key: &str) -> bool {
    r.bool(key) == Some(true)
}

/// `rules/result-inspectors-known.rhai`.
struct InspectorsKnown;

impl NativeRule for InspectorsKnown {
    fn script(&self) -> &'static str {
        "result-inspectors-known.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        if !has_kind(cx, "PersonnelLibrary") || !r.is_present("inspectors") {
            return Ok(());
        }
        for (i, id) in r.items("inspectors").enumerate() {
            // The schema makes every inspector text.
            let V::Str(id) = id else { continue };
            // Made only for a finding: most inspectors are known.
            let at = || format!("inspectors[{i}]");
            let Some(person) = cx.submission.people.get(id) else {
                out.report(&r, &at(), "default", values! { person: id.to_owned() });
                continue;
            };
            let key = if person.active == Some(false) {
                "inactive"
            } else if !person.qualified {
                "unqualified"
            } else {
                continue;
            };
            let person = Rec::of(&person.node);
            let mut name = field(&person, "name");
            if name.is_unit() {
                name = Dynamic::from("");
            }
            out.report(
                &r,
                &at(),
                key,
                values! { person: id.to_owned(), name: name },
            );
        }
        Ok(())
    }
}

/// `rules/result-object-known.rhai`.
struct ObjectKnown;

impl NativeRule for ObjectKnown {
    fn script(&self) -> &'static str {
        "result-object-known.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        if !has_kind(cx, "ObjectLibrary") {
            return Ok(());
        }
        let Some(object) = r.str("object") else {
            return Ok(());
        };
        if !cx.submission.objects.contains_key(object) {
            out.report(
                &r,
                "object",
                "default",
                values! { object: field(&r, "object") },
            );
        }
        Ok(())
    }
}

/// `rules/result-within-plan.rhai`.
struct WithinPlan;

impl WithinPlan {
    fn task<'a>(doc: &Rec, cx: &'a Cx) -> Option<Rec<'a>> {
        doc.str("task")
            .and_then(|t| cx.submission.tasks.get(t))
            .map(|task| Rec::of(&task.node))
    }
}

impl NativeRule for WithinPlan {
    fn script(&self) -> &'static str {
        "result-within-plan.rhai"
    }

    fn has_document_check(&self) -> bool {
        true
    }

    fn document(&self, doc: Rec, cx: &Cx, out: &mut Out) -> Step {
        if Self::task(&doc, cx).is_none() {
            out.report(
                &doc,
                "task",
                "unknown_task",
                values! { task: field(&doc, "task"), year: field(&doc, "year") },
            );
        }
        Ok(())
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        let Some(entry) = cx.doc_task else {
            return Ok(());
        };
        // Rhai's `>` is false across types; dates are text.
        let late = match (r.value("entered_on"), entry.end.as_deref()) {
            (Some(V::Str(entered)), Some(end)) => entered > end,
            _ => false,
        };
        if late {
            let task = Rec::of(&entry.node);
            out.report(
                &r,
                "entered_on",
                "default",
                values! {
                    entered_on: field(&r, "entered_on"),
                    task: field(&task, "id"),
                    end: field(&task, "end"),
                },
            );
        }
        Ok(())
    }
}

/// `rules/result-publication-channel.rhai`.
struct PublicationChannel;

fn name_zh(entity: &str) -> &'static str {
    match entity {
        "enterprise" => "企业",
        "individual" => "个体工商户",
        "cooperative" => "农民专业合作社",
        _ => "其他检查对象",
    }
}

fn name_en(entity: &str) -> &'static str {
    match entity {
        "enterprise" => "an enterprise",
        "individual" => "an individual business",
        "cooperative" => "a farmers' cooperative",
        _ => "another kind of object",
    }
}

impl NativeRule for PublicationChannel {
    fn script(&self) -> &'static str {
        "result-publication-channel.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        let Some(publication) = r.child("publication") else {
            return Ok(());
        };
        let Some(channel) = publication.value("channel") else {
            return Ok(());
        };
        let entity = match r.value("entity_type") {
            Some(entity) => Some(entity),
            None => r
                .str("object")
                .and_then(|o| cx.submission.objects.get(o))
                .and_then(|o| o.entity_type.as_deref())
                .map(V::Str),
        };
        // Entity types are text (schema enums).
        let Some(V::Str(entity)) = entity else {
            return Ok(());
        };
        let allowed = if cx.list_has("market_entity_types", entity) {
            "market_channels"
        } else {
            "other_channels"
        };
        let fits = matches!(channel, V::Str(c) if cx.list_has(allowed, c));
        if !fits {
            out.report(
                &r,
                "publication.channel",
                "default",
                values! {
                    channel: field(&publication, "channel"),
                    entity_zh: name_zh(entity),
                    entity_en: name_en(entity),
                    expected: cx.param(allowed).cloned().unwrap_or(Dynamic::UNIT),
                },
            );
        }
        Ok(())
    }
}

/// `rules/result-follow-up.rhai`.
struct FollowUp;

impl NativeRule for FollowUp {
    fn script(&self) -> &'static str {
        "result-follow-up.rhai"
    }

    fn record(&self, r: Rec, _cx: &Cx, out: &mut Out) -> Step {
        if !is_true(&r, "problem") {
            return Ok(());
        }
        let f = r.child("follow_up");
        let missing = |key: &str| f.is_none_or(|f| !f.is_present(key));
        let mut missing_zh = Array::new();
        let mut missing_en = Array::new();
        for (key, zh, en) in [
            ("action", "处置措施（action）", "action"),
            (
                "responsible",
                "责任部门（responsible）",
                "responsible department",
            ),
            ("done_on", "处置日期（done_on）", "date (done_on)"),
        ] {
            if missing(key) {
                missing_zh.push(zh.into());
                missing_en.push(en.into());
            }
        }
        if !missing_zh.is_empty() {
            let at = if f.is_none() { "problem" } else { "follow_up" };
            out.report(
                &r,
                at,
                "default",
                values! { missing_zh: missing_zh, missing_en: missing_en },
            );
        }
        Ok(())
    }
}

/// `rules/result-judicial-transfer.rhai`.
struct JudicialTransfer;

impl NativeRule for JudicialTransfer {
    fn script(&self) -> &'static str {
        "result-judicial-transfer.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        if !is_true(&r, "crime_suspected") {
            return Ok(());
        }
        let f = r.child("follow_up");
        let Some(f) = f.filter(|f| f.is_present("action")) else {
            let at = if f.is_none() {
                "crime_suspected"
            } else {
                "follow_up"
            };
            out.report(&r, at, "default", values! { action: "—" });
            return Ok(());
        };
        let transfer =
            matches!(f.value("action"), Some(V::Str(a)) if cx.list_has("transfer_actions", a));
        if !transfer {
            out.report(
                &r,
                "follow_up.action",
                "default",
                values! { action: field(&f, "action") },
            );
        }
        Ok(())
    }
}

/// `rules/result-publication-rate.rhai`: unpublished records in [`NativeRule::record`],
/// the rate in [`NativeRule::submission`].
struct PublicationRate;

/// `p != () && p.channel != () && p.published_on != ()`.
fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

impl NativeRule for PublicationRate {
    fn script(&self) -> &'static str {
        "result-publication-rate.rhai"
    }

    fn scans_records(&self) -> bool {
        true
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        // The script walks `sub.results` whatever the rule's `on` lists.
        if cx.doc_kind != Some("Results") {
            return Ok(());
        }
        if !super::is_published(&r) {
            out.report(&r, "publication", "default", Map::new());
        }
        Ok(())
    }

    fn submission(&self, cx: &Cx, out: &mut Out) -> Step {
        // Counted in the digest: streamed results are not kept.
        let digest = cx.digest();
        let (total, count) = (digest.records, digest.published);
        let Some(first) = digest.first.as_ref().filter(|_| total > 0) else {
            return Ok(());
        };
        let first = Rec::of(first);
        let min = cx.float("min_rate");
        out.figure("result-publication-rate", count, total, min);
        let rate = count as f64 / total as f64;
        if rate < min {
            out.report(
                &first,
                "records",
                "rate",
                values! { rate: pct(rate), published: count, total: total, min_pct: pct(min) },
            );
        }
        Ok(())
    }
}
