# expect: dockerfile-apt-recommends at stage[0].RUN[0]
FROM debian:12
RUN apt-get install -y curl=7.88.1-10+deb12u8
