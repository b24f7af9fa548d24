# expect: dockerfile-yarn-cache at stage[0].RUN[0]
FROM node:22
RUN yarn install --frozen-lockfile
