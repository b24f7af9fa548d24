# expect: dockerfile-copy-credentials at stage[0].COPY[0]
# expect: dockerfile-copy-credentials at stage[0].COPY[1]
# expect: dockerfile-copy-credentials at stage[0].ADD[0]
FROM node:22
COPY .npmrc package.json ./
COPY keys/id_ed25519 /root/.ssh/
ADD certs/server.key /etc/tls/
RUN npm ci && rm .npmrc
