#!/usr/bin/env bash
# Benign user behaviour for one testbed client, run inside its namespace.
# Bounded: stops after DURATION seconds or MAXITER actions, whichever first.
#
# Environment (set by testbed.sh):
#   NAME SEED DURATION MAXITER   identity, RNG seed, bounds
#   PACE_MIN_MS PACE_SPAN_MS      think time between actions
#   CACERT                        the testbed CA (self-signed at run time)
#   DNS                           resolver address (the gateway)
#   SSH_EVERY  (s, 0 = never)     ssh to the NAS with a key, run a command, scp
#   SSH_KEY NAS SCP_FILE SCP_DEST
#   FTP_EVERY  (s, 0 = never)     anonymous FTP download from the NAS
#   BULK_AT BULK_CMD              run BULK_CMD once, BULK_AT s after start
#   WEB_SHARE (default 76)        % of actions that browse; the others are DNS lookups
set -u

RANDOM=$SEED
WEB_SHARE=${WEB_SHARE:-76}
start=$SECONDS
end=$((SECONDS + DURATION))
next_ssh=$(( SSH_EVERY > 0 ? SECONDS + 5 + RANDOM % (SSH_EVERY / 2 + 1) : end + 1 ))
next_ftp=$(( FTP_EVERY > 0 ? SECONDS + 10 + RANDOM % (FTP_EVERY / 2 + 1) : end + 1 ))
bulk_done=0

news=(www.newsportal.test news.newsportal.test)
shops=(shop.example-store.test www.example-store.test)
cdn=cdn.static-media.test
other=(mail.webmail.test www.videosite.test api.weather.test updates.os-vendor.test
       www.search.test www.social.test static.social.test nas.home.lan printer.home.lan
       tv.home.lan router.home.lan)

CURL=(curl -s --max-time 15 --connect-timeout 5 --cacert "$CACERT")
get() {   # get URL... : fetch over one curl invocation (connection reuse), discard bodies
    local args=() u
    for u in "$@"; do args+=(-o /dev/null "$u"); done
    "${CURL[@]}" "${args[@]}"
}

pause() {
    local ms=$(( PACE_MIN_MS + RANDOM % PACE_SPAN_MS ))
    local left=$(( end - SECONDS ))
    (( left <= 0 )) && return
    (( ms > left * 1000 )) && ms=$(( left * 1000 ))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

page_visit() {   # one page + its resources: one connection to the site, one to the CDN
    local scheme=$1 site=$2
    local p=$((RANDOM % 8)) nimg=$((1 + RANDOM % 4)) urls=() i
    get "$scheme://$site/" "$scheme://$site/page$p.html" "$scheme://$site/style.css"
    for ((i = 0; i < nimg; i++)); do urls+=("$scheme://$cdn/img$((RANDOM % 10)).jpg"); done
    get "${urls[@]}"
}

i=0
while (( SECONDS < end && i < MAXITER )); do
    i=$((i + 1))
    r=$((RANDOM % 100))
    # WEB_SHARE % of actions use the web (mix below), the rest only look names up
    if (( r < WEB_SHARE )); then r=$((r * 76 / WEB_SHARE)); else r=99; fi
    if (( r < 40 )); then
        page_visit https "${news[RANDOM % ${#news[@]}]}"
    elif (( r < 55 )); then
        page_visit https "${shops[RANDOM % ${#shops[@]}]}"
    elif (( r < 63 )); then
        page_visit http "${news[RANDOM % ${#news[@]}]}"
    elif (( r < 70 )); then
        get "https://api.weather.test/v1/now.json?city=$((RANDOM % 50))"
    elif (( r < 76 )); then
        get "http://nas.home.lan/" "http://nas.home.lan/status.json"
    else
        # background name lookups (apps, OS, browser prefetch)
        for ((k = 0; k < 1 + RANDOM % 3; k++)); do
            dig +short +tries=1 +time=2 "@$DNS" "${other[RANDOM % ${#other[@]}]}" A >/dev/null
        done
    fi

    if (( SSH_EVERY > 0 && SECONDS >= next_ssh )); then
        ssh -i "$SSH_KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
            -o ConnectTimeout=5 -o LogLevel=ERROR "root@$NAS" 'uname -a; uptime; df -h / | tail -1' >/dev/null
        if (( RANDOM % 2 == 0 )); then
            scp -q -i "$SSH_KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o ConnectTimeout=5 -o LogLevel=ERROR "$SCP_FILE" "root@$NAS:$SCP_DEST/upload-$NAME.bin"
        fi
        next_ssh=$((SECONDS + SSH_EVERY / 2 + RANDOM % (SSH_EVERY + 1)))
    fi
    if (( FTP_EVERY > 0 && SECONDS >= next_ftp )); then
        curl -s -o /dev/null --max-time 15 "ftp://$NAS/pub/manual.pdf"
        next_ftp=$((SECONDS + FTP_EVERY / 2 + RANDOM % (FTP_EVERY + 1)))
    fi
    if [[ -n "${BULK_CMD:-}" && $bulk_done -eq 0 ]] && (( SECONDS - start >= BULK_AT )); then
        bulk_done=1
        bash -c "$BULK_CMD" >/dev/null 2>&1
    fi
    pause
done
echo "client $NAME: $i actions in $((SECONDS - start)) s" >&2
