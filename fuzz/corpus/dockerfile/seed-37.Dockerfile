# expect: dockerfile-first-instruction at RUN[0]
RUN echo hi
FROM debian:12
