# expect: dockerfile-apk-cache at stage[0].RUN[0]
FROM alpine:3.20
RUN apk add curl=8.5.0-r0
