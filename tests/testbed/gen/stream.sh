#!/usr/bin/env bash
# A smart TV watching video: HLS/DASH-like segment fetches over one HTTPS
# connection per episode (curl --rate spaces the requests), then a pause.
# Bounded: stops after DURATION seconds or MAX_EPISODES episodes.
#
# Environment (set by testbed.sh): SEED DURATION MAX_EPISODES CACERT
#   HOST            the CDN name (resolved through the testbed's DNS)
#   SEGS_MIN SEGS_SPAN   segments per episode
#   SEG_EVERY       seconds between two segment requests
#   NSEG            number of distinct segment files on the server
set -u
RANDOM=$SEED
end=$((SECONDS + DURATION))
ep=0
while (( SECONDS < end && ep < MAX_EPISODES )); do
    ep=$((ep + 1))
    n=$((SEGS_MIN + RANDOM % SEGS_SPAN))
    left=$((end - SECONDS))
    (( n * SEG_EVERY > left )) && n=$((left / SEG_EVERY))
    (( n < 1 )) && break
    args=(-o /dev/null "https://$HOST/video/manifest.json")
    first=$((RANDOM % NSEG))
    for ((i = 0; i < n; i++)); do args+=(-o /dev/null "https://$HOST/video/seg$(( (first + i) % NSEG )).ts"); done
    curl -s --cacert "$CACERT" --connect-timeout 5 --max-time $((n * SEG_EVERY + 20)) \
        --rate "$((3600 / SEG_EVERY))/h" "${args[@]}"
    pause=$((5 + RANDOM % 20))
    (( SECONDS + pause < end )) && sleep "$pause"
done
echo "stream: $ep episodes" >&2
