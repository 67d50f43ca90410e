#!/bin/sh
# The DuckDB peer and spotlint side by side on one generated results table (CRLF line
# ends, some quoted cells with commas and line breaks), alternating, best of N.
#
#   benches/peers.sh [--records N] [--objects N] [--runs N] [scale bench shape options]
#
# Installs the peer into a local venv (target/peers-venv, `pip install duckdb`) on first
# use. PEERS points at the folder holding duckdb_four_rules.py (default ../shared/peers).
set -eu
cd "$(dirname "$0")/.."
records=1000000 objects=100000 runs=5 shape=""
while [ $# -gt 0 ]; do
    case "$1" in
        --records) records=$2; shift 2 ;;
        --objects) objects=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) shape="$shape $1"; shift ;;
    esac
done
[ -n "$shape" ] || shape="--eol crlf --quote some"
peers=${PEERS:-../shared/peers}
venv=target/peers-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet duckdb
fi
cargo build --release --quiet
# shellcheck disable=SC2086 # the shape is a list of options
data=$(cargo bench --quiet --bench scale -- --records "$records" --objects "$objects" \
    --people 5000 $shape --generate-only | tail -n 1)
echo "data: $records records, $objects objects, shape:$shape"
echo "machine: $(nproc) cores, $("$venv/bin/python" -c 'import duckdb; print("duckdb", duckdb.__version__)')"
exec "$venv/bin/python" benches/peers.py "$data" "$peers/duckdb_four_rules.py" \
    target/release/spotlint --runs "$runs"
