FROM debian:12
HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1
