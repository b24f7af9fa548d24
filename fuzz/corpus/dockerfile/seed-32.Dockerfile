FROM debian:12
RUN curl -fsSLo /tmp/i.sh https://get.example.com \
 && echo "0000000000000000000000000000000000000000000000000000000000000000  /tmp/i.sh" | sha256sum -c - \
 && sh /tmp/i.sh
RUN curl -fsSL https://example.com/x.tgz | tar xz
