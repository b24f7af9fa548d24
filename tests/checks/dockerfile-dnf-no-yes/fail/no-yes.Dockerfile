# expect: dockerfile-dnf-no-yes at stage[0].RUN[0]
# expect: dockerfile-dnf-no-yes at stage[0].RUN[1]
FROM fedora:40
RUN dnf install httpd-2.4.62 && dnf clean all
RUN microdnf install curl-8.6.0 && microdnf clean all
