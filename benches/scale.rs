//! Scale benchmark: generates a deterministic province-style data set (sizes as
//! arguments, about 2% violations of each per-record rule), then times the release
//! binary on it: a parse-only pass, the full policy, four hot rules only, and the full
//! policy with one more rule as policy staff would add it — declared, and the same rule
//! as a Rhai script — to show what a rule of one's own costs per record.
//!
//! cargo bench --bench scale -- --records 1000000 --objects 100000 --people 5000
//! cargo bench --bench scale -- --threads 1      # every run on one core
//!
//! Figures are printed as a Markdown table (records/s, wall time, peak memory, ratio to
//! the parse-only pass, cost per record beyond the full policy) for the README.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod gen;

use gen::{arg, uscc, Rng};

const DEPT: &str = "湖北省某市市场监督管理局";
const TASKS: u64 = 40;

fn generate(dir: &Path, records: u64, objects: u64, people: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(2024);
    let mut plan = format!("kind: Plan\ndepartment: {DEPT}\nlevel: city\nyear: 2024\nscope: department\nindustry_credit_mechanism: false\npublication: {{website_url: https://example.gov.cn/plan, published_on: 2024-03-20, platform_entered_on: 2024-03-21}}\ntasks:\n");
    for t in 0..TASKS {
        writeln!(plan, "  - {{id: T{t:03}, name: 任务{t}, joint: {}, lead: {DEPT}, partners: [某市商务局], items: [I{t:03}], objects: {{industry: 行业{}}}, level: city, credit_risk: {{applied: true, classification: general, ratios: {{A: 0.01, B: 0.02, C: 0.05, D: 0.10}}}}, start: 2024-02-01, end: 2024-12-20}}", t % 2 == 0, t % 20).ok();
    }
    std::fs::write(dir.join("plan.yaml"), plan)?;
    let mut items = format!("kind: ItemList\ndepartment: {DEPT}\nupdated_on: 2024-02-01\npublication: {{website_url: https://example.gov.cn/items, published_on: 2024-02-05}}\nfiling: {{office: 联席会议办公室, filed_on: 2024-02-08}}\nitems:\n");
    for t in 0..TASKS {
        writeln!(items, "  - {{id: I{t:03}, category: {}, name: 事项{t}, objects: 对象, method: 现场检查, basis: 某法第{t}条}}", if t % 3 == 0 { "key" } else { "general" }).ok();
    }
    std::fs::write(dir.join("items.yaml"), items)?;
    // The object library comes as a table too, as exported from the platform.
    let mut lib = String::from(
        "department,updated_on,uscc,name,entity_type,licence_category,industry,risk_level\n",
    );
    for o in 0..objects {
        let code = if rng.chance(2) {
            format!("{}X", &uscc(o)[..17])
        } else {
            uscc(o)
        };
        writeln!(
            lib,
            "{DEPT},2024-02-20,{code},企业{o},enterprise,许可{},行业{},{}",
            o % 7,
            o % 20,
            ["A", "B", "C", "D"][(o % 4) as usize]
        )
        .ok();
    }
    std::fs::write(dir.join("objects.csv"), lib)?;
    let mut staff =
        format!("kind: PersonnelLibrary\ndepartment: {DEPT}\nupdated_on: 2024-02-20\npeople:\n");
    for p in 0..people {
        writeln!(staff, "  - {{id: P{p:05}, name: 人员{p}, certificate: 鄂执法{p:08}, qualification: 行政执法证, expertise: [食品安全], active: true}}").ok();
    }
    std::fs::write(dir.join("personnel.yaml"), staff)?;
    // Results come as one CSV table, as provincial platform exports do.
    let mut out = String::from("department,year,task,object,entity_type,inspectors,finished_on,outcome,problem,entered_on,publication_channel,published_on,follow_up_action,follow_up_responsible,follow_up_done_on\n");
    for r in 0..records {
        let task = (r / 1000) % TASKS;
        let object = if rng.chance(2) {
            uscc(objects + r)
        } else {
            uscc(rng.below(objects.max(1)))
        };
        let inspectors = if rng.chance(2) {
            format!("P{:05}", rng.below(people))
        } else {
            format!("P{:05};P{:05}", rng.below(people), rng.below(people))
        };
        let (finished, entered) = if rng.chance(2) {
            ("2024-04-30", "2024-05-31")
        } else {
            ("2024-06-03", "2024-06-20")
        };
        // Empty cells: "," is two of them (channel, date), ",," three (the follow-up).
        let publication = if rng.chance(2) {
            ","
        } else if rng.chance(2) {
            "website,2024-06-21"
        } else {
            "gsxt,2024-06-21"
        };
        let problem = rng.chance(10);
        let follow_up = if problem && !rng.chance(20) {
            "责令整改,某市市场监督管理局,2024-07-01"
        } else {
            ",,"
        };
        writeln!(out, "{DEPT},2024,T{task:03},{object},enterprise,{inspectors},{finished},未发现问题,{problem},{entered},{publication},{follow_up}").ok();
    }
    std::fs::write(dir.join("results.csv"), out)?;
    Ok(())
}

struct Measured {
    seconds: f64,
    peak_kib: u64,
    diagnostics: u64,
}

fn measure(binary: &str, args: &[&str], threads: u64) -> Measured {
    let mut command = Command::new(binary);
    command.args(args);
    if threads > 0 {
        command.env("RAYON_NUM_THREADS", threads.to_string());
    }
    let out = command.output().expect("spotlint runs");
    let stats = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("seconds").is_some())
        .unwrap_or_else(|| panic!("no --stats line: {}", String::from_utf8_lossy(&out.stderr)));
    Measured {
        seconds: stats["seconds"].as_f64().unwrap_or_default(),
        peak_kib: stats["peak_rss_kib"].as_u64().unwrap_or_default(),
        diagnostics: stats["diagnostics"].as_u64().unwrap_or_default(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records = arg(&args, "--records", 1_000_000);
    let objects = arg(&args, "--objects", 100_000);
    let people = arg(&args, "--people", 5_000);
    let tries = arg(&args, "--runs", 3).max(1);
    // 0: as many threads as cores.
    let threads = arg(&args, "--threads", 0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(format!(
        "target/bench-data/v2-r{records}-o{objects}-p{people}"
    ));
    if !dir.join("plan.yaml").exists() {
        generate(&dir, records, objects, people).expect("generate the data set");
    }
    let four = dir.join("four-rules.yaml");
    let wuhan = root.join("policies/wuhan-2024.yaml");
    let keep = [
        "result-entry-deadline",
        "result-inspectors-count",
        "objects-uscc",
        "result-publication-channel",
    ];
    // The shipped rules, as the binary lists them.
    let binary = env!("CARGO_BIN_EXE_spotlint");
    let listed = Command::new(binary)
        .args(["rules", "--format", "json"])
        .output()
        .expect("spotlint rules runs");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("rules as JSON");
    let disable: Vec<&str> = listed["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| !keep.contains(id))
        .collect();
    std::fs::write(
        &four,
        format!(
            "kind: Policy\nid: four-rules\nextends: {}\ndisable: [{}]\n",
            wuhan.display(),
            disable.join(", ")
        ),
    )
    .expect("write policy");

    let (declared, scripted) = extra_rule_policies(&dir, &wuhan);

    let data = dir.to_str().expect("utf-8 path");
    let common = [
        "check",
        data,
        "--format",
        "json",
        "--as-of",
        "2024-12-31",
        "--stats",
    ];
    let path = |p: &'_ PathBuf| p.to_str().expect("utf-8 path").to_owned();
    let (four, declared, scripted) = (path(&four), path(&declared), path(&scripted));
    let with_policy = |policy| with_policy(&common, policy);
    let runs = [
        ("parse only", [&common[..], &["--parse-only"]].concat()),
        ("full policy (31 rules)", common.to_vec()),
        ("four rules", with_policy(&four)),
        ("full + one declared rule", with_policy(&declared)),
        (
            "full + the same rule as a Rhai script",
            with_policy(&scripted),
        ),
    ];
    println!(
        "data: {records} result records, {objects} objects, {people} people ({})",
        dir.display()
    );
    println!(
        "machine: {} cores{}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        if threads > 0 {
            format!(", runs on {threads} thread(s)")
        } else {
            String::new()
        }
    );
    println!();
    println!(
        "| run | wall (s) | records/s | peak memory (MiB) | × parse-only | µs/record beyond full | diagnostics |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut parse_only = None;
    let mut full = None;
    for (name, args) in runs {
        // Best of several, as the machine may be busy.
        let best = (0..tries)
            .map(|_| measure(binary, &args, threads))
            .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
            .expect("at least one run");
        let base = *parse_only.get_or_insert(best.seconds);
        let beyond = match full {
            Some(full) if name.starts_with("full +") => {
                format!("{:.2}", (best.seconds - full) * 1e6 / records.max(1) as f64)
            }
            _ => String::new(),
        };
        if name.starts_with("full policy") {
            full = Some(best.seconds);
        }
        println!(
            "| {name} | {:.2} | {:.0} | {:.0} | {:.2} | {beyond} | {} |",
            best.seconds,
            records as f64 / best.seconds,
            best.peak_kib as f64 / 1024.0,
            best.seconds / base,
            best.diagnostics
        );
    }
}

/// A rule a district might add — results published within 5 working days of their
/// entry — once as a declarative check and once as a script, each in a policy that
/// extends the shipped one.
fn extra_rule_policies(dir: &Path, wuhan: &Path) -> (PathBuf, PathBuf) {
    let head = format!(
        "kind: Policy\nid: extra\ntitle: {{zh: 附加, en: Extra}}\nsource: bench\nnotice: bench\nextends: {}\nrules:\n",
        wuhan.display()
    );
    let rule = "  - id: result-published-promptly
    title: {zh: 结果公示不及时, en: Result published late}
    clause: 三
    quote: 确保结果公示率 100%
    severity: error
    on: [Results]
    params: {working_days: 5}
    message:
      zh: 结果于 {entered_on} 录入，{published_on} 才公示，超过 {working_days} 个工作日
      en: entered on {entered_on} but published on {published_on}, beyond {working_days} working days
    help: {zh: 及时公示, en: publish promptly}
";
    let declared = dir.join("extra-declared.yaml");
    let scripted = dir.join("extra-scripted.yaml");
    std::fs::write(
        &declared,
        format!("{head}{rule}    check:\n      deadline: {{start: entered_on, end: publication.published_on, working_days: $working_days}}\n"),
    )
    .expect("write policy");
    std::fs::write(
        &scripted,
        format!("{head}{rule}    each: record\n    script: published.rhai\n"),
    )
    .expect("write policy");
    std::fs::write(
        dir.join("published.rhai"),
        "fn check(r, ctx) {
    let p = r.publication;
    if r.entered_on == () || p == () || p.published_on == () { return; }
    if !within_working_days(r.entered_on, ctx.params.working_days, p.published_on) {
        ctx.report(r, \"publication.published_on\", #{ entered_on: r.entered_on, published_on: p.published_on });
    }
}
",
    )
    .expect("write script");
    (declared, scripted)
}

/// The arguments of a run with a policy of its own.
fn with_policy<'a>(common: &[&'a str], policy: &'a str) -> Vec<&'a str> {
    [common, &["--policy", policy]].concat()
}
