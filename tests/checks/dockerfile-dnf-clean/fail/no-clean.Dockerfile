# expect: dockerfile-dnf-clean at stage[0].RUN[0]
FROM fedora:40
RUN microdnf install -y curl-8.6.0
