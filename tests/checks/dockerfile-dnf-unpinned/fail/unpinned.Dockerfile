# expect: dockerfile-dnf-unpinned at stage[0].RUN[0]
FROM fedora:40
RUN dnf install -y httpd && dnf clean all
