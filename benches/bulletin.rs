//! 情况通报 benchmark: generates a city of departments (each a plan, an item list, an
//! object library and results as CSV, a personnel library; violation rates differ by
//! department), then times `spotlint report` over all of them with the release binary,
//! best of several runs.
//!
//! cargo bench --bench bulletin -- --departments 100 --results 10000 --runs 3

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod gen;

use gen::{arg, uscc, Rng};

const TASKS: u64 = 20;
const OBJECTS: u64 = 2_000;
const PEOPLE: u64 = 60;

/// One department's submission; `d` sets its name and how often it slips.
fn department(dir: &Path, d: u64, results: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let dept = format!("某市第{d}局");
    let mut rng = Rng(2024 + d);
    let late = d % 6; // percent of results entered late
    let unpublished = (d * 7) % 5;
    let joint_every = 2 + d % 3; // every second, third or fourth task is joint
    let mut plan = format!("kind: Plan\ndepartment: {dept}\nlevel: city\nyear: 2024\nscope: department\nindustry_credit_mechanism: false\npublication: {{website_url: https://example.gov.cn/plan{d}, published_on: 2024-03-20, platform_entered_on: 2024-03-21}}\ntasks:\n");
    for t in 0..TASKS {
        writeln!(plan, "  - {{id: T{t:03}, name: 任务{t}, joint: {}, lead: {dept}, partners: [某市商务局], items: [I{t:03}], objects: {{industry: 行业{}}}, level: city, credit_risk: {{applied: {}, classification: general, ratios: {{A: 0.01, B: 0.02, C: 0.05, D: 0.10}}}}, start: 2024-02-01, end: 2024-12-20}}", t % joint_every == 0, t % 20, t % 10 != 0 || d % 4 != 0).ok();
    }
    std::fs::write(dir.join("plan.yaml"), plan)?;
    let filing = if d % 10 == 3 {
        String::new()
    } else {
        "filing: {office: 联席会议办公室, filed_on: 2024-02-08}\n".to_owned()
    };
    let mut items = format!("kind: ItemList\ndepartment: {dept}\nupdated_on: 2024-02-01\npublication: {{website_url: https://example.gov.cn/items{d}, published_on: 2024-02-05}}\n{filing}items:\n");
    for t in 0..TASKS {
        writeln!(items, "  - {{id: I{t:03}, category: {}, name: 事项{t}, objects: 对象, method: 现场检查, basis: 某法第{t}条}}", if t % 3 == 0 { "key" } else { "general" }).ok();
    }
    std::fs::write(dir.join("items.yaml"), items)?;
    let mut lib = String::from(
        "department,updated_on,uscc,name,entity_type,licence_category,industry,risk_level\n",
    );
    for o in 0..OBJECTS {
        writeln!(
            lib,
            "{dept},2024-02-20,{},企业{o},enterprise,许可{},行业{},{}",
            uscc(d * OBJECTS + o),
            o % 7,
            o % 20,
            ["A", "B", "C", "D"][(o % 4) as usize]
        )
        .ok();
    }
    std::fs::write(dir.join("objects.csv"), lib)?;
    let mut staff =
        format!("kind: PersonnelLibrary\ndepartment: {dept}\nupdated_on: 2024-02-20\npeople:\n");
    for p in 0..PEOPLE {
        writeln!(staff, "  - {{id: P{p:03}, name: 人员{p}, certificate: 鄂执法{d:03}{p:05}, qualification: 行政执法证, expertise: [食品安全], active: true}}").ok();
    }
    std::fs::write(dir.join("personnel.yaml"), staff)?;
    let mut out = String::from("department,year,task,object,entity_type,inspectors,finished_on,outcome,problem,entered_on,publication_channel,published_on,follow_up_action,follow_up_responsible,follow_up_done_on\n");
    for r in 0..results {
        let task = r % TASKS;
        let object = uscc(d * OBJECTS + rng.below(OBJECTS));
        let inspectors = format!(
            "P{:03};P{:03}",
            rng.below(PEOPLE / 2),
            PEOPLE / 2 + rng.below(PEOPLE / 2)
        );
        let (finished, entered) = if rng.chance(late) {
            ("2024-04-30", "2024-05-31")
        } else {
            ("2024-06-03", "2024-06-20")
        };
        let publication = if rng.chance(unpublished) {
            ","
        } else {
            "gsxt,2024-06-21"
        };
        writeln!(out, "{dept},2024,T{task:03},{object},enterprise,{inspectors},{finished},未发现问题,false,{entered},{publication},,,").ok();
    }
    std::fs::write(dir.join("results.csv"), out)?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let departments = arg(&args, "--departments", 100);
    let results = arg(&args, "--results", 10_000);
    let runs = arg(&args, "--runs", 3).max(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let city = root.join(format!(
        "target/bench-data/bulletin-d{departments}-r{results}"
    ));
    // Marks a data set written in full (a hidden file: not a department).
    let complete = city.join(".complete");
    if !complete.exists() {
        for d in 0..departments {
            department(&city.join(format!("dept-{d:03}")), d, results)
                .expect("generate a department");
        }
        std::fs::write(&complete, "").expect("mark the data set complete");
    }
    let binary = env!("CARGO_BIN_EXE_spotlint");
    let data = city.to_str().expect("utf-8 path");
    let mut best = f64::INFINITY;
    let mut exit = None;
    for _ in 0..runs {
        let started = Instant::now();
        let out = Command::new(binary)
            .args(["report", data, "--format", "json", "--as-of", "2024-12-31"])
            .output()
            .expect("spotlint runs");
        best = best.min(started.elapsed().as_secs_f64());
        exit = out.status.code();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(
            json["totals"]["departments"].as_u64(),
            Some(departments),
            "every department has its row"
        );
    }
    println!(
        "{departments} departments × {results} results ({}): best of {runs}: {best:.2} s (exit {})",
        city.display(),
        exit.map_or("?".to_owned(), |c| c.to_string())
    );
    println!(
        "machine: {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
}
