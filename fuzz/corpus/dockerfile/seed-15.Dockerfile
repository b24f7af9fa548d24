# expect: dockerfile-apt-unpinned at stage[0].RUN[0]
# expect: dockerfile-apt-unpinned at stage[0].RUN[0]
FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends -t bookworm-backports curl git=1:2.39.5-0+deb12u1 ca-certificates && rm -rf /var/lib/apt/lists/*
