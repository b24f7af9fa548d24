FROM debian:12
RUN mkdir /a
WORKDIR /a
RUN mkdir /b
RUN --mount=type=cache,target=/root/.cache make
RUN a && b && c
