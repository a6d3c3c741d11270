#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The test CA of the HTTPS tests and the demo: one CA and, per call, an
# ECDSA P-256 and an RSA-2048 server certificate with the same names, made
# with the openssl command line only.
#
# usage: testca.sh [-p PREFIX] OUTDIR NAME...
#   OUTDIR/ca.pem, ca.key              the CA (RSA-2048, made once and
#                                      kept: every leaf in OUTDIR is its)
#   OUTDIR/PREFIX-ec.pem, -ec.key      ECDSA P-256 leaf
#   OUTDIR/PREFIX-rsa.pem, -rsa.key    RSA-2048 leaf
#   PREFIX defaults to "server". Each NAME becomes a subjectAltName: an
#   IP address (v4 or v6) as IP, anything else as DNS (`*.example.test`
#   for a wildcard); the first is also the subject's CN.
#
# Idempotent: a leaf is made again only when missing, for other names, not
# issued by OUTDIR's CA, or expiring within 90 days. The CA is RSA so that
# a client allowing only RSA signatures accepts the RSA leaf's whole chain.
# Leaves last 365 days (more than testssl.sh's expiry warnings, less than
# its longest-validity complaint) and name an OCSP responder and a CRL
# (never reached: without them testssl.sh rates a leaf HIGH); a
# certificate file holds the leaf only.
set -euo pipefail

usage() {
	sed -n '7,15{s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

prefix=server
while getopts p: opt; do
	case $opt in
	p) prefix=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
out=$1
shift
[[ "$prefix" =~ ^[A-Za-z0-9_.-]+$ ]] || {
	echo "testca: bad prefix '$prefix'" >&2
	exit 2
}

# Dotted quad, or hex and colons (openssl refuses a malformed one).
is_ip() {
	[[ "$1" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] ||
		[[ "$1" == *:* && "$1" =~ ^[0-9A-Fa-f:.]+$ ]]
}

sans=()
for n in "$@"; do
	if is_ip "$n"; then
		sans+=("IP:$n")
	elif [[ "$n" =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]]; then
		sans+=("DNS:$n")
	else
		echo "testca: '$n' is neither an IP address nor a DNS name" >&2
		exit 2
	fi
done
san=$(
	IFS=,
	echo "${sans[*]}"
)

# ossl ARGS...: openssl, quiet unless it fails.
ossl() {
	local err
	err=$(openssl "$@" 2>&1 >/dev/null) || {
		echo "testca: openssl $1 failed: $err" >&2
		exit 1
	}
}

mkdir -p "$out"
cd "$out"
umask 077
trap 'rm -f ./*.tmp ./*.cnf ./*.csr' EXIT

ca_ok() {
	[ -s ca.pem ] && [ -s ca.key ] &&
		openssl x509 -in ca.pem -noout -checkend $((90 * 86400)) >/dev/null 2>&1
}

if ! ca_ok; then
	cat >ca.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = ext
[dn]
CN = xredir test CA
[ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	ossl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
		-config ca.cnf -keyout ca.key.tmp -out ca.pem.tmp
	mv ca.key.tmp ca.key
	mv ca.pem.tmp ca.pem
	rm -f ca.cnf
	# Leaves of an earlier CA are no longer valid.
	rm -f ./*-ec.pem ./*-rsa.pem
fi

# leaf_ok KIND: the leaf exists, is for these names, is this CA's, and
# lasts.
leaf_ok() {
	local f=$prefix-$1
	[ -s "$f.pem" ] && [ -s "$f.key" ] && [ -s "$prefix.names" ] &&
		[ "$(cat "$prefix.names")" = "$san" ] &&
		openssl verify -CAfile ca.pem "$f.pem" >/dev/null 2>&1 &&
		openssl x509 -in "$f.pem" -noout -checkend $((90 * 86400)) >/dev/null 2>&1
}

# leaf KIND GENPKEY-ARGS...: a key and a certificate issued by the CA.
leaf() {
	local f=$prefix-$1 ku=digitalSignature
	[ "$1" = rsa ] && ku="$ku, keyEncipherment"
	shift
	cat >"$f.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $cn
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $ku
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://ocsp.xredir.test/
crlDistributionPoints = URI:http://crl.xredir.test/ca.crl
EOF
	ossl genpkey "$@" -out "$f.key.tmp"
	ossl req -new -key "$f.key.tmp" -config "$f.cnf" -out "$f.csr"
	ossl x509 -req -in "$f.csr" -CA ca.pem -CAkey ca.key \
		-set_serial "0x$(openssl rand -hex 16)" -sha256 -days 365 \
		-extfile "$f.cnf" -extensions ext -out "$f.pem.tmp"
	mv "$f.key.tmp" "$f.key"
	mv "$f.pem.tmp" "$f.pem"
	rm -f "$f.cnf" "$f.csr"
}

cn=$1
leaf_ok ec || leaf ec -algorithm EC -pkeyopt ec_paramgen_curve:P-256
leaf_ok rsa || leaf rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
echo "$san" >"$prefix.names"
chmod 644 ca.pem "$prefix-ec.pem" "$prefix-rsa.pem"
