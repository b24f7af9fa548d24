# expect: dockerfile-copy-dest-slash at stage[0].COPY[0]
FROM debian:12
COPY a.txt b.txt /app
