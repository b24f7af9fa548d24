# expect: dockerfile-unquoted-variable at stage[0].RUN[0]
# expect: dockerfile-unquoted-variable at stage[0].RUN[1]
FROM debian:12
RUN rm -f $HOME/cache/*.tmp
RUN cp "$SRC"/a.conf ${DEST}/
