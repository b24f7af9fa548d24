FROM fedora:40
RUN dnf install -y httpd-2.4.62 && dnf clean all
RUN --mount=type=cache,target=/var/cache/dnf dnf install -y git-2.46.0
