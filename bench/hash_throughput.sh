#!/bin/bash
# bench/hash_throughput.sh NAME BINARY PORT: HSET then HGET throughput of one
# server (redis-benchmark -P 32, 1,000,000 requests over 100,000 fields of one
# hash) and its CPU per request from /proc/<pid>/stat (utime + stime).
# Alternate the servers A B B A and keep each side's best:
#   for s in "runnel build/runnel-server" "redis /usr/bin/redis-server" \
#            "redis /usr/bin/redis-server" "runnel build/runnel-server"; do bench/hash_throughput.sh $s 17650; done
name=$1; bin=$2; port=$3
dir=$(mktemp -d /tmp/hash-throughput-$name.XXXX)
$bin --port $port --save "" --appendonly no --dir $dir >$dir/log 2>&1 &
pid=$!
for i in $(seq 1 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
rate() { grep -o '[0-9.]* requests per second' | head -1 | cut -d' ' -f1; }
c0=$(cpu)
hset=$(redis-benchmark -p $port -P 32 -n 1000000 -r 100000 -q -t hset 2>/dev/null | rate)
c1=$(cpu)
hget=$(redis-benchmark -p $port -P 32 -n 1000000 -r 100000 -q HGET myhash element:__rand_int__ 2>/dev/null | rate)
c2=$(cpu)
echo "$name hset=$hset cpu_us_per_req=$(echo "($c1-$c0)*1000000/$tck/1000000" | bc -l | cut -c1-5)" \
     "hget=$hget cpu_us_per_req=$(echo "($c2-$c1)*1000000/$tck/1000000" | bc -l | cut -c1-5)"
kill $pid; wait $pid 2>/dev/null
rm -rf $dir
