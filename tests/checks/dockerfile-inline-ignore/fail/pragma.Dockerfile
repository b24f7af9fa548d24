# expect: dockerfile-inline-ignore at pragma[0]
FROM debian:12
# hadolint ignore=DL3003
RUN cd /tmp
