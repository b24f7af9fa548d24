# expect: dockerfile-label-key-invalid at stage[0].LABEL[0]
# expect: dockerfile-label-key-invalid at stage[0].LABEL[0]
# expect: dockerfile-label-key-invalid at stage[0].LABEL[0]
FROM debian:12
LABEL Maintainer=me com.docker.x=1 a..b=2 org.opencontainers.image.source=https://x
