FROM debian:12
RUN apt-get install -y --no-install-recommends procps=2:4.0.2-3 && echo service
