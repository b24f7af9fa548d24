FROM debian:12
RUN apt-get install -y --no-install-recommends a=1 && apt-get install -y -o APT::Install-Recommends=false b=1
