//! Scale benchmark: generates a deterministic province-style data set (sizes as
//! arguments, about 2% violations of each per-record rule), then times the release
//! binary on it: a parse-only pass, the full policy, four hot rules only, and the full
//! policy with one more rule as policy staff would add it — declared, and the same rule
//! as a Rhai script — to show what a rule of one's own costs per record.
//!
//! cargo bench --bench scale -- --records 1000000 --objects 100000 --people 5000
//! cargo bench --bench scale -- --threads 1      # every run on one core
//! cargo bench --bench scale -- --eol crlf --quote some --encoding gbk --extra-columns 1 --tasks 5
//! cargo bench --bench scale -- --shapes          # parse-only and four rules per shape
//! cargo bench --bench scale -- --eol crlf --quote some --generate-only   # data and four-rules.yaml
//!
//! Shapes of the results table: `--eol lf|crlf`, `--quote none|all|some` (some: about
//! one outcome in twenty holds a comma, a line break or a quote), `--encoding
//! utf8|utf8-bom|gbk`, `--extra-columns N` (`crime_suspected`, then columns without a
//! header), `--tasks N` (default 40), `--reversed` (columns in the opposite order).
//! Every shape but `--tasks` holds the same records, so gives the same findings.
//!
//! Figures are printed as a Markdown table (wall time of the fastest run, records/s, the
//! median peak memory of the runs with their range, ratio to the parse-only pass, cost
//! per record beyond the full policy) for the README, then each table of the data set
//! read alone on one core (parse-only, MB/s).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod gen;

use gen::{arg, uscc, Rng};

const DEPT: &str = "湖北省某市市场监督管理局";
const TASKS: u64 = 40;

fn generate(
    dir: &Path,
    records: u64,
    objects: u64,
    people: u64,
    shape: &Shape,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(2024);
    let mut plan = format!("kind: Plan\ndepartment: {DEPT}\nlevel: city\nyear: 2024\nscope: department\nindustry_credit_mechanism: false\npublication: {{website_url: https://example.gov.cn/plan, published_on: 2024-03-20, platform_entered_on: 2024-03-21}}\ntasks:\n");
    for t in 0..shape.tasks {
        writeln!(plan, "  - {{id: T{t:03}, name: 任务{t}, joint: {}, lead: {DEPT}, partners: [某市商务局], items: [I{t:03}], objects: {{industry: 行业{}}}, level: city, credit_risk: {{applied: true, classification: general, ratios: {{A: 0.01, B: 0.02, C: 0.05, D: 0.10}}}}, start: 2024-02-01, end: 2024-12-20}}", t % 2 == 0, t % 20).ok();
    }
    std::fs::write(dir.join("plan.yaml"), plan)?;
    let mut items = format!("kind: ItemList\ndepartment: {DEPT}\nupdated_on: 2024-02-01\npublication: {{website_url: https://example.gov.cn/items, published_on: 2024-02-05}}\nfiling: {{office: 联席会议办公室, filed_on: 2024-02-08}}\nitems:\n");
    for t in 0..shape.tasks {
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
    write_results(dir, records, objects, people, shape, &mut rng)
}

/// How the results table is written: the shapes real exports come in.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    /// Line breaks `\r\n` (Excel, most exports) rather than `\n`.
    crlf: bool,
    quote: Quote,
    encoding: Encoding,
    /// Columns beyond the usual ones: `crime_suspected` first, then columns without a
    /// header and with empty cells, as spreadsheets leave them.
    extra: u64,
    tasks: u64,
    /// Columns in the opposite order.
    reversed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Quote {
    None,
    /// Every cell in quotes.
    All,
    /// Only cells that need quotes: about 5% of outcomes hold a comma, a line break or a
    /// quote.
    Some,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Gbk,
}

impl Shape {
    fn plain(tasks: u64) -> Shape {
        Shape {
            crlf: false,
            quote: Quote::None,
            encoding: Encoding::Utf8,
            extra: 0,
            tasks,
            reversed: false,
        }
    }

    fn from_args(args: &[String]) -> Shape {
        let word = |name: &str, default: &'static str| -> String {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
                .unwrap_or_else(|| default.to_owned())
        };
        let shape = Shape {
            crlf: match word("--eol", "lf").as_str() {
                "lf" => false,
                "crlf" => true,
                other => panic!("--eol lf|crlf, not {other}"),
            },
            quote: match word("--quote", "none").as_str() {
                "none" => Quote::None,
                "all" => Quote::All,
                "some" => Quote::Some,
                other => panic!("--quote none|all|some, not {other}"),
            },
            encoding: match word("--encoding", "utf8").as_str() {
                "utf8" => Encoding::Utf8,
                "utf8-bom" => Encoding::Utf8Bom,
                "gbk" => Encoding::Gbk,
                other => panic!("--encoding utf8|utf8-bom|gbk, not {other}"),
            },
            extra: arg(args, "--extra-columns", 0),
            tasks: arg(args, "--tasks", TASKS).max(1),
            reversed: args.iter().any(|a| a == "--reversed"),
        };
        shape
    }

    /// What the shape is, for the table.
    fn label(&self) -> String {
        let mut parts = vec![
            if self.crlf { "CRLF" } else { "LF" }.to_owned(),
            match self.quote {
                Quote::None => "unquoted",
                Quote::All => "all cells quoted",
                Quote::Some => "some cells quoted (commas, line breaks, quotes)",
            }
            .to_owned(),
            match self.encoding {
                Encoding::Utf8 => "UTF-8",
                Encoding::Utf8Bom => "UTF-8 with BOM",
                Encoding::Gbk => "GBK",
            }
            .to_owned(),
        ];
        if self.extra > 0 {
            parts.push(format!("{} extra columns", self.extra));
        }
        parts.push(format!("{} tasks", self.tasks));
        if self.reversed {
            parts.push("columns reversed".to_owned());
        }
        parts.join(", ")
    }

    /// The data directory's suffix: none for the plain shape, whose data sets the
    /// README's figures were measured on.
    fn suffix(&self) -> String {
        let mut s = String::new();
        if self.crlf {
            s.push_str("-crlf");
        }
        match self.quote {
            Quote::None => {}
            Quote::All => s.push_str("-qall"),
            Quote::Some => s.push_str("-qsome"),
        }
        match self.encoding {
            Encoding::Utf8 => {}
            Encoding::Utf8Bom => s.push_str("-bom"),
            Encoding::Gbk => s.push_str("-gbk"),
        }
        if self.extra > 0 {
            write!(s, "-x{}", self.extra).ok();
        }
        if self.tasks != TASKS {
            write!(s, "-t{}", self.tasks).ok();
        }
        if self.reversed {
            s.push_str("-rev");
        }
        s
    }
}

/// Results come as one CSV table, as provincial platform exports do, written row by
/// row (ten million rows are about 1.8 GB).
fn write_results(
    dir: &Path,
    records: u64,
    objects: u64,
    people: u64,
    shape: &Shape,
    rng: &mut Rng,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let file = std::fs::File::create(dir.join("results.csv"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    // The shape's own choices come from a source of their own, so that every shape
    // holds the same records and the same findings.
    let mut shape_rng = Rng(7);
    let mut header: Vec<&str> = "department,year,task,object,entity_type,inspectors,finished_on,outcome,problem,entered_on,publication_channel,published_on,follow_up_action,follow_up_responsible,follow_up_done_on".split(',').collect();
    for x in 0..shape.extra {
        header.push(if x == 0 { "crime_suspected" } else { "" });
    }
    if shape.encoding == Encoding::Utf8Bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut line = String::new();
    let mut write_row = |out: &mut std::io::BufWriter<std::fs::File>,
                         cells: &mut Vec<String>|
     -> std::io::Result<()> {
        if shape.reversed {
            cells.reverse();
        }
        line.clear();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let needs = cell.contains([',', '"', '\n', '\r']);
            if shape.quote == Quote::All || needs {
                line.push('"');
                line.push_str(&cell.replace('"', "\"\""));
                line.push('"');
            } else {
                line.push_str(cell);
            }
        }
        line.push_str(if shape.crlf { "\r\n" } else { "\n" });
        match shape.encoding {
            Encoding::Gbk => {
                let (bytes, _, unmappable) = encoding_rs::GBK.encode(&line);
                assert!(!unmappable, "GBK has every character written");
                out.write_all(&bytes)
            }
            _ => out.write_all(line.as_bytes()),
        }
    };
    let mut cells: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    write_row(&mut out, &mut cells)?;
    for r in 0..records {
        // Tasks in runs of a thousand records, as platforms export them task by task.
        let task = (r / 1000) % shape.tasks;
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
        let (channel, published) = if rng.chance(2) {
            ("", "")
        } else if rng.chance(2) {
            ("website", "2024-06-21")
        } else {
            ("gsxt", "2024-06-21")
        };
        let problem = rng.chance(10);
        let follow_up = if problem && !rng.chance(20) {
            ["责令整改", "某市市场监督管理局", "2024-07-01"]
        } else {
            ["", "", ""]
        };
        let outcome = match shape.quote {
            Quote::None => "未发现问题",
            _ => match shape_rng.below(60) {
                0 => "未发现问题,已当场告知",
                1 => "未发现问题\n另行复查",
                2 => "未发现问题，已告知\"整改\"",
                _ => "未发现问题",
            },
        };
        cells.clear();
        cells.extend(
            [
                DEPT,
                "2024",
                &format!("T{task:03}"),
                &object,
                "enterprise",
                &inspectors,
                finished,
                outcome,
                if problem { "true" } else { "false" },
                entered,
                channel,
                published,
                follow_up[0],
                follow_up[1],
                follow_up[2],
            ]
            .map(str::to_owned),
        );
        for x in 0..shape.extra {
            cells.push(if x == 0 { "false" } else { "" }.to_owned());
        }
        write_row(&mut out, &mut cells)?;
    }
    out.flush()
}

#[derive(Clone)]
struct Measured {
    seconds: f64,
    peak_kib: u64,
    /// The lowest and highest peak of the runs a median `peak_kib` is of.
    peak_range_kib: (u64, u64),
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
        peak_range_kib: Default::default(),
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
    let bench = Bench {
        records,
        objects,
        people,
        tries,
        threads,
        root: root.clone(),
        binary: env!("CARGO_BIN_EXE_spotlint"),
    };
    if args.iter().any(|a| a == "--shapes") {
        bench.shapes(
            Shape::from_args(&args).tasks,
            args.iter().any(|a| a == "--keep"),
        );
        return;
    }
    let shape = Shape::from_args(&args);
    let dir = bench.data(&shape);
    let wuhan = root.join("policies/wuhan-2024.yaml");
    let four = bench.four_rules(&dir);
    if args.iter().any(|a| a == "--generate-only") {
        println!("{}", dir.display());
        return;
    }
    let (declared, scripted) = extra_rule_policies(&dir, &wuhan);

    let data = dir.to_str().expect("utf-8 path");
    let common = common_args(data);
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
    println!("shape: {}", shape.label());
    bench.print_machine();
    println!(
        "| run | wall (s) | records/s | peak memory (MiB): median (range) | × parse-only | µs/record beyond full | diagnostics |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut parse_only = None;
    let mut full: Option<&Measured> = None;
    let runs: Vec<(&str, Vec<&str>)> = runs.into_iter().collect();
    let rounds = bench.alternating(&runs);
    let bests = best_of_rounds(rounds.iter().map(|r| r.to_vec()).collect());
    for ((name, _), best) in runs.iter().zip(&bests) {
        let base = *parse_only.get_or_insert(best.seconds);
        let (beyond, more_memory) = match full {
            Some(full) if name.starts_with("full +") => (
                format!(
                    "{:.2}",
                    (best.seconds - full.seconds) * 1e6 / records.max(1) as f64
                ),
                format!(
                    ", {:+.0}%",
                    (best.peak_kib as f64 / full.peak_kib.max(1) as f64 - 1.0) * 100.0
                ),
            ),
            _ => Default::default(),
        };
        if name.starts_with("full policy") {
            full = Some(best);
        }
        let mib = |kib: u64| kib as f64 / 1024.0;
        println!(
            "| {name} | {:.2} | {:.0} | {:.0} ({:.0}–{:.0}{more_memory}) | {:.2} | {beyond} | {} |",
            best.seconds,
            records as f64 / best.seconds,
            mib(best.peak_kib),
            mib(best.peak_range_kib.0),
            mib(best.peak_range_kib.1),
            best.seconds / base,
            best.diagnostics
        );
    }
    // The same comparisons made within each round: the figures the targets are judged
    // by on a machine whose speed drifts between rounds.
    println!();
    println!(
        "| within each round ({} rounds) | median | lowest | highest |",
        bench.tries
    );
    println!("|---|---|---|---|");
    let [parse, full, four, declared, scripted] = &rounds[..] else {
        unreachable!("five runs")
    };
    for (name, (median, low, high)) in [
        (
            "full policy, × parse-only",
            paired(full, parse, |a, b| a / b),
        ),
        (
            "four rules, × parse-only",
            paired(four, parse, |a, b| a / b),
        ),
        (
            "full + one declared rule, s beyond full",
            paired(declared, full, |a, b| a - b),
        ),
        (
            "full + the same rule as a Rhai script, s beyond full",
            paired(scripted, full, |a, b| a - b),
        ),
    ] {
        println!("| {name} | {median:.2} | {low:.2} | {high:.2} |");
    }
    bench.per_table(&dir);
}

/// The arguments of every run: the data, JSON out, a fixed date, the figures on stderr.
fn common_args(data: &str) -> Vec<&str> {
    vec![
        "check",
        data,
        "--format",
        "json",
        "--as-of",
        "2024-12-31",
        "--stats",
    ]
}

struct Bench {
    records: u64,
    objects: u64,
    people: u64,
    tries: u64,
    threads: u64,
    root: PathBuf,
    binary: &'static str,
}

impl Bench {
    /// The data set of `shape` at the sizes asked for, generated when not there yet.
    fn data(&self, shape: &Shape) -> PathBuf {
        let dir = self.root.join(format!(
            "target/bench-data/v2-r{}-o{}-p{}{}",
            self.records,
            self.objects,
            self.people,
            shape.suffix()
        ));
        if !dir.join("plan.yaml").exists() {
            generate(&dir, self.records, self.objects, self.people, shape)
                .expect("generate the data set");
        }
        dir
    }

    /// The shipped policy with all but the four hot per-record rules disabled, written
    /// into `dir`.
    fn four_rules(&self, dir: &Path) -> PathBuf {
        let four = dir.join("four-rules.yaml");
        let wuhan = self.root.join("policies/wuhan-2024.yaml");
        // The shipped rules, as the binary lists them.
        let listed = Command::new(self.binary)
            .args(["rules", "--format", "json"])
            .output()
            .expect("spotlint rules runs");
        let listed: serde_json::Value =
            serde_json::from_slice(&listed.stdout).expect("rules as JSON");
        let disable: Vec<&str> = listed["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .filter_map(|r| r["id"].as_str())
            .filter(|id| !FOUR_RULES.contains(id))
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
        four
    }

    fn print_machine(&self) {
        println!(
            "machine: {} cores{}",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            if self.threads > 0 {
                format!(", runs on {} thread(s)", self.threads)
            } else {
                String::new()
            }
        );
        println!();
    }

    /// Each table of the data set read and validated alone, parse-only, on one core:
    /// what reading costs per byte, the results table read in place, the library as
    /// a document.
    fn per_table(&self, dir: &Path) {
        println!();
        println!("| table, read alone on one core (parse-only) | size (MB) | wall (s) | MB/s | peak memory (MiB) |");
        println!("|---|---|---|---|---|");
        let alone = self.root.join("target/bench-data/alone");
        for name in ["results.csv", "objects.csv"] {
            let _ = std::fs::remove_dir_all(&alone);
            std::fs::create_dir_all(&alone).expect("a folder for one table");
            let table = alone.join(name);
            std::fs::hard_link(dir.join(name), &table)
                .or_else(|_| std::fs::copy(dir.join(name), &table).map(|_| ()))
                .expect("the table in its folder");
            let bytes = std::fs::metadata(&table)
                .map(|m| m.len())
                .unwrap_or_default();
            let data = alone.to_str().expect("utf-8 path");
            let args = [&common_args(data)[..], &["--parse-only"]].concat();
            let best = (0..self.tries)
                .map(|_| measure(self.binary, &args, 1))
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
                .expect("at least one run");
            let mb = bytes as f64 / 1e6;
            println!(
                "| {name} | {mb:.1} | {:.3} | {:.0} | {:.0} |",
                best.seconds,
                mb / best.seconds,
                best.peak_kib as f64 / 1024.0
            );
        }
        let _ = std::fs::remove_dir_all(&alone);
    }

    /// Every run of each, one of each in turn (rounds): a machine busy for a while
    /// slows all of them, not the ones that ran then. By run, then by round.
    fn alternating(&self, runs: &[(&str, Vec<&str>)]) -> Vec<Vec<Measured>> {
        let mut all: Vec<Vec<Measured>> = runs.iter().map(|_| Vec::new()).collect();
        for _ in 0..self.tries {
            for ((_, args), mine) in runs.iter().zip(all.iter_mut()) {
                mine.push(measure(self.binary, args, self.threads));
            }
        }
        all
    }

    /// Best of several runs of each, taken in turn ([`Bench::alternating`]). The time
    /// is the fastest run's (a busy machine only adds to it); the peak memory is the
    /// median of all the runs' peaks, which vary by several percent from run to run of
    /// the same binary (how the threads' allocations interleave), so that the fastest
    /// run's is one draw of many.
    fn best_alternating(&self, runs: &[(&str, Vec<&str>)]) -> Vec<Measured> {
        best_of_rounds(self.alternating(runs))
    }

    /// Parse-only and four rules over each shape real exports come in, against the
    /// plain shape's (LF, unquoted, UTF-8) parse-only pass, run in the same rounds.
    /// Data sets other than the plain one are deleted after their runs unless `keep`.
    fn shapes(&self, tasks: u64, keep: bool) {
        let plain = Shape::plain(tasks);
        let variants = [
            plain.clone(),
            Shape {
                crlf: true,
                ..plain.clone()
            },
            Shape {
                quote: Quote::Some,
                ..plain.clone()
            },
            Shape {
                quote: Quote::All,
                ..plain.clone()
            },
            Shape {
                encoding: Encoding::Utf8Bom,
                ..plain.clone()
            },
            Shape {
                encoding: Encoding::Gbk,
                ..plain.clone()
            },
            Shape {
                extra: 3,
                ..plain.clone()
            },
            Shape {
                tasks: if tasks == 5 { 40 } else { 5 },
                ..plain.clone()
            },
            Shape {
                reversed: true,
                ..plain.clone()
            },
            Shape {
                crlf: true,
                quote: Quote::Some,
                encoding: Encoding::Gbk,
                extra: 1,
                ..plain.clone()
            },
        ];
        println!(
            "data: {} result records, {} objects, {} people",
            self.records, self.objects, self.people
        );
        self.print_machine();
        println!("| shape | parse only (s) | × plain parse-only | peak memory (MiB, median) | four rules (s) | × its parse-only | diagnostics |");
        println!("|---|---|---|---|---|---|---|");
        let plain_dir = self.data(&plain);
        let plain_data = plain_dir.to_str().expect("utf-8 path");
        let plain_parse = [&common_args(plain_data)[..], &["--parse-only"]].concat();
        for shape in variants {
            let dir = self.data(&shape);
            let four = self.four_rules(&dir);
            let data = dir.to_str().expect("utf-8 path");
            let common = common_args(data);
            let mut runs = vec![
                ("parse only", [&common[..], &["--parse-only"]].concat()),
                (
                    "four rules",
                    with_policy(&common, four.to_str().expect("utf-8 path")),
                ),
            ];
            // The plain shape's parse-only pass in the same rounds: on a shared
            // machine, a ratio between runs minutes apart measures the minutes.
            if shape != plain {
                runs.push(("plain parse only", plain_parse.clone()));
            }
            let measured = self.best_alternating(&runs);
            let (parse, checked) = (&measured[0], &measured[1]);
            let base = measured.get(2).unwrap_or(parse).seconds;
            println!(
                "| {} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {} |",
                shape.label(),
                parse.seconds,
                parse.seconds / base,
                parse.peak_kib as f64 / 1024.0,
                checked.seconds,
                checked.seconds / parse.seconds,
                checked.diagnostics
            );
            if shape != plain && !keep {
                std::fs::remove_dir_all(&dir).ok();
            }
        }
    }
}

/// The fastest run of each, with the median of all its runs' peaks.
fn best_of_rounds(all: Vec<Vec<Measured>>) -> Vec<Measured> {
    all.into_iter()
        .filter_map(|mut mine| {
            let mut peaks: Vec<u64> = mine.iter().map(|m| m.peak_kib).collect();
            peaks.sort_unstable();
            let fastest =
                (0..mine.len()).min_by(|&a, &b| mine[a].seconds.total_cmp(&mine[b].seconds))?;
            let mut best = mine.swap_remove(fastest);
            best.peak_kib = peaks[peaks.len() / 2];
            best.peak_range_kib = (peaks[0], peaks[peaks.len() - 1]);
            Some(best)
        })
        .collect()
}

/// The median and range of `f(a, b)` over the rounds, `a` and `b` of the same round:
/// two runs seconds apart see the same machine, so their ratio or difference varies far
/// less from round to round than either run's time does.
fn paired(a: &[Measured], b: &[Measured], f: impl Fn(f64, f64) -> f64) -> (f64, f64, f64) {
    let mut values: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| f(a.seconds, b.seconds))
        .collect();
    values.sort_by(f64::total_cmp);
    match (values.first(), values.last()) {
        (Some(&low), Some(&high)) => {
            let n = values.len();
            let median = if n % 2 == 1 {
                values[n / 2]
            } else {
                (values[n / 2 - 1] + values[n / 2]) / 2.0
            };
            (median, low, high)
        }
        _ => (f64::NAN, f64::NAN, f64::NAN),
    }
}

const FOUR_RULES: [&str; 4] = [
    "result-entry-deadline",
    "result-inspectors-count",
    "objects-uscc",
    "result-publication-channel",
];

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
