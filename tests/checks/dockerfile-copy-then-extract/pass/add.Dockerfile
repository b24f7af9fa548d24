FROM debian:12
ADD dist/app-1.0.tar.gz /opt/
COPY notes.txt /tmp/
RUN tar -cf /tmp/backup.tar /etc
