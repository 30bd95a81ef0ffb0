# syntax=docker/dockerfile:1
# op25b: multi-stage build on Debian bookworm.
#   docker build -t op25b .
#   docker run --rm --privileged -v /dev/hugepages:/dev/hugepages op25b \
#       op25bd -l 0-1 -a 0000:03:00.0 -a 0000:03:00.1 -- --config /etc/op25b/op25b.yaml
# See README.md ("Running in a container") for privileges and hugepages.

FROM debian:bookworm-slim AS build
ARG RUST_VERSION=1.80.0
ENV DEBIAN_FRONTEND=noninteractive \
    RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates curl build-essential pkg-config libclang-dev clang libdpdk-dev \
    && rm -rf /var/lib/apt/lists/*
RUN curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain ${RUST_VERSION}
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p op25bd -p op25bctl

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# `dpdk` carries the runtime libraries and every poll-mode driver (plugins are
# loaded from its pmds directory); no -dev packages, no toolchain.
RUN apt-get update && apt-get install -y --no-install-recommends dpdk libpcap0.8 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/op25bd /src/target/release/op25bctl /usr/local/bin/
COPY configs/example.yaml /etc/op25b/op25b.yaml
ENTRYPOINT []
CMD ["op25bd", "--help"]
