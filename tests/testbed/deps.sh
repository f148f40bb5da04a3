#!/bin/sh
# Install the Debian packages the testbed uses (run as root).  On a machine
# where services start on install, nginx/ssh/vsftpd/iperf3 system services may
# start too; the testbed does not use them (it runs its own instances inside
# its namespaces, on their own addresses).
set -e
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
    iproute2 ethtool tcpdump tshark nginx-light dnsmasq-base openssh-server openssh-client \
    vsftpd iperf3 curl dnsutils nmap hping3 hydra slowhttptest openssl bc python3 procps
