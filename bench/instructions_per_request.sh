#!/bin/bash
# bench/instructions_per_request.sh BINARY PORT: instructions the server runs
# inside dispatch (the command itself: lookup, checks, the type's work, the
# reply, the per-command bookkeeping) per HSET and per HGET, counted by
# valgrind's callgrind (--toggle-collect=dispatch_call), so the figure depends
# neither on how busy the machine is nor on how many commands one read
# brought. Two runs at hz 1: 100k HSET (redis-benchmark -P 32 over 100,000
# fields of one hash), then 100k HSET + 100k HGET; the differences divided by
# 100,000 give each command's cost.
bin=$1; port=$2
run() {
    local dir; dir=$(mktemp -d /tmp/instr-per-req.XXXX)
    valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out --collect-atstart=no --toggle-collect=dispatch_call \
        $bin --port $port --save "" --appendonly no --hz 1 --dir $dir >$dir/log 2>&1 &
    local pid=$!
    for i in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.2; done
    redis-benchmark -p $port -P 32 -n 100000 -r 100000 -q -t hset >/dev/null 2>&1
    [ "$1" = hget ] && redis-benchmark -p $port -P 32 -n 100000 -r 100000 -q HGET myhash element:__rand_int__ \
        >/dev/null 2>&1
    redis-cli -p $port shutdown nosave >/dev/null 2>&1
    wait $pid 2>/dev/null
    grep "^summary:" $dir/cg.out* | awk '{print $2}'
    rm -rf $dir
}
a=$(run hset); b=$(run hget)
echo "hset_instructions_per_request=$(( a / 100000 )) hget_instructions_per_request=$(( (b - a) / 100000 ))"
