# expect: dockerfile-pointless-command at stage[0].RUN[0]
# expect: dockerfile-pointless-command at stage[0].RUN[0]
FROM debian:12
RUN service nginx start && ps aux
