# expect: dockerfile-cd at stage[0].RUN[0]
FROM debian:12
RUN cd /src && make
