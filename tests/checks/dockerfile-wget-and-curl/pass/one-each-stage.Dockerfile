FROM debian:12
RUN wget -q https://example.com/a
FROM debian:12
RUN curl -fsSO https://example.com/b
