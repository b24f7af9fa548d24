FROM fedora:40
RUN dnf install -y httpd-2.4.62 && microdnf --assumeyes install curl-8.6.0 && dnf clean all
