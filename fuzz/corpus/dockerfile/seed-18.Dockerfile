FROM debian:12
RUN apt-get install -y --no-install-recommends curl=1 && apt-cache policy curl
