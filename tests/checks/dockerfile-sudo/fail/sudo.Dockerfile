# expect: dockerfile-sudo at stage[0].RUN[0]
# expect: dockerfile-sudo at stage[0].RUN[1]
FROM debian:12
RUN sudo apt-get update
RUN <<EOF
set -e
sudo make install
EOF
