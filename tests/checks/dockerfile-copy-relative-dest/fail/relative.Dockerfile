# expect: dockerfile-copy-relative-dest at stage[0].COPY[0]
FROM debian:12
COPY app.py app/
WORKDIR /srv
COPY more.py .
