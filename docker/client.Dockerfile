# syntax=docker/dockerfile:1
# The `client` (and `load`) service of docker-compose.yml: ordinary Linux tools that talk
# to stackd over the lab network. Build context: the repository root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iputils-ping netcat-openbsd curl wrk arping iproute2 \
 && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 docker/load.sh /usr/local/bin/stackd-load
CMD ["sleep", "infinity"]
