#!/bin/bash
# measure.sh <binary> <port>: RSS after start, after 1 scrape, after 2000 scrapes; scrape time; payload size.
bin=$1; port=$2
$bin $port $MODE > /dev/null 2>&1 &
pid=$!
for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$port/metrics && break; sleep 0.1; done
sleep 1
rss0=$(grep VmRSS /proc/$pid/status | awk '{print $2}')
size=$(curl -s http://127.0.0.1:$port/metrics | wc -c)
lines=$(curl -s http://127.0.0.1:$port/metrics | grep -vc '^#')
start=$(date +%s.%N)
curl -s -o /dev/null "http://127.0.0.1:$port/metrics?[1-2000]"
end=$(date +%s.%N)
sleep 1
rss1=$(grep VmRSS /proc/$pid/status | awk '{print $2}')
threads=$(grep Threads /proc/$pid/status | awk '{print $2}')
echo "$(basename $bin): size=$(stat -c %s $bin) rss_start_kib=$rss0 rss_after_2000_kib=$rss1 threads=$threads payload_bytes=$size series=$lines ms_per_scrape=$(echo "($end-$start)*1000/2000" | bc -l | cut -c1-6)"
kill $pid; wait $pid 2>/dev/null
