# expect: dockerfile-rm-unset-variable at stage[0].RUN[0]
# expect: dockerfile-rm-unset-variable at stage[0].RUN[0]
FROM debian:12
RUN rm -rf "$PREFIX/"* ${BUILD_DIR}/obj
