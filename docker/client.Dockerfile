# syntax=docker/dockerfile:1
# The `client` service of docker-compose.yml: ordinary Linux tools that talk to stackd over
# the lab network. (The `load` service has its own image: the Dockerfile's stage "load".)
# Build context: the repository root.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iputils-ping netcat-openbsd curl wrk arping iproute2 \
 && rm -rf /var/lib/apt/lists/*
CMD ["sleep", "infinity"]
