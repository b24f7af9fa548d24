# expect: dockerfile-consecutive-run at stage[0].RUN[1]
FROM debian:12
RUN mkdir /a
# a comment does not separate them
RUN mkdir /b
