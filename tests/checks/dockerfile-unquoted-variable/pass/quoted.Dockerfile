FROM debian:12
RUN rm -f "$HOME/cache/x.tmp" && cp "$SRC/a.conf" "${DEST}/" && echo $HOME && mkdir -p /opt/$((1+1))
