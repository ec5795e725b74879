# syntax=docker/dockerfile:1
# wsgate container image: a release build on Debian 12, copied into distroless (glibc, CA
# certificates, no shell), running as the unprivileged user 65532.
#   docker build -t wsgate:dev --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .

# Debian 12 builder so the binary links against the glibc the runtime image ships; the exact
# toolchain matches rust-toolchain.toml.
FROM rust:1.95.0-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p wsgate --locked \
    && install -D -m 0755 target/release/wsgate /out/wsgate \
    && /out/wsgate --version

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="wsgate" \
      org.opencontainers.image.description="WebSocket ingress controller and sidecar proxy for Kubernetes" \
      org.opencontainers.image.source="https://github.com/wsgate/wsgate" \
      org.opencontainers.image.url="https://github.com/wsgate/wsgate" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="wsgate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /out/wsgate /usr/local/bin/wsgate
USER 65532:65532
# http, https, admin (/healthz, /readyz, /metrics)
EXPOSE 8080 8443 9090
ENTRYPOINT ["/usr/local/bin/wsgate"]
CMD ["--help"]
