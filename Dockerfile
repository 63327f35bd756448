# driftgate as an HCP Terraform / Terraform Enterprise run task endpoint (`driftgate serve`).
#
#   docker build -t driftgate .
#   docker run -p 8080:8080 -e DRIFTGATE_RUN_TASK_HMAC_KEY=... driftgate
#
# Put a TLS-terminating proxy (or a load balancer) in front: HCP Terraform calls the run task
# over HTTPS. With `--live api` (set CMD) the container also needs read-only cloud credentials,
# and `TF_TOKEN_<host>` to read workspace states at pre_plan and post_apply.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY policies policies
RUN cargo build --release --locked --bin driftgate

FROM debian:bookworm-slim
# CA certificates for the cloud APIs and HCP Terraform; nothing else.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/driftgate /usr/local/bin/driftgate
# An unprivileged user: the server needs no file but its temporary ones.
USER 65532:65532
# Orchestrators probe GET /healthz.
EXPOSE 8080
ENTRYPOINT ["driftgate", "serve", "--listen", "0.0.0.0:8080"]
CMD ["--live", "plan"]
