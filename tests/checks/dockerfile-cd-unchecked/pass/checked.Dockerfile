FROM debian:12
RUN cd /src && make install
RUN cd /src || exit 1; make
RUN set -eux; cd /src; make
RUN <<EOF
set -e
cd /build
make
EOF
RUN cd /tmp
