# expect: dockerfile-no-healthcheck at stage[1].FROM[0]
FROM debian:12 AS base
HEALTHCHECK CMD ["true"]
FROM debian:12
