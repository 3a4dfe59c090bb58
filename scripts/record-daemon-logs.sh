#!/usr/bin/env bash
# Records real logs from real daemons while driving benign traffic and labelled attacks:
#
#   DNS       dnsmasq (Debian dnsmasq-base) on 127.0.0.1, forwarding to a second dnsmasq;
#             clients are loopback addresses 127.0.0.x (benign 127.0.0.10-19, each attack its own).
#   Firewall  nftables + ulogd2 in two network namespaces this script creates (a veth pair,
#             10.200.0.0/24, traffic only between its own addresses): ulogd writes the classic
#             kernel LOG format (LOGEMU) and JSON from two NFLOG groups.
#
# Usage: scripts/record-daemon-logs.sh OUTDIR [--part dns|firewall|all] [--scale N]
#
# Writes into OUTDIR: dnsmasq.log, dnsmasq-upstream.log, dns_phases.txt, dns_labels.json,
# ulogd.log, ulogd.json, firewall_phases.txt, firewall_labels.json (labels: see
# scripts/daemon_labels.py). --scale multiplies durations and attack sizes (default 1, the
# size of the committed fixtures in tests/fixtures/real/).
#
# Needs root (network namespaces, raw sockets, nftables). Installs the Debian packages it
# needs when they are missing (apt-get). Exits 77 ("skipped") with a message when it is not
# root, when a package cannot be installed, or when a network namespace cannot be created;
# removes everything it created (processes, namespaces, nft tables) on every exit.
set -euo pipefail

SKIP=77
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf 'record-daemon-logs: %s\n' "$*" >&2; }
skip() { say "skipped: $*"; exit "$SKIP"; }
usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

out=""
part=all
scale=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --part) part=${2:?--part needs dns, firewall or all}; shift 2 ;;
        --scale) scale=${2:?--scale needs a number}; shift 2 ;;
        -h|--help) usage ;;
        -*) say "unknown option $1"; usage ;;
        *) [[ -z "$out" ]] || usage; out=$1; shift ;;
    esac
done
[[ -n "$out" ]] || usage
case "$part" in dns|firewall|all) ;; *) say "--part must be dns, firewall or all"; exit 2 ;; esac
[[ "$scale" =~ ^[1-9][0-9]*$ ]] || { say "--scale must be a positive integer"; exit 2; }

[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, raw sockets, nftables, apt-get)"
command -v python3 >/dev/null || skip "needs python3"

# --- packages: install only what is missing; apt-get update once, only if needed ----------
missing=()
want() { # want CHECK PACKAGE: CHECK is a command name or an absolute file path
    if [[ "$1" == /* ]]; then [[ -e "$1" ]] || missing+=("$2"); else command -v "$1" >/dev/null || missing+=("$2"); fi
}
want ip iproute2
if [[ "$part" != firewall ]]; then want dnsmasq dnsmasq-base; fi
if [[ "$part" != dns ]]; then
    want nft nftables
    want ulogd ulogd2
fi
plugins=/usr/lib/x86_64-linux-gnu/ulogd
if [[ "$part" != dns ]]; then
    # The plug-in directory follows the architecture; find it once ulogd2 is there.
    want "$plugins/ulogd_output_JSON.so" ulogd2-json
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null || skip "missing ${missing[*]} and no apt-get"
    say "installing ${missing[*]}"
    apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=300 "$@" >&2; }
    if ! apt_install "${missing[@]}"; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >&2 \
            || skip "apt-get update failed"
        apt_install "${missing[@]}" || skip "could not install ${missing[*]}"
    fi
fi
if [[ "$part" != dns ]]; then
    if [[ ! -e "$plugins/ulogd_output_JSON.so" ]]; then
        plugins=$(dirname "$(find /usr/lib -name ulogd_output_JSON.so -print -quit 2>/dev/null)")
        [[ -e "$plugins/ulogd_output_JSON.so" ]] || skip "ulogd's JSON plug-in not found"
    fi
fi

if [[ "$part" != dns ]]; then
    # Find out now, before creating anything, whether namespaces work here.
    probe=mcptr-probe-$$
    err=$(ip netns add "$probe" 2>&1) || skip "cannot create a network namespace: $err"
    ip netns del "$probe"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/record-daemon-logs.XXXXXX)

# --- cleanup: every process and namespace this run made, on every exit ---------------------
pids=()
namespaces=()
cleanup() {
    local rc=$?
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${namespaces[@]}"; do
        ip netns exec "$ns" nft delete table inet mcptrain_rec 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

now() { date +%s.%N; }
wait_for() { # wait_for FILE PATTERN SECONDS
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    say "timed out waiting for '$2' in $1"
    return 1
}
free_ports() { # two ports free for both UDP and TCP on 127.0.0.1
    python3 - <<'EOF'
import socket
ports = []
while len(ports) < 2:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        t.close(); u.close()
    if p not in ports:
        ports.append(p)
print(*ports)
EOF
}

# --- DNS ----------------------------------------------------------------------------------
record_dns() {
    local started up_port port phases=$out/dns_phases.txt t0 benign_pid daemons=()
    started=$(now)
    read -r port up_port < <(free_ports)
    rm -f "$out/dnsmasq.log" "$out/dnsmasq-upstream.log" "$phases"
    : >"$phases"
    # Upstream: "authoritative" for a few test zones (host records with a 300 s TTL, so the
    # front caches them); every other name under com/net/org is NXDOMAIN.
    dnsmasq --keep-in-foreground --pid-file= --port="$up_port" --listen-address=127.0.0.1 \
        --bind-interfaces --no-resolv --no-hosts --local-ttl=300 --neg-ttl=60 \
        --local=/com/ --local=/net/ --local=/org/ --local=/2.0.192.in-addr.arpa/ \
        --local=/100.51.198.in-addr.arpa/ --local=/113.0.203.in-addr.arpa/ \
        --host-record=www.example.com,192.0.2.10,2001:db8::10 \
        --host-record=api.example.com,192.0.2.11,2001:db8::11 \
        --host-record=mail.example.com,192.0.2.25 \
        --host-record=cdn.example.net,198.51.100.20,2001:db8:1::20 \
        --host-record=static.example.net,198.51.100.21 \
        --host-record=updates.example.org,203.0.113.5 \
        --host-record=ntp.example.org,203.0.113.123 \
        --host-record=wiki.example.org,203.0.113.8,2001:db8:2::8 \
        --mx-host=example.com,mail.example.com,10 --txt-record=example.com,"v=spf1 mx -all" \
        --address=/c2-tunnel.net/198.51.100.77 \
        --log-queries=extra --log-facility="$out/dnsmasq-upstream.log" 2>>"$work/dnsmasq.err" &
    pids+=($!)
    daemons+=($!)
    # The resolver the clients use: local answers for lab.test, forwards com/net/org and three
    # public reverse zones upstream, refuses every other zone, never forwards bare names
    # (--domain-needed) or private reverse lookups (--bogus-priv).
    dnsmasq --keep-in-foreground --pid-file= --port="$port" --listen-address=127.0.0.1 \
        --bind-interfaces --no-resolv --no-hosts --domain-needed --bogus-priv \
        --address=/lab.test/10.9.8.7 --local=/lab.test/ \
        --server=/com/127.0.0.1#"$up_port" --server=/net/127.0.0.1#"$up_port" \
        --server=/org/127.0.0.1#"$up_port" --server=/2.0.192.in-addr.arpa/127.0.0.1#"$up_port" \
        --server=/100.51.198.in-addr.arpa/127.0.0.1#"$up_port" \
        --server=/113.0.203.in-addr.arpa/127.0.0.1#"$up_port" \
        --log-queries=extra --log-facility="$out/dnsmasq.log" 2>>"$work/dnsmasq.err" &
    pids+=($!)
    daemons+=($!)
    wait_for "$out/dnsmasq-upstream.log" 'started, version' 10
    wait_for "$out/dnsmasq.log" 'started, version' 10

    local dns=(python3 "$here/dns_client.py" --server "127.0.0.1:$port")
    local benign_secs=$((12 * scale))
    "${dns[@]}" --seed 1 benign --sources 127.0.0.10-19 --duration "$benign_secs" >"$work/dns-benign.txt" &
    benign_pid=$!
    pids+=("$benign_pid")
    sleep 2
    dns_attack() { # dns_attack NAME SOURCE ARGS...: one labelled phase
        local name=$1 src=$2
        shift 2
        t0=$(now)
        "${dns[@]}" --seed 2 "$name" --sources "$src" "$@" >&2
        echo "dns_$name $t0 $(now) $src" >>"$phases"
        sleep 1
    }
    dns_attack tunnel 127.0.0.66 --count $((8 * scale))
    dns_attack dga 127.0.0.67 --count $((12 * scale))
    dns_attack flood 127.0.0.68 --count $((20 * scale))
    dns_attack rare 127.0.0.69 --count $((6 * scale))
    dns_attack refused 127.0.0.70 --count $((9 * scale))
    wait "$benign_pid"
    cat "$work/dns-benign.txt" >&2
    sleep 0.5
    # Stop the resolvers now, so that their logs end with their own exit lines.
    kill "${daemons[@]}"
    wait "${daemons[@]}" || true
    python3 "$here/daemon_labels.py" "$phases" "$out/dnsmasq.log:dnsmasq" >"$out/dns_labels.json"
    say "dns: $(wc -l <"$out/dnsmasq.log") lines in dnsmasq.log ($(wc -l <"$out/dnsmasq-upstream.log") upstream) in $(python3 -c "print(round($(now)-$started,1))") s"
}

# --- Firewall -----------------------------------------------------------------------------
record_firewall() {
    local started srv cli phases=$out/firewall_phases.txt benign_pid
    started=$(now)
    srv=mcptr-srv-$$
    cli=mcptr-cli-$$
    ip netns add "$srv" 2>"$work/netns.err" || skip "cannot create a network namespace: $(cat "$work/netns.err")"
    namespaces+=("$srv")
    ip netns add "$cli" || skip "cannot create a second network namespace"
    namespaces+=("$cli")
    local ns
    for ns in "$srv" "$cli"; do
        # No IPv6: router solicitations and MLD reports would be logged as drops we did not drive.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    # Created inside the namespaces, so both ends can be called eth0 as on a real host.
    ip link add eth0 netns "$srv" type veth peer name eth0 netns "$cli"
    local a
    for a in 1 3 4 5; do ip -n "$srv" addr add "10.200.0.$a/24" dev eth0; done
    for a in 10 11 12 13 14 66 67 68 69; do ip -n "$cli" addr add "10.200.0.$a/24" dev eth0; done
    ip -n "$srv" link set eth0 up
    ip -n "$cli" link set eth0 up

    rm -f "$out/ulogd.log" "$out/ulogd.json" "$phases"
    : >"$phases"
    cat >"$work/ulogd.conf" <<EOF
[global]
logfile="$work/ulogd-daemon.log"
loglevel=3
plugin="$plugins/ulogd_inppkt_NFLOG.so"
plugin="$plugins/ulogd_raw2packet_BASE.so"
plugin="$plugins/ulogd_filter_IFINDEX.so"
plugin="$plugins/ulogd_filter_IP2STR.so"
plugin="$plugins/ulogd_filter_PRINTPKT.so"
plugin="$plugins/ulogd_output_LOGEMU.so"
plugin="$plugins/ulogd_output_JSON.so"
# Two stacks cannot share an NFLOG group: every rule logs to group 1 and to group 2.
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,print1:PRINTPKT,emu1:LOGEMU
stack=log2:NFLOG,base2:BASE,ifi2:IFINDEX,ip2str2:IP2STR,json1:JSON
[log1]
group=1
[log2]
group=2
[emu1]
file="$out/ulogd.log"
sync=1
[json1]
file="$out/ulogd.json"
sync=1
EOF
    ip netns exec "$srv" ulogd -c "$work/ulogd.conf" &
    local ulogd_pid=$!
    pids+=("$ulogd_pid")
    wait_for "$work/ulogd-daemon.log" 'entering main loop' 10

    local logacc='log prefix "ACCEPT_IN " group 1 log prefix "ACCEPT_IN " group 2'
    local logdrop='log prefix "DROP_IN " group 1 log prefix "DROP_IN " group 2'
    ip netns exec "$srv" nft -f - <<EOF
table inet mcptrain_rec {
    chain input {
        type filter hook input priority 0; policy drop;
        iifname "lo" accept
        ct state established,related accept
        icmp type echo-request $logacc accept
        tcp dport { 80, 443 } ct state new $logacc accept
        udp dport { 53, 123 } ct state new $logacc accept
        $logdrop drop
    }
}
EOF
    ip netns exec "$srv" python3 "$here/fw_traffic.py" serve --listen 0.0.0.0 >"$work/serve.txt" 2>&1 &
    pids+=($!)
    wait_for "$work/serve.txt" 'serving on' 10

    local fw=(ip netns exec "$cli" python3 "$here/fw_traffic.py")
    "${fw[@]}" benign --seed 1 --sources 10.200.0.10-14 --targets 10.200.0.1,10.200.0.3 \
        --duration $((10 * scale)) >"$work/fw-benign.txt" &
    benign_pid=$!
    pids+=("$benign_pid")
    sleep 2
    fw_attack() { # fw_attack NAME SOURCE ARGS...: one labelled phase
        local name=$1 src=$2 t0
        shift 2
        t0=$(now)
        "${fw[@]}" "$name" --seed 2 --sources "$src" "$@" >&2
        echo "fw_$name $t0 $(now) $src" >>"$phases"
        sleep 1
    }
    fw_attack vscan 10.200.0.66 --targets 10.200.0.1 --count $((15 * scale))
    fw_attack hscan 10.200.0.67 --targets 10.200.0.1,10.200.0.3-5 --count 2
    fw_attack synflood 10.200.0.68 --targets 10.200.0.1 --count $((15 * scale))
    fw_attack probe 10.200.0.69 --targets 10.200.0.1
    wait "$benign_pid"
    cat "$work/fw-benign.txt" >&2
    # Let both NFLOG groups drain (the two stacks log the same packets), then stop ulogd, so
    # that every packet it was sent is written before the lines are labelled.
    sleep 2
    # Stop ulogd now, so that every packet it was sent is written before the lines are labelled.
    kill "$ulogd_pid"
    wait "$ulogd_pid" || true
    python3 "$here/daemon_labels.py" "$phases" "$out/ulogd.log:logemu" "$out/ulogd.json:json" \
        >"$out/firewall_labels.json"
    say "firewall: $(wc -l <"$out/ulogd.log") lines in ulogd.log, $(wc -l <"$out/ulogd.json") in ulogd.json in $(python3 -c "print(round($(now)-$started,1))") s"
}

[[ "$part" == firewall ]] || record_dns
[[ "$part" == dns ]] || record_firewall
say "done: $out"
