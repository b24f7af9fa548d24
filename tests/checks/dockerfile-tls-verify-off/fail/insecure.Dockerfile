# expect: dockerfile-tls-verify-off at stage[0].RUN[0]
# expect: dockerfile-tls-verify-off at stage[0].RUN[0]
# expect: dockerfile-tls-verify-off at stage[0].RUN[1]
# expect: dockerfile-tls-verify-off at stage[0].RUN[1]
# expect: dockerfile-tls-verify-off at stage[0].RUN[2]
# expect: dockerfile-tls-verify-off at stage[0].ENV[0]
# expect: dockerfile-tls-verify-off at stage[0].ARG[0]
FROM debian:12
RUN curl -k https://a.example.com/x && wget --no-check-certificate https://b.example.com/y
RUN pip install --trusted-host pypi.example.com pkg==1 && npm config set strict-ssl false
RUN git -c http.sslVerify=false clone https://git.example.com/r.git
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
ARG PIP_TRUSTED_HOST=pypi.example.com
