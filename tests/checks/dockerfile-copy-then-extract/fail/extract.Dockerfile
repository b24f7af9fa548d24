# expect: dockerfile-copy-then-extract at stage[0].COPY[0]
FROM debian:12
COPY dist/app-1.0.tar.gz /tmp/
RUN tar xzf /tmp/app-1.0.tar.gz -C /opt && rm /tmp/app-1.0.tar.gz
