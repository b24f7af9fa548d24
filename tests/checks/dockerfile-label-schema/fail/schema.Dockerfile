# options: {schema: {org.opencontainers.image.source: url, org.opencontainers.image.revision: hash, org.opencontainers.image.licenses: spdx, org.opencontainers.image.created: rfc3339, org.opencontainers.image.version: semver, maintainer: email, org.opencontainers.image.title: text}, strict: true}
# expect: dockerfile-label-schema at stage[1].FROM[0] [missing]
# expect: dockerfile-label-schema at stage[base].LABEL[0] [url]
# expect: dockerfile-label-schema at stage[base].LABEL[0] [hash]
# expect: dockerfile-label-schema at stage[1].LABEL[0] [spdx]
# expect: dockerfile-label-schema at stage[1].LABEL[0] [rfc3339]
# expect: dockerfile-label-schema at stage[1].LABEL[0] [semver]
# expect: dockerfile-label-schema at stage[1].LABEL[0] [email]
# expect: dockerfile-label-schema at stage[1].LABEL[0] [superfluous]
FROM debian:12 AS base
LABEL org.opencontainers.image.source=github.com/org/repo org.opencontainers.image.revision=xyz
FROM base
LABEL org.opencontainers.image.licenses="MIT OR" org.opencontainers.image.created=2024-13-01 \
      org.opencontainers.image.version=1.02.3 maintainer=nobody extra=1
