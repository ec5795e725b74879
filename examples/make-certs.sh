#!/usr/bin/env bash
# Makes a local test CA and a server certificate signed by it, for the TLS example and the
# TLS benchmark. Nothing here is fit for production: the CA key sits next to the files.
#   bash examples/make-certs.sh [DIR] [HOST...]
# DIR defaults to examples/certs; HOSTs default to localhost and chat.localhost (127.0.0.1
# is always added). Writes DIR/ca.crt (trust this in clients), DIR/tls.crt (leaf + CA, the
# full chain) and DIR/tls.key (ECDSA P-256). Set KEY=rsa for an RSA 2048 key instead.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="${1:-$HERE/certs}"
shift || true
HOSTS=("$@")
[ ${#HOSTS[@]} -gt 0 ] || HOSTS=(localhost chat.localhost)
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
mkdir -p "$DIR"
# Keep generated keys out of version control.
printf '*\n' > "$DIR/.gitignore"
cd "$DIR"
newkey() {
  if [ "${KEY:-ec}" = rsa ]; then openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
  else openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; fi
}
if [ ! -f ca.key ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=wsgate local test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null
fi
san="IP:127.0.0.1"
for h in "${HOSTS[@]}"; do san="$san,DNS:$h"; done
newkey tls.key
openssl req -new -key tls.key -subj "/CN=${HOSTS[0]}" -out tls.csr 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" > san.ext
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 825 \
  -extfile san.ext -out leaf.crt 2>/dev/null
cat leaf.crt ca.crt > tls.crt
rm -f tls.csr san.ext leaf.crt
echo "made $DIR/tls.crt (${HOSTS[*]}, 127.0.0.1) signed by $DIR/ca.crt; key $DIR/tls.key"
