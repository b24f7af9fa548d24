FROM fedora:40
RUN dnf install -y httpd-2.4.62 && microdnf install -y curl-8.6.0 && dnf module install -y nodejs:20 && dnf clean all
