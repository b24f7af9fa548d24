# expect: dockerfile-npm-unpinned at stage[0].RUN[0]
# expect: dockerfile-npm-unpinned at stage[0].RUN[0]
# expect: dockerfile-npm-unpinned at stage[0].RUN[0]
FROM node:22
RUN npm install -g express @scope/tool git+https://github.com/org/repo.git lodash@4.17.21
