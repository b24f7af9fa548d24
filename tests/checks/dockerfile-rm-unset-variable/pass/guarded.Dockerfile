FROM debian:12
RUN rm -rf "${PREFIX:?}/"* /tmp/build "$(pwd)/obj" && rm -f "$F/x"
