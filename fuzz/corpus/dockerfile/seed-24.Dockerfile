FROM debian:12
RUN chmod 755 /app/bin && chmod 644 /app/conf && chmod u+w /data && chmod 1775 /shared
