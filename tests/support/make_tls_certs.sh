#!/bin/sh
# Makes the certificates of the TLS distribution tests, PEM, EC prime256v1 (OTP 25, 27 and 29
# take them), in about half a second:
#   ca.pem/.key          the test CA
#   node.pem/.key        signed by it, naming the host: DNS:<hostname -s>, DNS:localhost,
#                        IP:127.0.0.1, IP:::1, and DNS:::1 (a BEAM reaching `name@::1` over
#                        inet6_tls checks the literal as a DNS name: ssl's verify_hostname)
#   other_ca.pem/.key    another CA
#   wrongca.pem/.key     a node certificate signed by the other CA
#   expired.pem/.key     signed by the test CA, valid only in 2020
#   nosan.pem/.key       signed by the test CA, naming only nosuchhost.invalid
# Usage: make_tls_certs.sh DIR
set -eu
dir=${1:?usage: make_tls_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
host=$(hostname -s)
san="subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1,IP:::1,DNS:::1"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }

ca() {  # NAME CN
  key "$1"
  openssl req -new -x509 -key "$1.key" -out "$1.pem" -days 3650 -sha256 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() {  # NAME CA SAN
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -days 825 -sha256 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "cppnode test CA"
ca other_ca "cppnode other CA"
leaf node ca "$san"
leaf wrongca other_ca "$san"
leaf nosan ca "subjectAltName=DNS:nosuchhost.invalid"

# OpenSSL 3.0's `x509 -req` cannot date a certificate in the past; `openssl ca` can.
key expired
openssl req -new -key expired.key -out expired.csr -subj "/CN=expired" 2>/dev/null
mkdir -p cadb
: >cadb/index.txt
echo 01 >cadb/serial
cat >cadb/ca.cnf <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
$san
CNF
openssl ca -batch -notext -config cadb/ca.cnf -cert ca.pem -keyfile ca.key \
  -startdate 20200101000000Z -enddate 20210101000000Z -extensions leaf \
  -in expired.csr -out expired.pem 2>/dev/null
rm -rf cadb expired.csr
chmod 600 ./*.key
