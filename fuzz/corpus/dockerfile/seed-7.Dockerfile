# expect: dockerfile-apk-unpinned at stage[0].RUN[0]
FROM alpine:3.20
RUN apk add --no-cache --virtual .build-deps curl gcc=13.2.1_git20240309-r0
