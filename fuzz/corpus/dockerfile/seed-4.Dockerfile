FROM debian:12
ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 https://example.com/tool.tar.gz /opt/
ADD rootfs.tar.gz /
