# cached in an image of its own: one static binary, nothing else.
#
# The binary is built on the host (no base image is needed or pulled):
#
#     make image                      # builds bin/cached and the image cached:dev
#
# or by hand:
#
#     CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(git describe --always --dirty)" -o bin/cached ./cmd/cached
#     mkdir -p bin/data && docker build -t cached:dev .
#
# Settings come from flags after the image name, CACHED_* variables or a
# YAML file (--config); see README.md. The image binds every interface.
FROM scratch

ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="cached" \
      org.opencontainers.image.description="Clustered in-memory cache that speaks the Redis protocol" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/cached/cached"

COPY bin/cached /cached
# An empty directory owned by the runtime user, so that a fresh volume
# mounted at /data is writable by it (for persistence, --dir /data).
COPY --chown=65532:65532 bin/data /data

# Listen on every interface; in a cluster the node then advertises its
# first private address (or set CACHED_ADVERTISE_ADDR).
ENV CACHED_BIND=0.0.0.0
# As in the official Redis image, protected mode is off: in a container the
# bind address is the container's own network, and who reaches it is decided
# by how ports are published (docker run -p 127.0.0.1:...) or by a
# NetworkPolicy. Give it a password (CACHED_REQUIREPASS_FILE from a
# Secret, or an aclfile) wherever others share the network, and set
# CACHED_PROTECTED_MODE=yes to make a node without one refuse to start.
ENV CACHED_PROTECTED_MODE=no

USER 65532:65532
WORKDIR /data
VOLUME ["/data"]

# 6379 Redis protocol, 6380 gRPC, 16379 peer links (port + 10000),
# 7946 gossip (TCP and UDP), 9121 admin HTTP (/healthz /readyz /metrics).
EXPOSE 6379/tcp 6380/tcp 16379/tcp 7946/tcp 7946/udp 9121/tcp

ENTRYPOINT ["/cached"]
