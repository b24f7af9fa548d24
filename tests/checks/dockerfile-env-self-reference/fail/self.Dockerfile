# expect: dockerfile-env-self-reference at stage[0].ENV[0]
FROM debian:12
ENV APP_HOME=/app APP_BIN=${APP_HOME}/bin
