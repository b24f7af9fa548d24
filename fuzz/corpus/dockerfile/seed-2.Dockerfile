FROM debian:12
ADD rootfs.tar.xz /
ADD https://example.com/x /x
COPY app.conf /etc/app/
