FROM debian:12
COPY a.txt b.txt /app/
COPY a.txt /app
COPY ["a", "b", "/dst/"]
