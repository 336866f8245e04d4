#!/bin/bash
# bench/list_counters.sh BINARY PORT: what the per-list push/pop counts
# (metrics-list-patterns, runnel_list_pushed_total) cost, in instructions
# the server runs inside dispatch per request (valgrind's callgrind,
# --toggle-collect=dispatch_call: independent of the machine's load), with
# the HTTP endpoint on and metrics-list-patterns
#   none:    ""            (no list counted)
#   nomatch: "queue:*"     (patterns set, the benchmark's lists not matching)
#   match:   "mylist q:*"  (every list of the benchmark counted)
# Workloads (WORKLOADS="queue create" by default), redis-benchmark -P 32:
#   queue:   100,000 LPUSH mylist then 100,000 RPOP mylist (one list, made once)
#   create:  100,000 LPUSH q:__rand_int__ -r 100000 (about 63,000 new lists)
bin=$1; port=$2
run() { # patterns workload
    local dir; dir=$(mktemp -d /tmp/list-counters.XXXX)
    valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out --collect-atstart=no --toggle-collect=dispatch_call \
        $bin --port $port --save "" --appendonly no --hz 1 --dir $dir --http-port $((port + 1)) \
        --metrics-list-patterns "$1" >$dir/log 2>&1 &
    local pid=$!
    for i in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.2; done
    if [ "$2" = queue ]; then
        redis-benchmark -p $port -P 32 -n 100000 -q LPUSH mylist x >/dev/null 2>&1
        redis-benchmark -p $port -P 32 -n 100000 -q RPOP mylist >/dev/null 2>&1
        n=200000
    else
        redis-benchmark -p $port -P 32 -n 100000 -r 100000 -q LPUSH q:__rand_int__ x >/dev/null 2>&1
        n=100000
    fi
    keys=$(redis-cli -p $port dbsize)
    redis-cli -p $port shutdown nosave >/dev/null 2>&1
    wait $pid 2>/dev/null
    total=$(grep "^summary:" $dir/cg.out* | awk '{print $2}')
    echo "patterns=\"$1\" workload=$2 lists=$keys instructions=$total instructions_per_request=$(echo "scale=1; $total / $n" | bc)"
    rm -rf $dir
}
# each configuration twice, in the order A B C C B A
for w in ${WORKLOADS:-queue create}; do
    for p in "" "queue:*" "mylist q:*" "mylist q:*" "queue:*" ""; do run "$p" $w; done
done
