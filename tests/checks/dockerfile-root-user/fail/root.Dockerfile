# expect: dockerfile-root-user at stage[1].USER[1]
FROM debian:12 AS build
USER 10001
FROM debian:12
USER 10001
USER root
