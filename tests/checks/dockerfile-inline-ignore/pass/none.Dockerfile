FROM debian:12
# a plain comment mentioning hadolint
RUN echo hi
