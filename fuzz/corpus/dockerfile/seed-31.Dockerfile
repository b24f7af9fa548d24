# expect: dockerfile-curl-pipe-shell at stage[0].RUN[0]
# expect: dockerfile-curl-pipe-shell at stage[0].RUN[1]
# expect: dockerfile-curl-pipe-shell at stage[0].RUN[2]
FROM debian:12
RUN curl -fsSL https://get.example.com | sh
RUN wget -qO- https://example.com/install.py | sudo python3 -
RUN set -e; curl -s https://x.example.com/i.sh | bash -s -- --yes
