# Stand-in for the official redis image, for scripts/dockerE2e.sh on a machine that cannot pull
# images: Debian bookworm's redis-server (7.0) under DEBIAN_IMAGE. Like the official image: working
# directory /data owned by the redis user, redis-cli on the PATH, and protected mode off (the
# official image disables it, since a container's port is reachable only as published).
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && mkdir -p /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
