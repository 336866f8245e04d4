#!/bin/bash
# bench/instructions_per_request.sh BINARY PORT: instructions the server runs
# per HSET and per HGET (redis-benchmark -P 32 over 100,000 fields of one
# hash), counted by valgrind's callgrind, so the figure does not depend on how
# busy the machine is. Three runs: 100k HSET, 200k HSET, 100k HSET + 100k
# HGET; the differences divided by 100,000 give each command's cost.
# The servers run with hz 1 so that the cron adds little to the counts.
bin=$1; port=$2
run() {
    local dir; dir=$(mktemp -d /tmp/instr-per-req.XXXX)
    valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out $bin --port $port --save "" --appendonly no --hz 1 \
        --dir $dir >$dir/log 2>&1 &
    local pid=$!
    for i in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.2; done
    [ $1 -gt 0 ] && redis-benchmark -p $port -P 32 -n $1 -r 100000 -q -t hset >/dev/null 2>&1
    [ $2 -gt 0 ] && redis-benchmark -p $port -P 32 -n $2 -r 100000 -q HGET myhash element:__rand_int__ >/dev/null 2>&1
    redis-cli -p $port shutdown nosave >/dev/null 2>&1
    wait $pid 2>/dev/null
    grep "^summary:" $dir/cg.out* | awk '{print $2}'
    rm -rf $dir
}
a=$(run 100000 0); b=$(run 200000 0); c=$(run 100000 100000)
echo "hset_instructions_per_request=$(( (b - a) / 100000 )) hget_instructions_per_request=$(( (c - a) / 100000 ))"
