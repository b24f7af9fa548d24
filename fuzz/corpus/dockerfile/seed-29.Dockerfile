# expect: dockerfile-copy-from-unknown at stage[1].COPY[0]
# expect: dockerfile-copy-from-unknown at stage[1].COPY[1]
FROM golang:1.22 AS builder
FROM debian:12
COPY --from=biulder /out /app
COPY --from=later /x /y
FROM debian:12 AS later
