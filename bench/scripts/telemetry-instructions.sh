#!/usr/bin/env bash
# Instructions per ValidateSerial in release serial-svc, counted by callgrind (repeatable on a
# noisy machine, unlike a rate): telemetry off, on (metrics, spans exported to a local OTLP
# receiver, parentbased_traceidratio 0.1) and on with every call sampled (always_on). Counts
# only the calls: callgrind is zeroed after a warm-up and dumped after N calls.
#
#   bench/scripts/telemetry-instructions.sh [N]   (release binaries in ${CARGO_TARGET_DIR:-target}/release)
#
# Needs valgrind, h2load (nghttp2-client), grpcurl, and python3 with grpcio and
# opentelemetry-proto (pip install grpcio opentelemetry-proto) for the receiver.
set -euo pipefail
n="${1:-2000}"
here="$(cd "$(dirname "$0")" && pwd)"
release="${CARGO_TARGET_DIR:-$here/../../target}/release"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=50991 sink=4399
export AUTH_JWT_SECRET=instructions-secret RUST_LOG=warn
token="$("$release/regserial" token --org acme --scope "serials:read serials:write" --jwt-secret "$AUTH_JWT_SECRET")"
frame() { python3 -c "import struct,sys; b=sys.argv[1].encode(); sys.stdout.buffer.write(b'\0'+struct.pack('>I',len(b)+2)+b'\n'+bytes([len(b)])+b)" "$1"; }
frame CG-0001 >"$work/validate.bin"
python3 "$here/otlp_sink.py" "$sink" >"$work/sink.log" 2>&1 &
healthy() { for _ in $(seq 1 120); do grpcurl -plaintext "127.0.0.1:$port" grpc.health.v1.Health/Check >/dev/null 2>&1 && return; sleep 1; done; exit 1; }

"$release/serial-svc" --listen "127.0.0.1:$port" --database-url "sqlite://$work/s.db" >"$work/seed.log" 2>&1 &
healthy
grpcurl -plaintext -H "authorization: Bearer $token" -d '{"serials":[{"serialNumber":"CG-0001"}]}' \
    "127.0.0.1:$port" regserial.serial.v1.SerialService/BatchCreateSerials >/dev/null
kill %2 && wait %2 || true

printf '| setting | instructions per call |\n|---|---|\n'
for setting in off on always_on; do
    (
        flags=()
        if [ "$setting" != off ]; then
            export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink"
            flags=(--metrics-listen 127.0.0.1:0)
            if [ "$setting" = on ]; then
                export OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1
            else
                export OTEL_TRACES_SAMPLER=always_on
            fi
        fi
        valgrind --tool=callgrind --callgrind-out-file="$work/cg.$setting" \
            "$release/serial-svc" --listen "127.0.0.1:$port" --database-url "sqlite://$work/s.db" "${flags[@]}" \
            >"$work/server-$setting.log" 2>&1 &
        server=$!
        healthy
        load() { h2load -n "$1" -c 1 -m 4 -d "$work/validate.bin" -H "content-type: application/grpc" -H "te: trailers" \
            -H "authorization: Bearer $token" "http://127.0.0.1:$port/regserial.serial.v1.SerialService/ValidateSerial"; }
        load 200 >/dev/null
        callgrind_control -z "$server" >/dev/null 2>&1
        load "$n" >"$work/h2load-$setting.out"
        grep -q "$n succeeded" "$work/h2load-$setting.out"
        callgrind_control -d "$server" >/dev/null 2>&1
        kill -TERM "$server"; wait "$server" || true
        total="$(grep -h '^summary:' "$work"/cg."$setting".* | awk '{print $2}')"
        printf '| %s | %s |\n' "$setting" "$((total / n))"
    )
done
