FROM alpine:3.20
RUN apk add --no-cache -X https://dl-cdn.example.com/alpine/edge/testing curl=8.5.0-r0 ./pkg.apk && apk update
