# The image the README's Kubernetes and Slurm examples run: dynasim and the shipped scenarios.
# Build: docker build --build-arg DYNASIM_COMMIT=$(git rev-parse --short=12 HEAD) -t dynasim .
# Smoke test: bash scripts/docker-smoke.sh (builds, then runs --version, a check and a shard).
# Bookworm in both stages: a builder on a newer Debian would link a newer glibc than the runtime has.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# .git is not copied (see .dockerignore): the commit for --version comes in as an argument.
ARG DYNASIM_COMMIT=unknown
ENV DYNASIM_COMMIT=${DYNASIM_COMMIT}
RUN cargo build --release --locked && strip target/release/dynasim

FROM debian:bookworm-slim
COPY --from=build /src/target/release/dynasim /usr/local/bin/dynasim
COPY scenarios /opt/dynasim/scenarios
# Scenario paths in the examples (scenarios/...) are relative to here.
WORKDIR /opt/dynasim
ENTRYPOINT ["dynasim"]
