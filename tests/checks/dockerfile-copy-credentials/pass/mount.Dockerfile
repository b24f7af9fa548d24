FROM node:22
COPY package.json package-lock.json ./
COPY certs/ca.crt /usr/local/share/ca-certificates/
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
