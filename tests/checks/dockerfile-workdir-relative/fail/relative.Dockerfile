# expect: dockerfile-workdir-relative at stage[0].WORKDIR[0]
FROM debian:12
WORKDIR app
