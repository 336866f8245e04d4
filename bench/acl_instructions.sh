#!/usr/bin/env bash
# The cost of ACL checks in user-space instructions per request, which a
# loaded machine does not disturb: each server runs under callgrind while
# redis-benchmark sends GET or SET (-P 32, 50 clients) as the default user and
# as a user with 20 key patterns (~k1:* ... ~k19:* ~key:*); the count per
# request is the difference between a 600,000- and a 200,000-request run, so
# start-up, connections and AUTH cancel out. Kernel time is not counted.
# Usage: bench/acl_instructions.sh [runnel-server] [redis-server]
set -euo pipefail
cd "$(dirname "$0")/.."
servers=("${1:-build/runnel-server}" "${2:-/usr/bin/redis-server}")
work=$(mktemp -d /tmp/acl-instructions-XXXXXX)
trap 'rm -rf "$work"' EXIT

patterns=()
for i in $(seq 1 19); do patterns+=("~k$i:*"); done
patterns+=("~key:*")

# instructions <server> <default|acl> <get|set> <requests>
instructions() {
  local srv=$1 who=$2 test=$3 n=$4 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$srv" --port "$port" --save "" --dir "$work" \
    > "$work/server.log" 2>&1 &
  local vpid=$!
  for _ in $(seq 1 100); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.2; done
  redis-cli -p "$port" ACL SETUSER bench on '>benchpw' '&*' '+@all' "${patterns[@]}" > /dev/null
  local auth=()
  [ "$who" = acl ] && auth=(--user bench -a benchpw)
  redis-benchmark -p "$port" -t "$test" -n "$n" -c 50 -P 32 "${auth[@]}" -q > /dev/null 2>&1
  kill -TERM "$vpid"
  wait "$vpid" || true
  grep -h "refs" "$work/server.log" | tail -1 | awk '{print $4}' | tr -d ,
}

echo "| server | command | default user | 20-pattern user | difference |"
echo "|---|---|---:|---:|---:|"
for srv in "${servers[@]}"; do
  for test in get set; do
    declare -A per
    for who in default acl; do
      a=$(instructions "$srv" "$who" "$test" 200000)
      b=$(instructions "$srv" "$who" "$test" 600000)
      per[$who]=$(( (b - a) / 400000 ))
    done
    d=${per[default]} u=${per[acl]}
    echo "| $(basename "$srv") | ${test^^} -P 32 | $d | $u | +$(( u - d )) (+$(( (u - d) * 1000 / d / 10 )).$(( (u - d) * 1000 / d % 10 ))%) |"
  done
done
