# Stand-in for the official postgres image, for scripts/dockerE2e.sh on a machine that cannot pull
# images: Debian bookworm's postgresql-15 under DEBIAN_IMAGE, with an entrypoint that honours the
# variables docker-compose.yml sets (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB; data in PGDATA,
# /var/lib/postgresql/data) and pg_isready on the PATH for the health check.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
# No default "main" cluster: the entrypoint creates the one cluster in PGDATA.
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
