#!/usr/bin/env bash
# Copies the fixtures into the fuzz targets' seed corpora (fuzz/corpus/<target>/seed-*).
# Files over 12 KB are left out: small seeds mutate faster, and the committed corpus
# stays small. Run from anywhere; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
max=12288

seed() { # target, file, [prefix byte as octal escape]
  local target=$1 file=$2 name
  [ "$(stat -c %s "$file")" -le "$max" ] || return 0
  name="seed-$(echo "$file" | tr '/' '-')"
  mkdir -p "fuzz/corpus/$target"
  if [ $# -ge 3 ]; then
    { printf "$3"; cat "$file"; } > "fuzz/corpus/$target/$name"
  else
    cp "$file" "fuzz/corpus/$target/$name"
  fi
}

# Spread the YAML seeds: at most 3 per fixture folder, JSON among them.
find fixtures policies/tests -name '*.yaml' -o -name '*.json' | sort |
  awk -F/ '{ d = $0; sub("/[^/]*$", "", d); if (n[d]++ < 2) print }' |
  while read -r f; do seed yaml "$f"; done
find fixtures -name '*.csv' | sort | while read -r f; do seed csv "$f"; done
find fixtures -name '*.xlsx' | sort | while read -r f; do seed xlsx "$f"; done
# Policies: the shipped ones are too large as seeds; the policy tests and the calendar
# are small, and a policy that extends the shipped chain reaches the rest.
for f in policies/calendar/cn.yaml policies/tables/vocabulary.yaml; do seed policy "$f"; done
mkdir -p fuzz/corpus/policy
printf 'kind: Policy\nid: fuzz\nextends: wuhan-2024.yaml\ntitle: {zh: 模糊, en: fuzz}\n' \
  > fuzz/corpus/policy/seed-extends
printf 'kind: Policy\nid: fuzz\nextends: fuzz-parent.yaml\ncalendar: fuzz-calendar.yaml\ntitle: {zh: 子, en: child}\nrules:\n  - id: r\n    title: {zh: 规则, en: rule}\n    clause: 一\n    severity: error\n    on: [Results]\n    each: record\n    script: fuzz.rhai\n    params: {n: 1}\n    message: {zh: "{n} {x}", en: "{n} {x}"}\n\0kind: Policy\nid: parent\ntitle: {zh: 父, en: parent}\nrules: []\n\0fn check(r, ctx) { if r.object == () { ctx.report(r, "object", #{ x: 1 }); } }\n\0kind: Calendar\nyears: [2024]\nholidays: [2024-10-01]\nworkdays: [2024-10-12]\n' \
  > fuzz/corpus/policy/seed-parts
# Scripts: each shipped rule script, called as a record, document and submission rule.
i=0
for f in rules/*.rhai; do
  seed script "$f" "\\$(printf '%03o' $((i % 5)))"
  i=$((i + 1))
done
# Reports: lines of tab-separated values (rule, message zh/en, help, title, clause…).
mkdir -p fuzz/corpus/reports
printf 'results 2024/报告 #1%%.yaml\nresult-entry-deadline\t检查于 2024-04-30 结束\tended 2024-04-30\t请录入\tenter it\t录入超期\tlate\t三\t原文\t武双随机联办〔2024〕1号\twuhan-2024\tJA-2024-001,91420102MA4K00001Q\t0.95\t19\t20\t1.0\t按时率\ton time\n\tx\x1b[31mred\x1b[0m\t\x0bvt\t\n\xe2\x80\xaeevil\t<script>&"\x27</script>\n' \
  > fuzz/corpus/reports/seed-findings
for f in fixtures/demo/results-JA-2024-001.yaml $(find fixtures/checks -name "*.csv" | head -3); do
  seed reports "$f"
done
du -sh fuzz/corpus
