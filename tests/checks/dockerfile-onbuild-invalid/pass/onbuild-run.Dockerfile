FROM debian:12
ONBUILD RUN echo built
ONBUILD COPY . /src
