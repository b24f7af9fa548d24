FROM debian:12
USER root
RUN apt-get update && echo sudo
USER 10001
