FROM debian:12
RUN useradd -u 10001 app && useradd -l -u 1000000 big && useradd --no-log-init --uid=2000000 other
