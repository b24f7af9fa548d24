FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8 ./local.deb foo/bookworm && rm -rf /var/lib/apt/lists/*
