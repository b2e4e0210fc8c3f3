# The supervisor image. Multi-stage: build with dev dependencies, ship only what runs.
# NODE_IMAGE is any image with Node.js >= 20 at /usr/local/bin/node or on PATH.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY protocol ./protocol
COPY node ./node
COPY sim ./sim
COPY bench ./bench
COPY test ./test
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
WORKDIR /opt/agentmesh
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
ENTRYPOINT ["node", "/opt/agentmesh/dist/node/cli.js"]
CMD ["--help"]
