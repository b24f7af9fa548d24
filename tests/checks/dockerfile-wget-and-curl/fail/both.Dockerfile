# expect: dockerfile-wget-and-curl at stage[0].RUN[1]
FROM debian:12
RUN wget -q https://example.com/a
RUN curl -fsSO https://example.com/b
