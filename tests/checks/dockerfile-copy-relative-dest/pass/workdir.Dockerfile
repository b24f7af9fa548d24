FROM debian:12 AS base
WORKDIR /srv
FROM base
COPY app.py app/
FROM debian:12
COPY app.py /app/
COPY conf $CONF_DIR
