FROM node:22
RUN npm install && npm ci && npm install express@4.21.2 @scope/tool@1.0.0 ./local ../pkg.tgz git+https://github.com/org/repo.git#v1.2.0
