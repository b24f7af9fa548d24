# expect: dockerfile-chmod-777 at stage[0].RUN[0]
# expect: dockerfile-chmod-777 at stage[0].RUN[1]
FROM debian:12
RUN chmod -R 777 /app
RUN chmod a+w /data
