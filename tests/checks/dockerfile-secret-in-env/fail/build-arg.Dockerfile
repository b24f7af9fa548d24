# expect: dockerfile-secret-in-env at stage[0].ARG[0]
FROM node:22
ARG NPM_TOKEN
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
