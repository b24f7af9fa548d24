# expect: dockerfile-useradd-high-uid at stage[0].RUN[0]
FROM debian:12
RUN useradd -u 1000000 app
