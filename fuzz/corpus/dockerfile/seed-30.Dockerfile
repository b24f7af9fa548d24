FROM golang:1.22 AS Builder
FROM debian:12
COPY --from=builder /out /app
COPY --from=0 /out /app2
COPY --from=nginx:1.27 /etc/nginx /etc/nginx
COPY --from=ghcr.io/org/tools /bin/x /bin/x
