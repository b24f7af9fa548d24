# expect: dockerfile-secret-in-env at stage[0].ENV[0]
# expect: dockerfile-secret-in-env at stage[0].ARG[0]
FROM debian:12
ENV GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyzAB LOG_LEVEL=info
ARG DB_PASSWORD=s3cr3t-Passw0rd!
