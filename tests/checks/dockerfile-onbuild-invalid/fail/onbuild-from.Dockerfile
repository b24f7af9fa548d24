# expect: dockerfile-onbuild-invalid at stage[0].ONBUILD[0].FROM
# expect: dockerfile-onbuild-invalid at stage[0].ONBUILD[1].MAINTAINER
FROM debian:12
ONBUILD FROM alpine:3.20
ONBUILD MAINTAINER me
