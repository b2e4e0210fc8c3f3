# The supervisor image: one per host, run as `agentmesh supervise` (README, "Running one
# supervisor per host").
#
# Built from the checkout's own build output, not by `npm ci` inside the build: run
# `npm ci && npm run build` first, then
#   docker build --build-arg NODE_IMAGE=node:20-slim -t agentmesh/supervisor .
# so the build needs no network and no npm in the base image. The context must be the same
# CPU architecture and libc as the image (node_modules holds a few optional native addons).
#
# NODE_IMAGE is any image with Node.js >= 20.10 as `node` on PATH and a user with uid 1000. It
# needs no shell: every RUN below is exec form, so the same file builds on `node:20-slim`
# and on the test base (test/services/images.sh: only a node binary and its libraries).
ARG NODE_IMAGE=node:20-slim

# Stage 1: drop what only development needs. The lockfile marks every package only
# devDependencies reach with "dev": true, which is what `npm prune --omit=dev` removes; doing it
# with node keeps npm out of the base image's requirements.
FROM ${NODE_IMAGE} AS prune
WORKDIR /opt/agentmesh
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
RUN ["node", "-e", "const fs = require('node:fs'); const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')); if (lock.lockfileVersion < 2) throw new Error('package-lock.json v2 or later needed'); let n = 0; for (const [path, pkg] of Object.entries(lock.packages)) { if (path !== '' && pkg.dev === true) { fs.rmSync(path, { recursive: true, force: true }); n++ } } for (const p of ['node_modules/.bin', 'node_modules/.package-lock.json']) fs.rmSync(p, { recursive: true, force: true }); console.log('pruned ' + n + ' development packages')"]
# The default dataDir, so a first start without a mounted data folder still has somewhere to
# write (WORKDIR creates it; the final stage copies it with its owner).
WORKDIR /var/lib/agentmesh

# Stage 2: what runs. Layers from the least to the most often changed, so a rebuild after a code
# change reuses the node_modules layer (.dockerignore keeps dist/test and dist/bench out).
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="agentmesh supervisor" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /opt/agentmesh
COPY package.json ./
COPY --from=prune /opt/agentmesh/node_modules ./node_modules
COPY --from=prune --chown=1000:1000 /var/lib/agentmesh /var/lib/agentmesh
COPY dist ./dist
# V8 options of a supervisor process (node/daemon/node-options.ts says why): keep the same.
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=2
# Numeric, so it needs no /etc/passwd entry of ours (uid 1000 is `node` in node:20-slim and
# `agent` in the test base). The Docker socket is usually root:docker 0660: give the container
# that group with `docker run --group-add <gid of the socket>`.
USER 1000:1000
# `docker run IMAGE` runs the daemon; `docker run IMAGE status` (or --help, version) runs that
# subcommand instead. node is PID 1 and handles SIGTERM as the graceful stop (`docker stop`).
ENTRYPOINT ["node", "/opt/agentmesh/dist/cli/agentmesh.js"]
CMD ["supervise", "--config", "/etc/agentmesh/agentmesh.yaml"]
