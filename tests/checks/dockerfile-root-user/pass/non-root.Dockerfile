FROM debian:12 AS base
USER root
RUN echo install
USER 10001:10001
FROM base
CMD ["run"]
