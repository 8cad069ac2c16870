# syntax=docker/dockerfile:1
# regserial: serial-svc, registration-svc and the `regserial` tool in one minimal image.
#   docker build -t regserial:dev .
# Kubernetes runs each service by its `command` (/usr/local/bin/serial-svc or
# /usr/local/bin/registration-svc); see docs/operations.md.

# Build: the toolchain the workspace is tested with (rust-toolchain 1.95, Debian 12 like the
# runtime below). protoc is vendored by build.rs and SQLite is bundled, so no system package is
# needed. The cache mounts keep the crates.io downloads and the compiled dependencies from one
# build to the next (BuildKit), so a change to the workspace's code rebuilds only its crates.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin serial-svc --bin registration-svc --bin regserial \
    && mkdir -p /out \
    && cp target/release/serial-svc target/release/registration-svc target/release/regserial /out/

# Runtime: glibc and the CA certificates, no shell, no package manager, user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/serial-svc /out/registration-svc /out/regserial /usr/local/bin/
USER 65532:65532
# serial-svc gRPC, registration-svc gRPC, Prometheus metrics (METRICS_LISTEN_ADDR).
EXPOSE 50051 50052 9090
CMD ["/usr/local/bin/regserial", "--help"]
