# expect: dockerfile-cd-unchecked at stage[0].RUN[0]
# expect: dockerfile-cd-unchecked at stage[0].RUN[1]
FROM debian:12
RUN cd /src; make install
RUN <<EOF
cd /build
make
EOF
