# driftgate in a minimal image: the HCP Terraform / Terraform Enterprise run task endpoint by
# default (`driftgate serve`), and the image of the GitLab template (templates/driftgate.yml),
# which runs its script with `entrypoint: [""]`. The binary is static (musl), so the image is
# Alpine: a shell and CA certificates, nothing else.
#
#   docker build -t driftgate .                 # from the locked sources (a static musl build)
#   docker run -p 8080:8080 -e DRIFTGATE_RUN_TASK_HMAC_KEY=... driftgate
#   docker run --rm driftgate check --help
#
# The release (.github/workflows/container.yml) builds it from the attested release binaries
# instead: `--build-arg DRIFTGATE_BINARY=prebuilt` with dist/amd64/driftgate and
# dist/arm64/driftgate in the context; the source build stage is then skipped.
#
# Put a TLS-terminating proxy (or a load balancer) in front of the run task: HCP Terraform calls
# it over HTTPS. With `--live api` the container also needs read-only cloud credentials, and
# `TF_TOKEN_<host>` to read workspace states at pre_plan and post_apply.
ARG DRIFTGATE_BINARY=source

FROM rust:1.95-alpine AS source
# aws-lc-sys (the TLS stack's crypto) compiles C: musl's headers and a C toolchain.
RUN apk add --no-cache musl-dev gcc make
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY policies policies
RUN cargo build --release --locked --bin driftgate && cp target/release/driftgate /driftgate

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/${TARGETARCH}/driftgate /driftgate

FROM ${DRIFTGATE_BINARY} AS binary

FROM alpine:3.22
# Alpine's base image carries the CA bundle the cloud APIs and HCP Terraform need; no RUN here,
# so the multi-platform release build needs no emulation.
COPY --from=binary /driftgate /usr/local/bin/driftgate
# An unprivileged user: the server needs no file but its temporary ones.
USER 65532:65532
# Orchestrators probe GET /healthz.
EXPOSE 8080
ENTRYPOINT ["driftgate"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--live", "plan"]
