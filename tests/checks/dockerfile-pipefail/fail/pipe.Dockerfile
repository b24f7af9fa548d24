# expect: dockerfile-pipefail at stage[0].RUN[0]
# expect: dockerfile-pipefail at stage[1].RUN[0]
FROM debian:12
RUN curl -fsSL https://example.com/x.tgz | tar xz
FROM debian:12
SHELL ["/bin/bash", "-c"]
RUN wget -O- https://example.com/y | tar x
