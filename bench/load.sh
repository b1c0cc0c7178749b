#!/usr/bin/env bash
# Loopback load run: the example app's /secure (a valid key, cache on) against
# the same server's /public, with wrk. Prints requests/s, p99 latency, their
# ratio, the server's peak RSS, and what its /metrics (ginkeyprom, which the
# example registers) counted.
#
#   bench/load.sh                # empty database, 10 s per run
#   bench/load.sh -k 1000000     # a million keys in the database first
#   bench/load.sh -d 5s -c 64 -r 3
#   bench/load.sh -l             # the key rate-limited (1,000,000/s, never reached)
#   bench/load.sh -R redis://127.0.0.1:6379/0   # ... and its limit counted in Redis
#
# Everything stays on 127.0.0.1 and in a temporary directory, removed at exit.
set -euo pipefail

keys=0 duration=10s conns=32 threads=2 rounds=2 port=18080 limited=0 redis_url=
while getopts "k:d:c:t:r:p:lR:h" opt; do
	case $opt in
	l) limited=1 ;;
	R) limited=1 redis_url=$OPTARG ;;
	k) keys=$OPTARG ;;
	d) duration=$OPTARG ;;
	c) conns=$OPTARG ;;
	t) threads=$OPTARG ;;
	r) rounds=$OPTARG ;;
	p) port=$OPTARG ;;
	*) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

base=http://127.0.0.1:$port
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
db=$tmp/keys.db

echo "building the example"
(cd "$root" && go build -o "$tmp/example" ./example)

if ((keys > 0)); then
	echo "creating $keys keys"
	if ! (cd "$root" && GINKEY_POPULATE_DB=$db GINKEY_POPULATE_N=$keys \
		go test -count=1 -timeout 30m -run '^TestPopulateForLoadRun$' -v . >"$tmp/populate.log" 2>&1); then
		cat "$tmp/populate.log" >&2
		echo "creating the keys failed" >&2
		exit 1
	fi
	grep -E 'created' "$tmp/populate.log"
fi

GIN_MODE=release HOST=127.0.0.1 PORT=$port GINKEY_DB=$db GINKEY_SECRET=$secret GINKEY_REDIS=$redis_url \
	"$tmp/example" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -fso /dev/null "$base/public" && break
	kill -0 "$pid" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
	sleep 0.1
done

spec='{"name":"load run","never_expires":true}'
if ((limited)); then
	spec='{"name":"load run","never_expires":true,"rate_limit":{"requests":1000000,"per":"1s"}}'
fi
key=$(curl -fsS -X POST -H "X-Admin-Secret: $secret" -H 'Content-Type: application/json' \
	-d "$spec" "$base/auth/keys" |
	sed -n 's/.*"key":"\([A-Za-z0-9_]*\)".*/\1/p')
[[ -n $key ]] || { echo "could not create a key" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$base/secure")
[[ $code == 200 ]] || { echo "/secure answered $code with the new key" >&2; exit 1; }
if ((limited)); then
	hdr=$(curl -fsS -o /dev/null -D - -H "X-API-Key: $key" "$base/secure" | tr -d '\r' | sed -n 's/^ratelimit-limit: //Ip')
	[[ $hdr == 1000000 ]] || { echo "/secure sent no RateLimit-Limit for the limited key (Redis down?)" >&2; exit 1; }
	echo "the key is rate-limited${redis_url:+, counted in Redis}"
fi
target=0.9
[[ -z $redis_url ]] || target=0.5

# run PATH [HEADER]: one bounded wrk run; prints "requests/s p99".
run() {
	local out
	if [[ $# -gt 1 ]]; then
		out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -H "$2" "$base$1")
	else
		out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$base$1")
	fi
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "$1: non-2xx responses" >&2
		exit 1
	fi
	echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")"
}

echo "wrk: $threads threads, $conns connections, $duration per run, $rounds rounds (public, secure alternating)"
pub_sum=0 sec_sum=0
for r in $(seq "$rounds"); do
	read -r pub pub99 < <(run /public)
	read -r sec sec99 < <(run /secure "X-API-Key: $key")
	printf 'round %d  /public %10.0f req/s  p99 %-8s  /secure %10.0f req/s  p99 %-8s  ratio %.3f\n' \
		"$r" "$pub" "$pub99" "$sec" "$sec99" "$(echo "$sec / $pub" | bc -l)"
	pub_sum=$(echo "$pub_sum + $pub" | bc -l)
	sec_sum=$(echo "$sec_sum + $sec" | bc -l)
done
printf 'mean    /public %10.0f req/s  /secure %10.0f req/s  ratio %.3f (target >= %s)\n' \
	"$(echo "$pub_sum / $rounds" | bc -l)" "$(echo "$sec_sum / $rounds" | bc -l)" "$(echo "$sec_sum / $pub_sum" | bc -l)" "$target"

rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
total=$(curl -fsS -H "X-Admin-Secret: $secret" "$base/auth/keys?limit=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
[[ $total == $((keys + 1)) ]] || { echo "the database holds $total keys, want $((keys + 1))" >&2; exit 1; }
printf 'server peak RSS %.1f MB with %s keys in the database (target < 100 MB)\n' "$(echo "$rss / 1024" | bc -l)" "$total"
echo "the server's /metrics:"
curl -fsS "$base/metrics" | grep -E '^ginkey_(verifications_total\{outcome="valid"\}|cache_lookups_total|cache_keys|usage_flush)'
