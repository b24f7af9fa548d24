# expect: dockerfile-multiple-healthcheck at stage[0].HEALTHCHECK[1]
FROM debian:12
HEALTHCHECK CMD ["true"]
HEALTHCHECK NONE
