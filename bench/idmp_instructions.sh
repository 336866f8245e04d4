#!/bin/bash
# bench/idmp_instructions.sh BINARY PORT [PIPELINE]: what XADD ... IDMP costs
# in user-space instructions per call of the whole server (parsing, dispatch,
# the reply, the event loop), counted by valgrind's callgrind, so the figure
# does not depend on how busy the machine is. Three commands, each in a
# fresh server, 50 clients, -P PIPELINE (16 by default):
#   XADD s * f v                         a plain XADD
#   XADD s * f v x <12 random digits>    the same bytes as IDMP's, as a field
#   XADD s IDMP p <12 random digits> * f v
#                                        a new pair every call: each records
#                                        one and evicts the producer's oldest
# Each is run for 50,000 and for 150,000 calls; the difference divided by
# 100,000 is one call's cost (start-up and shutdown cancel out).
set -f
bin=$1; port=$2; pipeline=${3:-16}
count() {
    local n=$1; shift
    local dir; dir=$(mktemp -d /tmp/idmp-instr.XXXX)
    valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out \
        $bin --port $port --save "" --appendonly no --hz 1 --dir $dir >$dir/log 2>&1 &
    local pid=$!
    for i in $(seq 1 100); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.2; done
    redis-benchmark -p $port -c 50 -P $pipeline -n $n -r 100000000 -q "$@" >/dev/null 2>&1
    redis-cli -p $port shutdown nosave >/dev/null 2>&1
    wait $pid 2>/dev/null
    grep "^summary:" "$dir/cg.out" | awk '{print $2}'
    rm -rf $dir
}
per_call() {
    local a b
    a=$(count 50000 "$@"); b=$(count 150000 "$@")
    echo $(( (b - a) / 100000 ))
}
plain=$(per_call XADD s '*' f v)
wide=$(per_call XADD s '*' f v x __rand_int__)
idmp=$(per_call XADD s IDMP p __rand_int__ '*' f v)
echo "pipeline=$pipeline plain=$plain same_bytes=$wide idmp=$idmp" \
     "idmp_vs_same_bytes=+$(( idmp - wide )) ($(( (idmp - wide) * 1000 / wide ))/1000)" \
     "idmp_vs_plain=+$(( idmp - plain )) ($(( (idmp - plain) * 1000 / plain ))/1000)"
