# options: {schema: {org.opencontainers.image.source: url, org.opencontainers.image.revision: hash, org.opencontainers.image.licenses: spdx, org.opencontainers.image.created: rfc3339, org.opencontainers.image.version: semver, maintainer: email, org.opencontainers.image.title: text}, strict: true}
FROM debian:12 AS base
LABEL org.opencontainers.image.source=https://github.com/org/repo org.opencontainers.image.revision=0123abc
FROM base
ARG CREATED
LABEL org.opencontainers.image.licenses="(MIT OR Apache-2.0) AND BSD-3-Clause" \
      org.opencontainers.image.created=$CREATED org.opencontainers.image.version=1.2.3-rc.1+build.5 \
      maintainer=team@example.com org.opencontainers.image.title="My app"
