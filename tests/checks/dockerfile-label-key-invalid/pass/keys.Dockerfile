FROM debian:12
LABEL org.opencontainers.image.source=https://x io.k8s.display-name=app version=1
