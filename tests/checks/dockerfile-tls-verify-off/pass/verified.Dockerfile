FROM debian:12
RUN curl -fsSL https://a.example.com/x && wget https://b.example.com/y
RUN git clone https://git.example.com/r.git && npm config set strict-ssl true
ENV NODE_TLS_REJECT_UNAUTHORIZED=1
