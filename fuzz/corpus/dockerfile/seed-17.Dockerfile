# expect: dockerfile-apt at stage[0].RUN[0]
FROM debian:12
RUN apt install -y curl
